"""WAL checkpoints off the request path.

In WAL mode SQLite copies the log back into the database file every 1000 pages, in whichever connection
commits at that moment, and syncs both files while it does: a request that happens to commit then waits
for two fsyncs, and with the server's event loop waiting on it, so does every other request of that
process. Here request connections never checkpoint; a thread of the server does, a little after writes
happen, with PASSIVE checkpoints that wait for no reader or writer. Durability is unchanged (WAL with
synchronous=NORMAL: a commit is in the log; the log is synced before it is copied back).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

INTERVAL_SECONDS = 0.25


class Checkpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection after commits, at most every INTERVAL."""

    def __init__(self, connect: Any, interval: float = INTERVAL_SECONDS) -> None:
        self._connect = connect
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
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except Exception:  # a failed checkpoint loses nothing: the log keeps the commits
                    logging.getLogger("rolegate.store").exception("WAL checkpoint failed")
        finally:
            with contextlib.suppress(Exception):
                connection.close()

    def close(self) -> None:
        self._stopped.set()
        self._dirty.set()
        self._thread.join(timeout=10)
