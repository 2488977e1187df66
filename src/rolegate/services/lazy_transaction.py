"""A transaction that begins on first use, so calls that never touch the store (GetCallerIdentity, or a
request answered from the authorization caches and refused) cost no database round trip."""

from __future__ import annotations

from contextlib import ExitStack
from types import TracebackType
from typing import Any

from rolegate.store.interface import Store, Transaction


class LazyTransaction:
    """Stands in for `Transaction`; `close()` commits (or rolls back on error) only what was opened."""

    __slots__ = ("_stack", "_store", "_tx", "_write")

    def __init__(self, store: Store, write: bool) -> None:
        self._store = store
        self._write = write
        self._stack = ExitStack()
        self._tx: Transaction | None = None

    @property
    def opened(self) -> bool:
        return self._tx is not None

    def _open(self) -> Transaction:
        if self._tx is None:
            self._tx = self._stack.enter_context(self._store.transaction(self._write))
        return self._tx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._open(), name)

    def __enter__(self) -> LazyTransaction:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stack.__exit__(kind, error, trace)
