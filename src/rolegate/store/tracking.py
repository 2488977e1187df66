"""A Store wrapper that counts committed writes per table, so caches above it can tell when to refresh.

A cache records the generations of the tables it read before reading them; a later lookup is valid only if
those generations are unchanged. Generations move only after a commit, so a reader never caches data that
is newer than its stamp claims, at worst older, which the next comparison discards. With several server
processes the counters are shared through a file (see generations.py).

Where writers take turns (SQLite), generations move before the next writer begins, so a write transaction
holding the lock knows that a table whose generation still equals an earlier stamp has had no commit since:
a record read after that stamp is still current (`LazyTransaction.unchanged_since_ahead`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from rolegate.store.generations import Generations
from rolegate.store.interface import Store, Transaction
from rolegate.store.records import Record


class TrackingStore:
    def __init__(self, inner: Store, generations: Generations | None = None) -> None:
        self.inner = inner
        self.generations = generations if generations is not None else Generations()
        # Whether generations move before the next writer begins: then a write transaction sees every
        # earlier commit in them (see `unchanged_since`).
        self.serializes_writers: bool = bool(getattr(inner, "serializes_writers", False))

    def transaction(
        self, write: bool = True, committed: Callable[[set[str]], None] | None = None
    ) -> AbstractContextManager[Transaction]:
        if self.serializes_writers:
            return self.inner.transaction(write, self._announcer(committed))
        return _BumpAfter(self.inner.transaction(write, committed), self.generations)

    def _announcer(self, committed: Callable[[set[str]], None] | None) -> Callable[[set[str]], None]:
        """The hook runs while the writers' lock is held: the bump is exclusive without a lock of its own."""
        bump = self.generations.bump

        def announce(tables: set[str]) -> None:
            bump(tables, True)
            if committed is not None:
                committed(tables)

        return announce

    def stamp(self, tables: tuple[str, ...]) -> tuple[int, ...]:
        return self.generations.stamp(tables)

    def prepare(self, *records: Record) -> None:
        prepare = getattr(self.inner, "prepare", None)  # a hint: stores (and test doubles) may lack it
        if prepare is not None:
            prepare(*records)

    def close(self) -> None:
        self.generations.close()
        self.inner.close()


class _BumpAfter:
    """Stores whose writers may commit concurrently (PostgreSQL): generations move after the commit."""

    __slots__ = ("block", "generations", "tx")

    def __init__(self, block: AbstractContextManager[Transaction], generations: Generations) -> None:
        self.block = block
        self.generations = generations

    def __enter__(self) -> Transaction:
        self.tx = self.block.__enter__()
        return self.tx

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        self.block.__exit__(kind, error, trace)
        if kind is None and self.tx.written:
            self.generations.bump(set(self.tx.written))
