"""WAL checkpoints off the request path.

In WAL mode SQLite copies the log back into the database file every 1000 pages, in whichever connection
commits at that moment, and syncs both files while it does: a request that happens to commit then waits
for two fsyncs, and with the server's event loop waiting on it, so does every other request of that
process. Here request connections never checkpoint; a thread of the server does, a little after writes
happen, with PASSIVE checkpoints that wait for no reader or writer. Durability is unchanged (WAL with
synchronous=NORMAL: a commit is in the log; the log is synced before it is copied back).

The log starts over from its beginning only when a writer begins after a checkpoint copied all of it back.
Under a steady stream of commits a PASSIVE checkpoint never gets to the end (writers keep adding frames), so
the log would grow without bound (8 MiB/s under the S3 benchmark). So a second pass runs while holding the
writers' lock (writer_lock.py), when no writer can add frames: it copies the few frames the first pass left,
and the next writer starts the log over. The first pass, without the lock, does most of the copying.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from rolegate.store.sql.writer_lock import WriterLock

INTERVAL_SECONDS = 0.25
CHECKPOINT = "PRAGMA wal_checkpoint(PASSIVE)"


class Checkpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection after commits, at most every INTERVAL;
    with `writers` (the store's WriterLock), a second pass holds it, so the log is copied back whole."""

    def __init__(self, connect: Any, interval: float = INTERVAL_SECONDS, writers: WriterLock | None = None) -> None:
        self._connect = connect
        self._writers = writers
        self._interval = interval
        self._dirty = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rolegate-checkpoints", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        if not self._dirty.is_set():  # already set until the next checkpoint: skip the condition's lock
            self._dirty.set()

    def _run(self) -> None:
        connection = self._connect()
        try:
            while not self._stopped.is_set():
                self._dirty.wait()
                if self._stopped.wait(self._interval):
                    break
                self._dirty.clear()
                try:
                    connection.execute(CHECKPOINT).fetchall()
                    if self._writers is not None:
                        self._writers.acquire()
                        try:
                            connection.execute(CHECKPOINT).fetchall()
                        finally:
                            self._writers.release()
                except Exception:  # a failed checkpoint loses nothing: the log keeps the commits
                    logging.getLogger("rolegate.store").exception("WAL checkpoint failed")
        finally:
            with contextlib.suppress(Exception):
                connection.close()

    def close(self) -> None:
        self._stopped.set()
        self._dirty.set()
        self._thread.join(timeout=10)
