"""Writers of one SQLite file take turns on a lock of their own instead of meeting SQLite's busy handler.

SQLite lets one writer in at a time; a writer that finds the lock taken sleeps 1, 2, 5, 10... ms before it
retries, so under concurrent writes most of a request's time would be spent asleep while the lock sits
free. Here writers queue on a thread lock (within a process) and an `flock` on a file beside the database
(across server processes): the next writer starts the moment the previous one commits. Other programs that
open the database still get SQLite's own locking, which stays in force underneath.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path


class WriterLock:
    def __init__(self, path: Path | None) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path is not None else None

    def acquire(self) -> None:
        self._lock.acquire()
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
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
