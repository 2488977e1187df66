"""A transaction that begins on first use, so calls that never touch the store (GetCallerIdentity, or a
request answered from the authorization caches and refused) cost no database round trip; a read-only one
that has not begun may answer key lookups from the read cache (read_cache.py explains why that is safe)."""

from __future__ import annotations

from contextlib import ExitStack
from types import TracebackType
from typing import Any

from rolegate.services.read_cache import R, ReadCache
from rolegate.store.interface import Store, Transaction
from rolegate.store.records import InlineBlob


class LazyTransaction:
    """Stands in for `Transaction`; `close()` commits (or rolls back on error) only what was opened."""

    __slots__ = ("_cache", "_stack", "_store", "_tx", "_write")

    def __init__(self, store: Store, write: bool, cache: ReadCache | None = None) -> None:
        self._store = store
        self._write = write
        self._cache = cache
        self._stack = ExitStack()
        self._tx: Transaction | None = None

    @property
    def write(self) -> bool:
        return self._write

    @property
    def opened(self) -> bool:
        return self._tx is not None

    def _open(self) -> Transaction:
        if self._tx is None:
            self._tx = self._stack.enter_context(self._store.transaction(self._write))
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
        overtaken by a commit before the write begins: the caller re-reads what it relies on inside it."""
        if self._cache is None or self._tx is not None:
            return self._open().get(kind, *key)
        return self._cache.get(_Snapshot(self._store), kind, key)

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
        self._stack.__exit__(kind, error, trace)


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
