"""The audit trail off the request path: what an event records, and that the background writer stores every
event, in batches, with flush() as the barrier and denials stored at once."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any

import pytest
from services_support import DEV, NOW, World, allow, doc

from rolegate.policy import Result
from rolegate.services.audit import MAX_PARAMS_CHARS, params_text, record_call, scrub
from rolegate.services.audit_writer import BATCH, AuditWriter
from rolegate.services.context import CallContext
from rolegate.sigv4.checksums import PayloadClaims, VerifiedBody
from rolegate.store.interface import Store, Transaction
from rolegate.store.records import AuditEvent, Record


def event(number: int, explanation: str = "") -> AuditEvent:
    return AuditEvent(
        f"ev-{number:05d}", NOW, f"ev-{number:05d}", "s3", "GetObject", DEV, "arn", "127.0.0.1", "ua", "Allowed",
        explanation=explanation,
    )  # fmt: skip


def stored_ids(store: Store) -> list[str]:
    with store.transaction(write=False) as tx:
        return [e.event_id for e in tx.find(AuditEvent)]


@pytest.fixture
def writer(store: Store) -> AuditWriter:
    return AuditWriter(store, background=True)


def test_flush_stores_every_queued_event_in_batches(store: Store, writer: AuditWriter) -> None:
    count = 2 * BATCH + 7
    for number in range(count):
        writer.record(event(number))
    writer.flush()
    assert stored_ids(store) == [f"ev-{n:05d}" for n in range(count)]


def test_flush_with_nothing_queued_returns_at_once(writer: AuditWriter) -> None:
    started = time.perf_counter()
    writer.flush()
    writer.flush()
    assert time.perf_counter() - started < 1.0


def test_flushes_from_many_threads_each_see_their_events(store: Store, writer: AuditWriter) -> None:
    def work(first: int) -> None:
        for number in range(first, first + 50):
            writer.record(event(number))
        writer.flush()
        assert {f"ev-{n:05d}" for n in range(first, first + 50)} <= set(stored_ids(store))

    threads = [threading.Thread(target=work, args=(first,)) for first in range(0, 400, 50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stored_ids(store)) == 400


def test_a_denial_is_stored_before_record_returns(store: Store, writer: AuditWriter) -> None:
    writer.record(event(1, explanation='{"decision": "ImplicitDeny"}'))
    assert stored_ids(store) == ["ev-00001"]


class FailingOnce:
    """A store whose first transaction fails, as a full disk would."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.failures = 1

    def transaction(self, write: bool = True) -> AbstractContextManager[Transaction]:
        if self.failures:
            self.failures -= 1
            return self._failing()
        return self.inner.transaction(write)

    @contextmanager
    def _failing(self) -> Iterator[Transaction]:
        raise OSError("disk full")
        yield  # pragma: no cover

    def close(self) -> None:
        self.inner.close()


def test_a_failed_batch_is_logged_and_the_writer_carries_on(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    writer = AuditWriter(FailingOnce(store), background=True)
    writer.record(event(1))
    writer.flush()
    writer.record(event(2))
    writer.flush()
    assert stored_ids(store) == ["ev-00002"]
    assert "could not store 1 audit events" in caplog.text


class Recording:
    """A store that notes which thread stored each batch, and can hold a batch until told to go on."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.threads: list[str] = []
        self.proceed = threading.Event()
        self.proceed.set()

    def transaction(self, write: bool = True) -> AbstractContextManager[Transaction]:
        return self._recorded(write)

    @contextmanager
    def _recorded(self, write: bool) -> Iterator[Transaction]:
        self.threads.append(threading.current_thread().name)
        assert self.proceed.wait(10)
        with self.inner.transaction(write) as tx:
            yield tx

    def close(self) -> None:
        self.inner.close()


def test_the_call_that_fills_a_batch_stores_it_on_its_own_thread(store: Store) -> None:
    recording = Recording(store)
    writer = AuditWriter(recording, background=True)
    for number in range(BATCH - 1):
        writer.record(event(number))
    assert stored_ids(store) == []  # pending: not one transaction per event
    writer.record(event(BATCH - 1))
    assert stored_ids(store) == [f"ev-{n:05d}" for n in range(BATCH)]  # stored before record returned
    assert recording.threads == [threading.current_thread().name]


def test_a_batch_that_does_not_fill_is_stored_by_the_timer(store: Store) -> None:
    recording = Recording(store)
    writer = AuditWriter(recording, background=True)
    writer.record(event(1))
    writer.record(event(2))
    deadline = time.monotonic() + 5
    while not stored_ids(store) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stored_ids(store) == ["ev-00001", "ev-00002"]
    assert recording.threads == ["rolegate-audit"]


def test_flush_waits_for_a_batch_another_thread_is_still_storing(store: Store) -> None:
    recording = Recording(store)
    writer = AuditWriter(recording, background=True)
    recording.proceed.clear()
    filler = threading.Thread(target=lambda: [writer.record(event(n)) for n in range(BATCH)])
    filler.start()
    deadline = time.monotonic() + 5
    while not recording.threads and time.monotonic() < deadline:
        time.sleep(0.005)
    assert recording.threads  # the filling thread has taken the batch and is storing it
    flushed = threading.Event()
    flusher = threading.Thread(target=lambda: (writer.flush(), flushed.set()))
    flusher.start()
    assert not flushed.wait(0.3)  # the batch is not stored yet, so flush() has not returned
    recording.proceed.set()
    assert flushed.wait(5)
    assert len(stored_ids(store)) == BATCH
    filler.join()
    flusher.join()


class Opaque:
    def __str__(self) -> str:
        return "<opaque>"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"Bucket": "b", "Key": 'k/ü\n"q"'},
        {"UserName": "u", "Password": "hunter2", "NewPassword": "x", "Tags": [{"Key": "k", "Value": "v"}]},
        {"When": datetime(2026, 1, 2, 3, 4, 5), "Thing": Opaque(), "Count": 3, "Flag": None, "Raw": b"\x00\xff"},
        {"PolicyDocument": "x" * (MAX_PARAMS_CHARS + 100), "SessionToken": "t"},
        {"Ratio": 1.5, "Odd": [float("nan"), float("inf"), -0.0], "Nested": {"a": [1, {"b": True}]}, 7: "int key"},
    ],
)
def test_request_parameters_are_recorded_as_json_without_secrets(params: dict[str, Any]) -> None:
    text = params_text(params)
    assert text == json.dumps(scrub(params), default=str)[:MAX_PARAMS_CHARS]
    assert "hunter2" not in text
    assert len(text) <= MAX_PARAMS_CHARS


def test_an_event_shows_the_last_denial_of_its_call(world: World) -> None:
    world.account(DEV)
    user = world.user(DEV, "alice", doc(allow("s3:GetObject")))
    services = world.services
    with services.store.transaction(write=False) as tx:
        call = CallContext(
            tx, user, world.clock, services.ids, services.sealer, "req-9", "s3", "CopyObject", NOW,
            source_ip="192.0.2.1", user_agent="a" * 600, authorizer=services.authorizer,
        )  # fmt: skip
        empty = record_call(call, {"Bucket": "b"}, None)
        allowed = services.authorizer.decide(call, "s3:GetObject", "arn:aws:s3:::b/k")
        denied = services.authorizer.decide(call, "s3:PutObject", "arn:aws:s3:::b/k")
        call.decisions.extend([allowed, denied, allowed])
        recorded = record_call(call, {"Bucket": "b", "SSECustomerKey": "secret"}, KeyError("boom"))
    assert (empty.decision, empty.gate, empty.resource, empty.action, empty.explanation) == (
        "NotEvaluated",
        "",
        "",
        "",
        "",
    )
    assert denied.result is Result.IMPLICIT_DENY
    assert recorded.decision == "ImplicitDeny"
    assert recorded.gate == "identity"
    assert (recorded.action, recorded.resource) == ("s3:PutObject", "arn:aws:s3:::b/k")
    assert recorded.error_code == "InternalFailure"
    assert recorded.user_agent == "a" * 512
    assert recorded.request_parameters == '{"Bucket": "b", "SSECustomerKey": "***"}'
    assert json.loads(recorded.explanation)["reason"] == "no_identity_policy_allow"
    assert (recorded.event_id, recorded.principal_arn, recorded.source_ip) == ("req-9", user.arn, "192.0.2.1")


def test_append_many_receives_whole_batches(store: Store) -> None:
    """One transaction per batch of queued events, never one per event."""
    sizes: list[int] = []

    class Counting:
        def transaction(self, write: bool = True) -> AbstractContextManager[Transaction]:
            return self._counted(write)

        @contextmanager
        def _counted(self, write: bool) -> Iterator[Transaction]:
            with store.transaction(write) as tx:
                original = tx.append_many

                def append_many(records: Sequence[Record]) -> None:
                    sizes.append(len(records))
                    original(records)

                tx.append_many = append_many  # type: ignore[method-assign]
                yield tx

        def close(self) -> None:
            store.close()

    writer = AuditWriter(Counting(), background=True)
    events = [event(number) for number in range(BATCH + 1)]
    for item in events:
        writer.record(item)
    writer.flush()
    assert sum(sizes) == BATCH + 1
    assert max(sizes) <= BATCH
    assert len(sizes) <= 10


def test_a_streamed_body_is_recorded_as_its_size() -> None:
    reader = VerifiedBody(io.BytesIO(b"x" * 1024), PayloadClaims(), 1024)
    assert json.loads(params_text({"Bucket": "b", "Key": "k", "Body": reader})) == {
        "Bucket": "b",
        "Key": "k",
        "Body": "<1024 bytes>",
    }
    assert json.loads(params_text({"Body": b"abc"}))["Body"] == "<3 bytes>"
    assert json.loads(params_text({"Body": "inline text"}))["Body"] == "inline text"
