"""One table per record type: key and indexed fields as columns (folded where IAM compares without case),
binary fields in columns of their own, everything else in a JSON payload column. The schema is derived from
the records, so they cannot drift."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, LargeBinary, MetaData, String, Table, Text

from rolegate.store.records import ALL_RECORDS, Record

SCHEMA_VERSION = 1
metadata = MetaData()


def _build(kind: type[Record]) -> Table:
    columns: list[Column[Any]] = [Column(name, String(2048), primary_key=True) for name in kind.KEY]
    columns += [Column(name, String(2048), nullable=False, default="") for name in kind.INDEXED if name not in kind.KEY]
    columns.append(Column("payload", Text, nullable=False))
    columns += [Column(name, LargeBinary, nullable=False) for name in kind.BINARY]
    table = Table(kind.TABLE, metadata, *columns)
    for name in kind.INDEXED:
        Index(f"ix_{kind.TABLE}_{name}", table.c[name])
    return table


TABLES: dict[type[Record], Table] = {kind: _build(kind) for kind in ALL_RECORDS}


def table_for(kind: type[Record]) -> Table:
    return TABLES[kind]
