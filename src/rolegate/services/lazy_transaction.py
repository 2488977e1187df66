"""A transaction that begins on first use, so calls that never touch the store (GetCallerIdentity, or a
request answered from the authorization caches and refused) cost no database round trip; a read-only one
that has not begun may answer key lookups from the read cache (read_cache.py explains why that is safe)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from rolegate.services.read_cache import R, ReadCache
from rolegate.store.interface import Store, Transaction, key_of
from rolegate.store.records import InlineBlob, Record


class LazyTransaction:
    """Stands in for `Transaction`; `close()` commits (or rolls back on error) only what was opened."""

    __slots__ = ("_ahead", "_block", "_cache", "_store", "_tx", "_write", "_written")

    def __init__(self, store: Store, write: bool, cache: ReadCache | None = None) -> None:
        self._store = store
        self._write = write
        self._cache = cache
        self._block: AbstractContextManager[Transaction] | None = None
        self._tx: Transaction | None = None
        self._ahead: dict[tuple[type[Record], tuple[str, ...]], int] | None = None
        # WRITE_THROUGH rows this write transaction wrote (None: deleted), filed in the read cache once the
        # commit is announced (see `_committed`).
        self._written: dict[tuple[type[Record], tuple[str, ...]], Record | None] = {}

    @property
    def write(self) -> bool:
        return self._write

    @property
    def opened(self) -> bool:
        return self._tx is not None

    def _open(self) -> Transaction:
        if self._tx is None:
            block = self._store.transaction(self._write, self._committed if self._writes_through() else None)
            self._tx = block.__enter__()
            self._block = block
        return self._tx

    def _writes_through(self) -> bool:
        """Whether written rows can be filed in the read cache: a write transaction of a store whose writers
        take turns and announce their commits first (store/tracking.py)."""
        return self._write and self._cache is not None and self._cache.tracking.serializes_writers

    def _committed(self, _tables: set[str]) -> None:
        """Runs after the commit and its announcement, before the next writer may begin: each written row is
        the table's content at its present generation."""
        if self._cache is None:
            return
        for (kind, key), record in self._written.items():
            self._cache.file(self._cache.tracking.stamp((kind.TABLE,))[0], kind, key, record)

    def put(self, record: Record) -> None:
        self._open().put(record)
        self._note(record)

    def insert(self, record: Record) -> None:
        self._open().insert(record)
        self._note(record)

    def put_if(self, record: Record, expected: Mapping[str, Any]) -> bool:
        written = self._open().put_if(record, expected)
        if written:
            self._note(record)
        return written

    def _note(self, record: Record) -> None:
        if record.WRITE_THROUGH:
            self._written[(type(record), key_of(record))] = record

    def delete(self, kind: type[Record], *key: str) -> bool:
        deleted = self._open().delete(kind, *key)
        if kind.WRITE_THROUGH:
            self._written[(kind, key)] = None
        return deleted

    def delete_where(self, kind: type[Record], **where: Any) -> int:
        count = self._open().delete_where(kind, **where)
        for written in [k for k in self._written if k[0] is kind]:  # which rows went is not known here
            del self._written[written]
        return count

    def prepare(self, record: Record) -> None:
        if self._tx is None:
            self._store.prepare(record)

    def current_fields(
        self, kind: type[Record], key: tuple[str, ...], names: tuple[str, ...]
    ) -> tuple[Any, ...] | None:
        """Fields of a row in a write transaction: from the read cache when the row there is provably the row
        as it is (the table is unchanged since it was filed, and this transaction has not written it), else
        read from the store without decoding the whole record (`Transaction.get_fields`)."""
        tx = self._open()
        cache = self._cache
        if cache is not None and kind.WRITE_THROUGH and self._writes_through() and kind.TABLE not in tx.written:
            found, record = cache.current(kind, key)
            if found:
                return None if record is None else tuple(getattr(record, name) for name in names)
        return tx.get_fields(kind, key, names)

    def get(self, kind: type[R], *key: str) -> R | None:
        return self._open().get(kind, *key)

    def cached_get(self, kind: type[R], *key: str) -> R | None:
        """`get`, answered from the read cache when this read-only transaction has not begun yet."""
        if self._cache is None or self._write or self._tx is not None:
            return self._open().get(kind, *key)
        return self._cache.get(self, kind, key)

    def get_ahead(self, kind: type[R], *key: str) -> R | None:
        """`get` for a write call that has not begun its transaction: from the read cache, or a read snapshot
        of its own, so the write lock is not held while the caller works on the answer. The answer may be
        overtaken by a commit before the write begins: the caller confirms it inside (`unchanged_since_ahead`)
        or re-reads what it relies on."""
        if self._cache is None or self._tx is not None:
            return self._open().get(kind, *key)
        generation, found = self._cache.get_stamped(_Snapshot(self._store), kind, key)
        if self._ahead is None:
            self._ahead = {}
        self._ahead[(kind, key)] = generation
        return found

    def unchanged_since_ahead(self, kind: type[Record], *key: str) -> bool:
        """Inside the write transaction (opened here): True when no commit has touched `kind`'s table since
        `get_ahead` read this record, so it is still current. Exact only where writers take turns and
        announce their commits before the next one begins (store/tracking.py); elsewhere False, so the
        caller re-reads."""
        stamp = None if self._ahead is None else self._ahead.get((kind, key))
        cache = self._cache
        if stamp is None or cache is None or not self._writes_through():
            return False
        self._open()
        return cache.tracking.stamp((kind.TABLE,))[0] == stamp

    def inline_bytes(self, name: str) -> bytes | None:
        """An inline blob's bytes (immutable: cached by name whatever the transaction)."""
        if self._cache is None:
            found = self._open().get(InlineBlob, name)
            return None if found is None else found.data
        return self._cache.inline_bytes(self, name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._open(), name)

    def __enter__(self) -> LazyTransaction:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._block is not None:
            self._block.__exit__(kind, error, trace)


class _Snapshot:
    """One key lookup in a read transaction of its own."""

    __slots__ = ("_store",)

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, kind: type[R], *key: str) -> R | None:
        with self._store.transaction(write=False) as tx:
            return tx.get(kind, *key)


def get_ahead(tx: Transaction, kind: type[R], *key: str) -> R | None:
    """`LazyTransaction.get_ahead` for lazy transactions; plain ones read directly."""
    if isinstance(tx, LazyTransaction):
        return tx.get_ahead(kind, *key)
    return tx.get(kind, *key)


def unchanged_since_ahead(tx: Transaction, kind: type[Record], *key: str) -> bool:
    """`LazyTransaction.unchanged_since_ahead`; False for plain transactions (the caller re-reads)."""
    return isinstance(tx, LazyTransaction) and tx.unchanged_since_ahead(kind, *key)


def prepare(tx: Transaction, record: Record) -> None:
    """Tell the store of a lazy transaction that has not begun that `record` will be written next (see
    `Store.prepare`); nothing for other transactions."""
    if isinstance(tx, LazyTransaction):
        tx.prepare(record)


def current_fields(
    tx: Transaction, kind: type[Record], key: tuple[str, ...], names: tuple[str, ...]
) -> tuple[Any, ...] | None:
    """`LazyTransaction.current_fields` for lazy transactions; plain ones read the fields directly."""
    if isinstance(tx, LazyTransaction):
        return tx.current_fields(kind, key, names)
    return tx.get_fields(kind, key, names)


def cached_get(tx: Transaction, kind: type[R], *key: str) -> R | None:
    """A key lookup through the read cache when `tx` is a lazy transaction (plain ones read directly)."""
    if isinstance(tx, LazyTransaction):
        return tx.cached_get(kind, *key)
    return tx.get(kind, *key)


def inline_bytes(tx: Transaction, name: str) -> bytes | None:
    if isinstance(tx, LazyTransaction):
        return tx.inline_bytes(name)
    found = tx.get(InlineBlob, name)
    return None if found is None else found.data
