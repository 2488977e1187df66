"""SqlStore: the Store protocol over SQLAlchemy Core; one database transaction per `transaction()` block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select
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


class SqlTransaction:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _where(self, kind: type[Record], where: dict[str, Any]) -> Any:
        table = table_for(kind)
        clauses = [table.c[n] == str(folded(kind, n, v)) for n, v in where.items()]
        return and_(*clauses) if clauses else None

    def get(self, kind: type[R], *key: str) -> R | None:
        table = table_for(kind)
        condition = self._where(kind, dict(zip(kind.KEY, key, strict=True)))
        payload = self.connection.execute(select(table.c.payload).where(condition)).scalar_one_or_none()
        return None if payload is None else from_payload(kind, payload)

    def find(self, kind: type[R], **where: Any) -> list[R]:
        check_where(kind, where)
        table = table_for(kind)
        query = select(table.c.payload).order_by(*(table.c[n] for n in kind.KEY))
        condition = self._where(kind, where)
        if condition is not None:
            query = query.where(condition)
        return [from_payload(kind, p) for p in self.connection.execute(query).scalars()]

    def count(self, kind: type[R], **where: Any) -> int:
        check_where(kind, where)
        table = table_for(kind)
        query = select(func.count()).select_from(table)
        condition = self._where(kind, where)
        if condition is not None:
            query = query.where(condition)
        return int(self.connection.execute(query).scalar_one())

    def insert(self, record: Record) -> None:
        try:
            with self.connection.begin_nested():
                self.connection.execute(insert(table_for(type(record))).values(**_row(record)))
        except IntegrityError as error:
            raise Conflict(f"{type(record).__name__} exists") from error

    def put(self, record: Record) -> None:
        kind = type(record)
        self.delete(kind, *(str(getattr(record, n)) for n in kind.KEY))
        self.connection.execute(insert(table_for(kind)).values(**_row(record)))

    def delete(self, kind: type[R], *key: str) -> bool:
        condition = self._where(kind, dict(zip(kind.KEY, key, strict=True)))
        return self.connection.execute(delete(table_for(kind)).where(condition)).rowcount > 0

    def delete_where(self, kind: type[R], **where: Any) -> int:
        check_where(kind, where)
        statement = delete(table_for(kind))
        condition = self._where(kind, where)
        if condition is not None:
            statement = statement.where(condition)
        return int(self.connection.execute(statement).rowcount)


class SqlStore:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        metadata.create_all(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self.engine.begin() as connection:
            yield SqlTransaction(connection)

    def close(self) -> None:
        self.engine.dispose()
