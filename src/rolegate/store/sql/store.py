"""SqlStore: the Store protocol over a SQL database; one database transaction per `transaction()` block.

SQLAlchemy owns what it is good at: the URL, the dialect, the connection pool and the schema. Statements are
built with SQLAlchemy Core once per (record type, searched fields), compiled once per dialect, and executed
on the pooled driver connection directly: a request pays for the database work, not for an execution layer
around each statement (a read transaction costs ~25 µs instead of ~110 µs on SQLite). Each transaction
records which tables it wrote, so callers can invalidate caches precisely.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import threading
import typing
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnClause,
    Delete,
    Dialect,
    Insert,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rolegate.store.codec import from_payload, to_payload
from rolegate.store.interface import Conflict, R, check_where, folded, key_of
from rolegate.store.records import Record
from rolegate.store.sql.checkpoints import Checkpointer
from rolegate.store.sql.engine import make_engine
from rolegate.store.sql.schema import add_missing_binary_columns, metadata, table_for
from rolegate.store.sql.writer_lock import WriterLock


def _row(record: Record) -> dict[str, Any]:
    kind = type(record)
    values = {n: str(folded(kind, n, getattr(record, n))) for n in (*kind.KEY, *kind.INDEXED)}
    values["payload"] = to_payload(record)
    for name in kind.BINARY:
        values[name] = getattr(record, name)
    return values


class _PreparedRows(threading.local):
    """Rows of the records this thread said it will write next (`SqlStore.prepare`), by record identity."""

    rows: dict[int, tuple[Record, dict[str, Any]]] | None = None


_PREPARED = _PreparedRows()


def _row_of(record: Record) -> dict[str, Any]:
    """`_row`, or the row prepared for this very record before its transaction began (used once)."""
    rows = _PREPARED.rows
    if rows:
        entry = rows.pop(id(record), None)
        if entry is not None and entry[0] is record:
            return entry[1]
    return _row(record)


def _condition(kind: type[Record], fields: tuple[str, ...]) -> Any:
    table = table_for(kind)
    return and_(*(table.c[n] == bindparam(f"w_{n}") for n in fields)) if fields else None


def _build_select(kind: type[Record], fields: tuple[str, ...], loaded: tuple[str, ...] | None = None) -> Select[Any]:
    table = table_for(kind)
    binary = kind.BINARY if loaded is None else loaded
    query = select(table.c.payload, *(table.c[n] for n in binary)).order_by(*(table.c[n] for n in kind.KEY))
    condition = _condition(kind, fields)
    return query if condition is None else query.where(condition)


def _build_find(kind: type[Record], fields: tuple[str, ...]) -> Select[Any]:
    """A search: DEFERRED binary columns are left out (they come back None)."""
    return _build_select(kind, fields, tuple(n for n in kind.BINARY if n not in kind.DEFERRED))


def _build_count(kind: type[Record], fields: tuple[str, ...]) -> Select[Any]:
    query = select(func.count()).select_from(table_for(kind))
    condition = _condition(kind, fields)
    return query if condition is None else query.where(condition)


def _build_delete(kind: type[Record], fields: tuple[str, ...]) -> Delete:
    statement = delete(table_for(kind))
    condition = _condition(kind, fields)
    return statement if condition is None else statement.where(condition)


def _build_insert(kind: type[Record], _fields: tuple[str, ...]) -> Insert:
    table = table_for(kind)
    columns = (*kind.KEY, *(n for n in kind.INDEXED if n not in kind.KEY), "payload", *kind.BINARY)
    return insert(table).values({name: bindparam(name) for name in columns})


_DIALECT_INSERTS: dict[str, Any] = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


def _build_upsert(kind: type[Record], dialect_name: str, where: Any = None) -> Any:
    """Insert-or-replace by key in one statement (SQLite and PostgreSQL share the ON CONFLICT form); with
    `where`, a present row is replaced only where it holds (the statement then changes no row)."""
    dialect_insert = _DIALECT_INSERTS.get(dialect_name)
    if dialect_insert is None:
        return None
    table = table_for(kind)
    columns = (*kind.KEY, *(n for n in kind.INDEXED if n not in kind.KEY), "payload", *kind.BINARY)
    statement = dialect_insert(table).values({name: bindparam(name) for name in columns})
    replaced = {name: statement.excluded[name] for name in columns if name not in kind.KEY}
    return statement.on_conflict_do_update(index_elements=[table.c[n] for n in kind.KEY], set_=replaced, where=where)


def _build_guarded_upsert(kind: type[Record], names: tuple[str, ...]) -> Any:
    """SQLite: the upsert that replaces a present row only if its payload fields `names` equal the binds
    `x_<name>`. A payload the JSON functions would misread (`_unsafe`) or that lacks a field never matches,
    so the caller takes its careful path."""
    table = table_for(kind)
    matches = [func.json_extract(table.c.payload, literal_column(f"'$.{n}'")) == bindparam(f"x_{n}") for n in names]
    return _build_upsert(kind, "sqlite", and_(~_unsafe(kind), *matches))


_SCALARS: dict[Any, Callable[[Any], Any]] = {str: str, int: int, bool: bool}


# Escapes SQLite's JSON functions do not give back as Python does: NUL (they cut the string there) and
# surrogates (\ud800-\udfff; the test also catches \ud000-\ud7ff, which only costs a decode).
_NUL_ESCAPE: ColumnClause[Any] = literal_column("'\\u0000'")
_SURROGATE_ESCAPE: ColumnClause[Any] = literal_column("'\\ud'")
_ZERO: ColumnClause[Any] = literal_column("0")


def _unsafe(kind: type[Record]) -> Any:
    """Whether a row's payload holds an escape SQLite's JSON functions would read differently."""
    payload = table_for(kind).c.payload
    return func.instr(payload, _NUL_ESCAPE) + func.instr(payload, _SURROGATE_ESCAPE) > _ZERO


class _Projection:
    """Scalar payload fields of one row read by SQLite's JSON functions, so nothing is decoded in Python.
    A field the stored payload lacks (written before the field existed) reads as the field's default; a
    payload holding an escape those functions would read differently is decoded instead (`unsafe`)."""

    __slots__ = ("compiled", "converters", "defaults")

    def __init__(self, kind: type[Record], names: tuple[str, ...], dialect: Dialect) -> None:
        table = table_for(kind)
        unsafe = _unsafe(kind)
        # Nothing is extracted from an unsafe payload: a surrogate would not even come back as text.
        columns = [
            case((unsafe, None), else_=func.json_extract(table.c.payload, literal_column(f"'$.{name}'")))
            for name in names
        ]
        self.compiled = _Compiled(select(unsafe, *columns).where(_condition(kind, kind.KEY)), dialect)
        hints = typing.get_type_hints(kind)
        self.converters = tuple(_SCALARS[hints[name]] for name in names)
        fields = {f.name: f for f in dataclasses.fields(kind)}
        self.defaults = tuple(fields[name].default for name in names)

    @staticmethod
    def possible(kind: type[Record], names: tuple[str, ...], dialect: Dialect) -> bool:
        """SQLite, and only identifiers of payload fields typed str, int or bool."""
        return dialect.name == "sqlite" and _scalar_payload_fields(kind, names)

    def values(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            default if value is None else convert(value)
            for value, convert, default in zip(row[1:], self.converters, self.defaults, strict=True)
        )


def _scalar_payload_fields(kind: type[Record], names: tuple[str, ...]) -> bool:
    hints = typing.get_type_hints(kind)
    return all(n.isidentifier() and n not in kind.BINARY and hints.get(n) in _SCALARS for n in names)


def _json_comparable(value: Any) -> bool:
    """Whether SQLite's JSON functions give back a stored string equal to `value` as equal (no NUL, which
    they cut at, and no surrogate, which they cannot return)."""
    if not isinstance(value, str):
        return True
    return "\x00" not in value and (value.isascii() or not any("\ud800" <= c <= "\udfff" for c in value))


def _binds(kind: type[Record], where: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, str]]:
    fields = tuple(sorted(where))
    return fields, {f"w_{n}": str(folded(kind, n, where[n])) for n in fields}


class _Compiled:
    """A prebuilt statement compiled for one dialect: its SQL text and how to order its parameters."""

    __slots__ = ("order", "sql")

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.order: tuple[str, ...] | None = tuple(compiled.positiontup or ()) if compiled.positional else None

    def parameters(self, binds: dict[str, Any]) -> Any:
        return binds if self.order is None else tuple(binds[name] for name in self.order)


_BUILDERS: dict[str, Any] = {
    "select": _build_select,
    "find": _build_find,
    "count": _build_count,
    "delete": _build_delete,
    "insert": _build_insert,
}


class _Statements:
    """Compiled statements per (statement kind, record type, fields) for one engine's dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: dict[tuple[str, type[Record], tuple[str, ...]], _Compiled] = {}
        self._upserts: dict[type[Record], _Compiled | None] = {}
        self._projections: dict[tuple[type[Record], tuple[str, ...]], _Projection | None] = {}
        self._guarded: dict[tuple[type[Record], tuple[str, ...]], _Compiled | None] = {}

    def projection(self, kind: type[Record], names: tuple[str, ...]) -> _Projection | None:
        """The compiled field projection, None where it is not possible (the caller decodes the record)."""
        key = (kind, names)
        if key not in self._projections:
            possible = _Projection.possible(kind, names, self.dialect)
            self._projections[key] = _Projection(kind, names, self.dialect) if possible else None
        return self._projections[key]

    def guarded_upsert(self, kind: type[Record], names: tuple[str, ...]) -> _Compiled | None:
        """`_build_guarded_upsert` compiled; None where it is not possible (the caller reads, then writes)."""
        key = (kind, names)
        if key not in self._guarded:
            possible = self.dialect.name == "sqlite" and _scalar_payload_fields(kind, names)
            self._guarded[key] = _Compiled(_build_guarded_upsert(kind, names), self.dialect) if possible else None
        return self._guarded[key]

    def get(self, name: str, kind: type[Record], fields: tuple[str, ...]) -> _Compiled:
        key = (name, kind, fields)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(_BUILDERS[name](kind, fields), self.dialect)
        return compiled

    def upsert(self, kind: type[Record]) -> _Compiled | None:
        """The one-statement insert-or-replace, None where the dialect has none (delete + insert then)."""
        key = ("upsert", kind, ())
        if key not in self._compiled:
            statement = _build_upsert(kind, self.dialect.name)
            self._upserts[kind] = None if statement is None else _Compiled(statement, self.dialect)
            self._compiled[key] = self._upserts[kind] or _Compiled(_build_insert(kind, ()), self.dialect)
        return self._upserts[kind]


class SqlTransaction:
    def __init__(self, cursor: Any, statements: _Statements, integrity_error: type[Exception], savepoints: bool):
        self.cursor = cursor
        self.statements = statements
        self.integrity_error = integrity_error
        self.savepoints = savepoints  # PostgreSQL aborts the whole transaction on an error; SQLite one statement
        self.written: set[str] = set()

    def _execute(self, name: str, kind: type[Record], fields: tuple[str, ...], binds: dict[str, Any]) -> Any:
        compiled = self.statements.get(name, kind, fields)
        self.cursor.execute(compiled.sql, compiled.parameters(binds))
        return self.cursor

    def get(self, kind: type[R], *key: str) -> R | None:
        fields, binds = _binds(kind, dict(zip(kind.KEY, key, strict=True)))
        row = self._execute("select", kind, fields, binds).fetchone()
        return None if row is None else from_payload(kind, row[0], row[1:])

    def get_fields(self, kind: type[R], key: tuple[str, ...], names: tuple[str, ...]) -> tuple[Any, ...] | None:
        projection = self.statements.projection(kind, names)
        if projection is not None:
            _, binds = _binds(kind, dict(zip(kind.KEY, key, strict=True)))
            self.cursor.execute(projection.compiled.sql, projection.compiled.parameters(binds))
            row = self.cursor.fetchone()
            if row is None:
                return None
            if not row[0]:  # the payload holds no escape the JSON functions would misread
                return projection.values(row)
        found = self.get(kind, *key)
        return None if found is None else tuple(getattr(found, name) for name in names)

    def find(self, kind: type[R], **where: Any) -> list[R]:
        check_where(kind, where)
        fields, binds = _binds(kind, where)
        return [from_payload(kind, row[0], row[1:]) for row in self._execute("find", kind, fields, binds).fetchall()]

    def count(self, kind: type[R], **where: Any) -> int:
        check_where(kind, where)
        fields, binds = _binds(kind, where)
        return int(self._execute("count", kind, fields, binds).fetchone()[0])

    def _insert(self, kind: type[Record], rows: list[dict[str, Any]]) -> None:
        compiled = self.statements.get("insert", kind, ())
        if self.savepoints:
            self.cursor.execute("SAVEPOINT rolegate_insert")
        try:
            self.cursor.executemany(compiled.sql, [compiled.parameters(row) for row in rows])
        except self.integrity_error as error:
            if self.savepoints:
                self.cursor.execute("ROLLBACK TO SAVEPOINT rolegate_insert")
            raise Conflict(f"a {kind.__name__} exists") from error
        if self.savepoints:
            self.cursor.execute("RELEASE SAVEPOINT rolegate_insert")

    def insert(self, record: Record) -> None:
        self._insert(type(record), [_row_of(record)])
        self.written.add(record.TABLE)

    def append_many(self, records: Sequence[Record]) -> None:
        """Insert new records of one kind in a single executemany (the audit trail's batches)."""
        if not records:
            return
        kind = type(records[0])
        self._insert(kind, [_row_of(r) for r in records])
        self.written.add(kind.TABLE)

    def put(self, record: Record) -> None:
        kind = type(record)
        upsert = self.statements.upsert(kind)
        if upsert is None:
            self.delete(kind, *(str(getattr(record, n)) for n in kind.KEY))
            self._insert(kind, [_row_of(record)])
        else:
            self.cursor.execute(upsert.sql, upsert.parameters(_row_of(record)))
        self.written.add(kind.TABLE)

    def put_if(self, record: Record, expected: Mapping[str, Any]) -> bool:
        kind = type(record)
        names = tuple(sorted(expected))
        guarded = self.statements.guarded_upsert(kind, names)
        if guarded is None or not all(map(_json_comparable, expected.values())):
            present = self.get_fields(kind, key_of(record), names)
            if present is not None and present != tuple(expected[n] for n in names):
                return False
            self.put(record)
            return True
        binds = _row_of(record)
        binds.update({f"x_{n}": expected[n] for n in names})
        self.cursor.execute(guarded.sql, guarded.parameters(binds))
        if self.cursor.rowcount < 1:
            return False
        self.written.add(kind.TABLE)
        return True

    def delete(self, kind: type[R], *key: str) -> bool:
        fields, binds = _binds(kind, dict(zip(kind.KEY, key, strict=True)))
        deleted = self._execute("delete", kind, fields, binds).rowcount > 0
        self.written.add(kind.TABLE)
        return bool(deleted)

    def delete_where(self, kind: type[R], **where: Any) -> int:
        check_where(kind, where)
        fields, binds = _binds(kind, where)
        self.written.add(kind.TABLE)
        return int(self._execute("delete", kind, fields, binds).rowcount)


class SqlStore:
    def __init__(self, url: str, background_checkpoints: bool = False) -> None:
        """`background_checkpoints` (servers): WAL checkpoints run in a thread, not in a committing request."""
        self.engine = make_engine(url, background_checkpoints)
        metadata.create_all(self.engine)
        add_missing_binary_columns(self.engine)
        self.statements = _Statements(self.engine.dialect)
        self.sqlite = self.engine.dialect.name == "sqlite"
        self.writers = WriterLock(_lock_path(self.engine.url.database) if self.sqlite else None)
        self.checkpointer: Checkpointer | None = None
        database = self.engine.url.database
        self._per_thread = threading.local() if self.sqlite and _lock_path(database) is not None else None
        self._owned: list[Any] = []
        self._owned_lock = threading.Lock()
        if background_checkpoints and self.sqlite and _lock_path(database) is not None:
            self.checkpointer = Checkpointer(lambda: sqlite3.connect(str(database), timeout=30), writers=self.writers)
        self.integrity_error: type[Exception] = self.engine.dialect.dbapi.IntegrityError  # type: ignore[union-attr]
        # SQLite files: writers take turns on `writers`, so `committed` hooks run before the next writer begins.
        self.serializes_writers = self.sqlite

    def transaction(
        self, write: bool = True, committed: Callable[[set[str]], None] | None = None
    ) -> AbstractContextManager[SqlTransaction]:
        """A write transaction takes SQLite's write lock up front (after its turn among writers, see
        writer_lock.py); read-only ones run on a snapshot. Commits when the block ends, rolls back when it
        raises; `committed` runs after the commit, while the writers' lock is still held."""
        return _Block(self, write, committed)

    def prepare(self, *records: Record) -> None:
        """Encode the records this thread will write next now, before its transaction takes the writers'
        lock, so the lock is held for the statements and not for the encoding. Replaces what was prepared
        before and not written."""
        _PREPARED.rows = {id(record): (record, _row(record)) for record in records}

    def _connection(self) -> tuple[Any, bool]:
        """(driver connection, whether to hand it back after the transaction). A SQLite file gets one
        connection per thread, kept for the thread's life: a pool checkout would cost more than a small
        transaction (threads are few: the event loop, the threadpool's, the audit writer)."""
        if self._per_thread is None:
            return self.engine.raw_connection(), True
        connection = getattr(self._per_thread, "connection", None)
        if connection is None:
            pooled = self.engine.raw_connection()  # connected through the engine: its pragmas are applied
            pooled.detach()
            connection = self._per_thread.connection = pooled.dbapi_connection
            with self._owned_lock:
                self._owned.append(connection)
        return connection, False

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
        with self._owned_lock:
            for connection in self._owned:
                connection.close()
            self._owned.clear()
        self.engine.dispose()
        self.writers.close()


class _Block:
    """One transaction block. A class rather than a generator-based context manager: a request opens one or
    two of these, and the generator protocol cost more than a small transaction's own work."""

    __slots__ = ("committed", "connection", "cursor", "locked", "pooled", "store", "tx", "write")

    def __init__(self, store: SqlStore, write: bool, committed: Callable[[set[str]], None] | None) -> None:
        self.store = store
        self.write = write
        self.committed = committed
        self.locked = write and store.sqlite

    def __enter__(self) -> SqlTransaction:
        store = self.store
        if self.locked:
            store.writers.acquire()
        try:
            self.connection, self.pooled = store._connection()
            try:
                self.cursor = self.connection.cursor()
                if store.sqlite:  # the driver is in autocommit mode (engine.py): we say where transactions start
                    self.cursor.execute("BEGIN IMMEDIATE" if self.write else "BEGIN")
            except BaseException:
                if self.pooled:
                    self.connection.close()
                raise
        except BaseException:
            if self.locked:
                store.writers.release()
            raise
        self.tx = SqlTransaction(self.cursor, store.statements, store.integrity_error, savepoints=not store.sqlite)
        return self.tx

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        store = self.store
        try:
            if kind is None:
                self._commit()
                if self.committed is not None and self.tx.written:
                    self.committed(set(self.tx.written))
            else:
                self._rollback()
        finally:
            self.cursor.close()
            if self.pooled:
                self.connection.close()  # back to the pool
            if self.locked:
                store.writers.release()

    def _commit(self) -> None:
        store = self.store
        try:
            if store.sqlite:
                self.cursor.execute("COMMIT")
            else:
                self.connection.commit()
        except BaseException:
            self._rollback()  # a failed COMMIT can leave the transaction open on a connection kept for reuse
            raise
        if self.write and store.checkpointer is not None:
            store.checkpointer.committed()

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):
            if self.store.sqlite:
                if self.connection.in_transaction:
                    self.cursor.execute("ROLLBACK")
            else:
                self.connection.rollback()


def _lock_path(database: str | None) -> Path | None:
    """The writers' lock file beside a SQLite database file; in-memory databases need only the thread lock."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(f"{database}.writers")
