"""Writes audit events off the request path: events queue up and a background thread stores them in
batches (one transaction each). `flush()` waits until everything queued so far is stored.

Denials are stored before the response leaves, so the id an AccessDenied carries can be explained at once by
any server process (`/_rolegate/decisions/ID`, DecodeAuthorizationMessage, `rolegate explain`)."""

from __future__ import annotations

import logging
import queue
import threading

from rolegate.store.interface import Store
from rolegate.store.records import AuditEvent

BATCH = 500
INTERVAL_SECONDS = 0.05


class AuditWriter:
    def __init__(self, store: Store, background: bool) -> None:
        self.store = store
        self.background = background
        self._queue: queue.Queue[AuditEvent | threading.Event] = queue.Queue()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="rolegate-audit", daemon=True)
            self._thread.start()

    def record(self, event: AuditEvent) -> None:
        if not self.background or event.explanation:
            self._store([event])
            return
        self._queue.put(event)

    def flush(self, timeout: float = 10.0) -> None:
        if not self.background:
            return
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch: list[AuditEvent] = []
            markers: list[threading.Event] = []
            item: AuditEvent | threading.Event | None = first
            while item is not None:
                if isinstance(item, threading.Event):
                    markers.append(item)
                else:
                    batch.append(item)
                if len(batch) >= BATCH:
                    break
                try:
                    item = self._queue.get(timeout=INTERVAL_SECONDS if not markers else 0)
                except queue.Empty:
                    item = None
            self._store(batch)
            for marker in markers:
                marker.set()

    def _store(self, events: list[AuditEvent]) -> None:
        if not events:
            return
        try:
            with self.store.transaction() as tx:
                tx.append_many(events)
        except Exception:  # the trail must never take the server down; say so without request content
            logging.getLogger("rolegate.audit").exception("could not store %d audit events", len(events))
