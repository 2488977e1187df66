"""Writes audit events in batches, on the threads that serve the calls.

Each call's event joins a pending batch; the call that fills the batch (BATCH events) stores it, in one
transaction, on its own thread. A timer thread stores a batch that has waited INTERVAL_SECONDS without
filling, so events do not sit in memory when traffic stops. `flush()` stores what is pending and waits
for batches other threads are storing, so a reader after it sees every event recorded before it.

Why not a writer thread that builds and stores everything: in a server process the event loop and such a
thread take turns on the GIL. Whenever the loop released it (every SQLite statement does), the writer
could take it for as long as it had Python work queued, often while the loop held the writers' lock. On
the S3 benchmark's PutObject load (two processes), building the events on the loop's thread served 6%
more requests per second and storing the batches there too 9-10% more (2,510 -> 2,733 and 2,771,
alternating A/B), although the loop now does the audit work itself.

Denials are stored before the response leaves, so the id an AccessDenied carries can be explained at once by
any server process (`/_rolegate/decisions/ID`, DecodeAuthorizationMessage, `rolegate explain`)."""

from __future__ import annotations

import logging
import threading
import time

from rolegate.store.interface import Store
from rolegate.store.records import AuditEvent

BATCH = 64  # events per transaction: one call in BATCH pays for storing them (about a millisecond)
INTERVAL_SECONDS = 0.2


class AuditWriter:
    def __init__(self, store: Store, background: bool) -> None:
        """`background`: batch events (servers); otherwise each is stored as it is recorded."""
        self.store = store
        self.background = background
        self._lock = threading.Lock()
        self._pending: list[AuditEvent] = []
        self._since = 0.0  # monotonic time the oldest pending event was recorded
        self._storing = 0  # batches taken from `_pending` and not stored yet
        self._stored = threading.Condition(self._lock)
        if background:
            threading.Thread(target=self._run, name="rolegate-audit", daemon=True).start()

    def record(self, event: AuditEvent) -> None:
        if not self.background or event.explanation:
            self._store([event])
            return
        with self._lock:
            if not self._pending:
                self._since = time.monotonic()
            self._pending.append(event)
            if len(self._pending) < BATCH:
                return
            batch = self._take()
        self._store_taken(batch)

    def flush(self, timeout: float = 10.0) -> None:
        """Store what is pending, then wait (at most `timeout`) for batches other threads are storing."""
        if not self.background:
            return
        with self._lock:
            batch = self._take() if self._pending else None
        if batch is not None:
            self._store_taken(batch)
        with self._lock:
            self._stored.wait_for(lambda: self._storing == 0, timeout)

    def _take(self) -> list[AuditEvent]:
        """The pending batch, now this thread's to store (called with the lock held)."""
        batch, self._pending = self._pending, []
        self._storing += 1
        return batch

    def _store_taken(self, batch: list[AuditEvent]) -> None:
        try:
            self._store(batch)
        finally:
            with self._lock:
                self._storing -= 1
                self._stored.notify_all()

    def _run(self) -> None:
        while True:
            time.sleep(INTERVAL_SECONDS)
            with self._lock:
                if not self._pending or time.monotonic() - self._since < INTERVAL_SECONDS:
                    continue
                batch = self._take()
            self._store_taken(batch)

    def _store(self, events: list[AuditEvent]) -> None:
        try:
            prepare = getattr(self.store, "prepare", None)  # encoded before the writers' lock is taken
            if prepare is not None:
                prepare(*events)
            with self.store.transaction() as tx:
                tx.append_many(events)
        except Exception:  # the trail must never take the server down; say so without request content
            logging.getLogger("rolegate.audit").exception("could not store %d audit events", len(events))
