"""SqlStore: the Store protocol over SQLAlchemy Core; one database transaction per `transaction()` block.

Statements are built once per (record type, searched fields) with bind parameters, so a request pays only
for execution. Each transaction records which tables it wrote, so callers can invalidate caches precisely.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Delete, Dialect, Select, and_, bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from rolegate.store.codec import from_payload, to_payload
from rolegate.store.interface import Conflict, R, check_where, folded
from rolegate.store.records import Record
from rolegate.store.sql.engine import make_engine
from rolegate.store.sql.schema import metadata, table_for


def _row(record: Record) -> dict[str, Any]:
    kind = type(record)
    values = {n: str(folded(kind, n, getattr(record, n))) for n in (*kind.KEY, *kind.INDEXED)}
    values["payload"] = to_payload(record)
    return values


def _condition(kind: type[Record], fields: tuple[str, ...]) -> Any:
    table = table_for(kind)
    return and_(*(table.c[n] == bindparam(f"w_{n}") for n in fields)) if fields else None


_STATEMENTS: dict[tuple[str, type[Record], tuple[str, ...]], Any] = {}


def _memo(name: str, kind: type[Record], fields: tuple[str, ...], build: Any) -> Any:
    key = (name, kind, fields)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = build(kind, fields)
    return statement


class _Compiled:
    """A prebuilt statement compiled once for a dialect: SQL text and how to order its parameters."""

    __slots__ = ("order", "sql")

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.order: tuple[str, ...] | None = tuple(compiled.positiontup) if compiled.positional else None

    def parameters(self, binds: dict[str, str]) -> Any:
        return binds if self.order is None else tuple(binds[name] for name in self.order)


_COMPILED: dict[tuple[str, type[Record], tuple[str, ...], str], _Compiled] = {}


def _build_select(kind: type[Record], fields: tuple[str, ...]) -> Select[Any]:
    table = table_for(kind)
    query = select(table.c.payload).order_by(*(table.c[n] for n in kind.KEY))
    condition = _condition(kind, fields)
    return query if condition is None else query.where(condition)


def _build_count(kind: type[Record], fields: tuple[str, ...]) -> Select[Any]:
    query = select(func.count()).select_from(table_for(kind))
    condition = _condition(kind, fields)
    return query if condition is None else query.where(condition)


def _build_delete(kind: type[Record], fields: tuple[str, ...]) -> Delete:
    statement = delete(table_for(kind))
    condition = _condition(kind, fields)
    return statement if condition is None else statement.where(condition)


def _binds(kind: type[Record], where: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, str]]:
    fields = tuple(sorted(where))
    return fields, {f"w_{n}": str(folded(kind, n, where[n])) for n in fields}


class SqlTransaction:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.written: set[str] = set()
        self._cursor: Any = None

    def _rows(self, name: str, kind: type[Record], fields: tuple[str, ...], build: Any, binds: dict[str, str]) -> Any:
        """Run a prebuilt read on the driver's cursor, inside the transaction SQLAlchemy began: the reads
        that every request makes skip the per-statement machinery of SQLAlchemy's execution layer."""
        dialect = self.connection.dialect
        key = (name, kind, fields, dialect.name)
        compiled = _COMPILED.get(key)
        if compiled is None:
            compiled = _COMPILED[key] = _Compiled(_memo(name, kind, fields, build), dialect)
        if self._cursor is None:
            self._cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self._cursor.execute(compiled.sql, compiled.parameters(binds))
        return self._cursor

    def get(self, kind: type[R], *key: str) -> R | None:
        fields, binds = _binds(kind, dict(zip(kind.KEY, key, strict=True)))
        row = self._rows("select", kind, fields, _build_select, binds).fetchone()
        return None if row is None else from_payload(kind, row[0])

    def find(self, kind: type[R], **where: Any) -> list[R]:
        check_where(kind, where)
        fields, binds = _binds(kind, where)
        return [from_payload(kind, row[0]) for row in self._rows("select", kind, fields, _build_select, binds)]

    def count(self, kind: type[R], **where: Any) -> int:
        check_where(kind, where)
        fields, binds = _binds(kind, where)
        return int(self._rows("count", kind, fields, _build_count, binds).fetchone()[0])

    def insert(self, record: Record) -> None:
        try:
            with self.connection.begin_nested():
                self.connection.execute(insert(table_for(type(record))), _row(record))
        except IntegrityError as error:
            raise Conflict(f"{type(record).__name__} exists") from error
        self.written.add(record.TABLE)

    def append_many(self, records: Sequence[Record]) -> None:
        """Insert new records of one kind in a single executemany (the audit trail's batches)."""
        if not records:
            return
        kind = type(records[0])
        try:
            with self.connection.begin_nested():
                self.connection.execute(insert(table_for(kind)), [_row(r) for r in records])
        except IntegrityError as error:
            raise Conflict(f"a {kind.__name__} exists") from error
        self.written.add(kind.TABLE)

    def put(self, record: Record) -> None:
        kind = type(record)
        self.delete(kind, *(str(getattr(record, n)) for n in kind.KEY))
        self.connection.execute(insert(table_for(kind)), _row(record))
        self.written.add(kind.TABLE)

    def delete(self, kind: type[R], *key: str) -> bool:
        fields, binds = _binds(kind, dict(zip(kind.KEY, key, strict=True)))
        deleted = self.connection.execute(_memo("delete", kind, fields, _build_delete), binds).rowcount > 0
        self.written.add(kind.TABLE)
        return bool(deleted)

    def delete_where(self, kind: type[R], **where: Any) -> int:
        check_where(kind, where)
        fields, binds = _binds(kind, where)
        self.written.add(kind.TABLE)
        return int(self.connection.execute(_memo("delete", kind, fields, _build_delete), binds).rowcount)


class SqlStore:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        metadata.create_all(self.engine)

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[SqlTransaction]:
        """A write transaction takes SQLite's write lock up front; read-only ones run on a snapshot."""
        with self.engine.connect() as connection:
            connection.info["rolegate_write"] = write
            with connection.begin():
                yield SqlTransaction(connection)

    def close(self) -> None:
        self.engine.dispose()
