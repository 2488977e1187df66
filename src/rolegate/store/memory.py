"""An in-memory Store for unit tests: same semantics as the SQL store, snapshot-and-swap transactions."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from rolegate.store.interface import Conflict, R, check_where, folded, key_of, sort_records
from rolegate.store.records import Record

Tables = dict[type[Record], dict[tuple[Any, ...], Record]]


def _folded_key(record: Record) -> tuple[Any, ...]:
    kind = type(record)
    return tuple(folded(kind, n, v) for n, v in zip(kind.KEY, key_of(record), strict=True))


class MemoryTransaction:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.written: set[str] = set()

    def _table(self, kind: type[Record]) -> dict[tuple[Any, ...], Record]:
        return self.tables.setdefault(kind, {})

    def get(self, kind: type[R], *key: str) -> R | None:
        folded_key = tuple(folded(kind, n, v) for n, v in zip(kind.KEY, key, strict=True))
        found = self._table(kind).get(folded_key)
        return found if isinstance(found, kind) else None

    def get_fields(self, kind: type[R], key: tuple[str, ...], names: tuple[str, ...]) -> tuple[Any, ...] | None:
        found = self.get(kind, *key)
        return None if found is None else tuple(getattr(found, name) for name in names)

    def find(self, kind: type[R], **where: Any) -> list[R]:
        check_where(kind, where)
        wanted = {n: folded(kind, n, v) for n, v in where.items()}
        rows = [
            r
            for r in self._table(kind).values()
            if isinstance(r, kind) and all(folded(kind, n, getattr(r, n)) == v for n, v in wanted.items())
        ]
        if kind.DEFERRED:  # as a SQL search does: deferred binary fields are not loaded
            blank = dict.fromkeys(kind.DEFERRED)
            rows = [replace(r, **blank) for r in rows]
        return list(sort_records(rows))

    def count(self, kind: type[R], **where: Any) -> int:
        return len(self.find(kind, **where))

    def insert(self, record: Record) -> None:
        table = self._table(type(record))
        key = _folded_key(record)
        if key in table:
            raise Conflict(f"{type(record).__name__} {key} exists")
        table[key] = record
        self.written.add(record.TABLE)

    def append_many(self, records: Sequence[Record]) -> None:
        for record in records:
            self.insert(record)

    def put(self, record: Record) -> None:
        self._table(type(record))[_folded_key(record)] = record
        self.written.add(record.TABLE)

    def put_if(self, record: Record, expected: Mapping[str, Any]) -> bool:
        present = self._table(type(record)).get(_folded_key(record))
        if present is not None and any(getattr(present, n) != v for n, v in expected.items()):
            return False
        self.put(record)
        return True

    def delete(self, kind: type[R], *key: str) -> bool:
        folded_key = tuple(folded(kind, n, v) for n, v in zip(kind.KEY, key, strict=True))
        self.written.add(kind.TABLE)
        return self._table(kind).pop(folded_key, None) is not None

    def delete_where(self, kind: type[R], **where: Any) -> int:
        doomed = self.find(kind, **where)
        self.written.add(kind.TABLE)
        for record in doomed:
            self._table(kind).pop(_folded_key(record), None)
        return len(doomed)


class MemoryStore:
    def __init__(self) -> None:
        self._tables: Tables = {}
        self._lock = threading.RLock()

    serializes_writers = True  # one block at a time, under the store's lock

    @contextmanager
    def transaction(
        self, write: bool = True, committed: Callable[[set[str]], None] | None = None
    ) -> Iterator[MemoryTransaction]:
        with self._lock:
            working: Tables = {kind: dict(rows) for kind, rows in self._tables.items()}
            tx = MemoryTransaction(working)
            yield tx
            self._tables = working
            if committed is not None and tx.written:
                committed(set(tx.written))

    def prepare(self, *records: Record) -> None:
        return None  # nothing to encode

    def close(self) -> None:
        self._tables = {}
