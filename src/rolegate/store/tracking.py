"""A Store wrapper that counts committed writes per table, so caches above it can tell when to refresh.

A cache records the generations of the tables it read before reading them; a later lookup is valid only if
those generations are unchanged. Generations move only after a commit, so a reader never caches data that
is newer than its stamp claims, at worst older, which the next comparison discards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rolegate.store.interface import Store, Transaction


class TrackingStore:
    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self._generations: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Transaction]:
        with self.inner.transaction(write) as tx:
            yield tx
            written = set(tx.written)
        if written:
            with self._lock:
                for table in written:
                    self._generations[table] = self._generations.get(table, 0) + 1

    def stamp(self, tables: tuple[str, ...]) -> tuple[int, ...]:
        generations = self._generations
        return tuple(generations.get(t, 0) for t in tables)

    def close(self) -> None:
        self.inner.close()
