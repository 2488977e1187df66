"""Writers of one SQLite file take turns on a lock of their own instead of meeting SQLite's busy handler.

SQLite lets one writer in at a time; a writer that finds the lock taken sleeps 1, 2, 5, 10... ms before it
retries, so under concurrent writes most of a request's time would be spent asleep while the lock sits
free. Here writers queue on a thread lock (within a process) and an `flock` on a file beside the database
(across server processes): the next writer starts the moment the previous one commits. Other programs that
open the database still get SQLite's own locking, which stays in force underneath.

A process that finds the file lock taken first retries it without blocking for up to SPIN_SECONDS: the
holder is usually running on another core and done within a few hundred microseconds (one small write
transaction), while sleeping in `flock` costs a context switch each way and the holder a wake-up. Under the
S3 benchmark's concurrent PutObjects from two processes this served about 10% more requests per second
(2,349 -> 2,592 median, alternating A/B); the spin is bounded, so a holder that was preempted costs at most
that much CPU before the waiter sleeps.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

SPIN_SECONDS = 200e-6


class WriterLock:
    def __init__(self, path: Path | None) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path is not None else None

    def acquire(self) -> None:
        self._lock.acquire()
        try:
            if self._depth == 0 and self._fd is not None:
                _take(self._fd)
        except BaseException:
            self._lock.release()
            raise
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:  # a store dropped without close() must not leak the descriptor
        self.close()


def _take(descriptor: int, spin: float = SPIN_SECONDS) -> None:
    """The exclusive `flock`: retried without blocking for up to `spin` seconds, then waited for."""
    deadline = 0.0
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            now = time.perf_counter()
            if not deadline:
                deadline = now + spin
            elif now >= deadline:
                break
    fcntl.flock(descriptor, fcntl.LOCK_EX)
