"""A Store wrapper that counts committed writes per table, so caches above it can tell when to refresh.

A cache records the generations of the tables it read before reading them; a later lookup is valid only if
those generations are unchanged. Generations move only after a commit, so a reader never caches data that
is newer than its stamp claims, at worst older, which the next comparison discards. With several server
processes the counters are shared through a file (see generations.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rolegate.store.generations import Generations
from rolegate.store.interface import Store, Transaction


class TrackingStore:
    def __init__(self, inner: Store, generations: Generations | None = None) -> None:
        self.inner = inner
        self.generations = generations if generations is not None else Generations()

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Transaction]:
        with self.inner.transaction(write) as tx:
            yield tx
            written = set(tx.written)
        if written:
            self.generations.bump(written)

    def stamp(self, tables: tuple[str, ...]) -> tuple[int, ...]:
        return self.generations.stamp(tables)

    def close(self) -> None:
        self.generations.close()
        self.inner.close()
