"""Per-table write generations, in process memory or in a small file every server process maps.

Caches above the store (authentication, policy slices) are valid only while the generations of the tables
they read are unchanged. With several server processes on one database, each commit must move the counter
every process sees, so the counters live in a memory-mapped file: a writer bumps its tables' slots under an
exclusive `flock` after its commit, readers read the slots without locking (aligned 8-byte words). A reader
that races a commit caches data at least as new as its stamp claims, and the next comparison discards it.
Where every writer already holds one lock that excludes all others while it announces its commit (SQLite's
writers' lock, store/sql/writer_lock.py), the bump needs no lock of its own (`exclusive`).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
import zlib
from pathlib import Path

SLOTS = 256
WORD = struct.Struct("=Q")  # one slot: a native 8-byte word, as the memoryview over the file reads it


class Generations:
    """In-process counters (one server process)."""

    def __init__(self) -> None:
        self._values: dict[str, int] = {}
        self._lock = threading.Lock()

    def bump(self, tables: set[str], exclusive: bool = False) -> None:
        """`exclusive`: the caller holds a lock that keeps every other writer out (see the module doc)."""
        with self._lock:
            for table in tables:
                self._values[table] = self._values.get(table, 0) + 1

    def stamp(self, tables: tuple[str, ...]) -> tuple[int, ...]:
        values = self._values
        return tuple([values.get(t, 0) for t in tables])

    def close(self) -> None:
        return None


class SharedGenerations(Generations):
    """Counters in a file shared by every process serving the same data directory.

    Tables hash to one of 256 slots; two tables sharing a slot only cost an occasional extra cache refresh.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < SLOTS * WORD.size:
                os.ftruncate(descriptor, SLOTS * WORD.size)
            self._map = mmap.mmap(descriptor, SLOTS * WORD.size)
        finally:
            os.close(descriptor)
        self._lock_file = open(path, "rb")  # noqa: SIM115 - held for the life of the store, for flock
        self._words = memoryview(self._map).cast("Q")  # the slots as aligned native 8-byte words
        self._indexes: dict[tuple[str, ...], tuple[int, ...]] = {}

    @staticmethod
    def _slot(table: str) -> int:
        return zlib.crc32(table.encode()) % SLOTS

    def bump(self, tables: set[str], exclusive: bool = False) -> None:
        if exclusive:  # every process's writers take turns on one lock, held now: no other bump can interleave
            self._add(tables)
            return
        with self._lock:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            try:
                self._add(tables)
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def _add(self, tables: set[str]) -> None:
        for slot in {self._slot(t) for t in tables}:
            self._words[slot] += 1

    def stamp(self, tables: tuple[str, ...]) -> tuple[int, ...]:
        indexes = self._indexes.get(tables)
        if indexes is None:
            indexes = self._indexes[tables] = tuple(self._slot(t) for t in tables)
        words = self._words
        return tuple([words[i] for i in indexes])

    def close(self) -> None:
        self._words.release()
        self._map.close()
        self._lock_file.close()
