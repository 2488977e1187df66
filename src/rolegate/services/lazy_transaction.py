"""A transaction that begins on first use, so calls that never touch the store (GetCallerIdentity, or a
request answered from the authorization caches and refused) cost no database round trip; a read-only one
that has not begun may answer key lookups from the read cache (read_cache.py explains why that is safe)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from rolegate.services.read_cache import R, ReadCache
from rolegate.store.interface import Store, Transaction
from rolegate.store.records import InlineBlob, Record


class LazyTransaction:
    """Stands in for `Transaction`; `close()` commits (or rolls back on error) only what was opened."""

    __slots__ = ("_ahead", "_block", "_cache", "_store", "_tx", "_write")

    def __init__(self, store: Store, write: bool, cache: ReadCache | None = None) -> None:
        self._store = store
        self._write = write
        self._cache = cache
        self._block: AbstractContextManager[Transaction] | None = None
        self._tx: Transaction | None = None
        self._ahead: dict[tuple[type[Record], tuple[str, ...]], int] | None = None

    @property
    def write(self) -> bool:
        return self._write

    @property
    def opened(self) -> bool:
        return self._tx is not None

    def _open(self) -> Transaction:
        if self._tx is None:
            block = self._store.transaction(self._write)
            self._tx = block.__enter__()
            self._block = block
        return self._tx

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
        tracking = None if self._cache is None else self._cache.tracking
        if stamp is None or not self._write or tracking is None or not tracking.serializes_writers:
            return False
        self._open()
        return tracking.stamp((kind.TABLE,))[0] == stamp

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
