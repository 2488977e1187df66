"""One table per record type: key and indexed fields as columns (folded where IAM compares without case),
binary fields in columns of their own, everything else in a JSON payload column. The schema is derived from
the records, so they cannot drift."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Engine, Index, LargeBinary, MetaData, String, Table, Text, inspect

from rolegate.store.records import ALL_RECORDS, Record

SCHEMA_VERSION = 1
metadata = MetaData()


def _build(kind: type[Record]) -> Table:
    columns: list[Column[Any]] = [Column(name, String(2048), primary_key=True) for name in kind.KEY]
    columns += [Column(name, String(2048), nullable=False, default="") for name in kind.INDEXED if name not in kind.KEY]
    columns.append(Column("payload", Text, nullable=False))
    columns += [Column(name, LargeBinary, nullable=True) for name in kind.BINARY]  # NULL: none (None)
    table = Table(kind.TABLE, metadata, *columns)
    for name in kind.INDEXED:
        Index(f"ix_{kind.TABLE}_{name}", table.c[name])
    return table


TABLES: dict[type[Record], Table] = {kind: _build(kind) for kind in ALL_RECORDS}


def table_for(kind: type[Record]) -> Table:
    return TABLES[kind]


def add_missing_binary_columns(engine: Engine) -> None:
    """A binary field added to a record after its table was created becomes a nullable column (NULL reads
    back as None), so a database from an earlier version keeps working. `create_all` adds only tables."""
    with engine.begin() as connection:
        existing = inspect(connection)
        for kind, table in TABLES.items():
            if not kind.BINARY or not existing.has_table(table.name):
                continue
            present = {column["name"] for column in existing.get_columns(table.name)}
            for name in kind.BINARY:
                if name not in present:
                    column_type = table.c[name].type.compile(dialect=engine.dialect)
                    connection.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN "{name}" {column_type}')
