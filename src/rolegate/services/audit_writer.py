"""Writes audit events off the request path: events queue up and a background thread stores them in
batches (one transaction each). `flush()` waits until everything queued so far is stored.

The thread wakes once per batch, not once per event: after the first event of a batch it lets the queue fill
for `INTERVAL_SECONDS` (a `flush()` cuts that short), then takes everything queued at once. Under load the
request threads only append to a queue, and the writer costs one wake-up and one transaction per interval.

Denials are stored before the response leaves, so the id an AccessDenied carries can be explained at once by
any server process (`/_rolegate/decisions/ID`, DecodeAuthorizationMessage, `rolegate explain`)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from rolegate.store.interface import Store
from rolegate.store.records import AuditEvent

BATCH = 500
INTERVAL_SECONDS = 0.05

# An event to store, a function that builds one (run on the writer's thread), or a flush marker to set once
# what precedes it is stored.
Item = AuditEvent | Callable[[], AuditEvent] | threading.Event


class AuditWriter:
    def __init__(self, store: Store, background: bool) -> None:
        self.store = store
        self.background = background
        self._queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._hurry = threading.Event()  # set by flush(): store what is queued without waiting out the interval
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="rolegate-audit", daemon=True)
            self._thread.start()

    def record(self, event: AuditEvent) -> None:
        if not self.background or event.explanation:
            self._store([event])
            return
        self._queue.put(event)

    def record_later(self, build: Callable[[], AuditEvent]) -> None:
        """Queue an event that the writer's thread builds: request threads only hand over what it is made
        of, and the writer builds a batch's events one after another, which costs less per event than
        building each in the middle of its request. `build` must only read values that no longer change."""
        if not self.background:
            self._store([build()])
            return
        self._queue.put(build)

    def flush(self, timeout: float = 10.0) -> None:
        if not self.background:
            return
        done = threading.Event()
        self._queue.put(done)  # queued before the hurry signal, so the batch the signal releases contains it
        self._hurry.set()
        done.wait(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            self._hurry.wait(INTERVAL_SECONDS)
            self._hurry.clear()
            self._write([first, *self._drain()])

    def _drain(self) -> list[Item]:
        items: list[Item] = []
        try:
            while True:
                items.append(self._queue.get_nowait())
        except queue.Empty:
            return items

    def _write(self, items: list[Item]) -> None:
        """Store the events in order, BATCH per transaction, then release the flushes waiting on them."""
        events = [event for item in items if (event := _event_of(item)) is not None]
        for start in range(0, len(events), BATCH):
            self._store(events[start : start + BATCH])
        for item in items:
            if isinstance(item, threading.Event):
                item.set()

    def _store(self, events: list[AuditEvent]) -> None:
        if not events:
            return
        try:
            prepare = getattr(self.store, "prepare", None)  # encoded before the writers' lock is taken
            if prepare is not None:
                prepare(*events)
            with self.store.transaction() as tx:
                tx.append_many(events)
        except Exception:  # the trail must never take the server down; say so without request content
            logging.getLogger("rolegate.audit").exception("could not store %d audit events", len(events))


def _event_of(item: Item) -> AuditEvent | None:
    if isinstance(item, AuditEvent):
        return item
    if isinstance(item, threading.Event):
        return None
    try:
        return item()
    except Exception:  # one event that cannot be built must not cost the batch; say so without its content
        logging.getLogger("rolegate.audit").exception("could not build an audit event")
        return None
