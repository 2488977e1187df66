"""The Store protocol: typed records in and out, one transaction scope, no SQL types leaking out.

Every write happens inside `transaction()`: it commits when the block ends and rolls back when it raises,
so a failed request leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from rolegate.store.records import Record

R = TypeVar("R", bound=Record)


class Conflict(Exception):
    """An insert collided with an existing key (the service maps it to EntityAlreadyExists and the like)."""


class Transaction(Protocol):
    written: set[str]
    """Tables this transaction changed (for cache invalidation)."""

    def get(self, kind: type[R], *key: str) -> R | None:
        """The record with this key (folded fields compare case-insensitively), or None."""
        ...

    def get_fields(self, kind: type[R], key: tuple[str, ...], names: tuple[str, ...]) -> tuple[Any, ...] | None:
        """Some fields of the record with this key, in the order named, or None. For a caller that needs a few
        scalar fields of a record it will not keep: a store may read them without decoding the record."""
        ...

    def find(self, kind: type[R], **where: Any) -> list[R]:
        """Records whose key/indexed fields equal the given values, in key order."""
        ...

    def count(self, kind: type[R], **where: Any) -> int: ...

    def insert(self, record: Record) -> None:
        """Add a new record; raises Conflict when its key exists."""
        ...

    def append_many(self, records: Sequence[Record]) -> None:
        """Insert new records of one kind at once; raises Conflict (inserting none) when a key exists."""
        ...

    def put(self, record: Record) -> None:
        """Insert or replace by key."""
        ...

    def put_if(self, record: Record, expected: Mapping[str, Any]) -> bool:
        """Insert, or replace a present record only if its fields hold the `expected` values (scalars); False,
        writing nothing, when they do not. An overwrite that cares about the replaced record only when it is
        unusual need not read it first: the store checks inside the write."""
        ...

    def delete(self, kind: type[R], *key: str) -> bool: ...

    def delete_where(self, kind: type[R], **where: Any) -> int: ...


class Store(Protocol):
    def transaction(
        self, write: bool = True, committed: Callable[[set[str]], None] | None = None
    ) -> AbstractContextManager[Transaction]:
        """Commit on success, roll back on error; `write=False` promises the block only reads. `committed` is
        called with the tables a committed block wrote, before another writer of the store may begin (stores
        that say `serializes_writers`), so whoever holds the write lock sees every earlier commit announced."""
        ...

    def prepare(self, *records: Record) -> None:
        """A hint: `records` are about to be written by this thread; a store may do their encoding now,
        outside the transaction (and any lock it holds)."""
        ...

    def close(self) -> None: ...


def key_of(record: Record) -> tuple[str, ...]:
    return tuple(str(getattr(record, name)) for name in record.KEY)


def folded(kind: type[Record], name: str, value: Any) -> Any:
    return value.lower() if name in kind.FOLDED and isinstance(value, str) else value


def check_where(kind: type[Record], where: dict[str, Any]) -> None:
    searchable = set(kind.KEY) | set(kind.INDEXED)
    unknown = set(where) - searchable
    if unknown:
        raise ValueError(f"{kind.__name__} cannot be searched by {sorted(unknown)}")


def sort_records(records: Sequence[R]) -> Iterator[R]:
    return iter(sorted(records, key=lambda r: tuple(str(folded(type(r), n, getattr(r, n))) for n in r.KEY)))
