"""The Store contract, run against the memory store and a real SQLite file."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegate.store.codec import to_payload
from rolegate.store.interface import Conflict, Store
from rolegate.store.records import Attachment, AuditEvent, InlineBlob, Role, S3Object, Session, User
from rolegate.store.sql import store as sql_store
from rolegate.store.sql.checkpoints import Checkpointer
from rolegate.store.sql.store import SqlStore
from rolegate.store.sql.writer_lock import _take

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _role(name: str, account: str = "111111111111", **extra: object) -> Role:
    return Role(account, name, f"AROA{name.upper():0<17}"[:21], "/", NOW, '{"Statement":[]}', **extra)  # type: ignore[arg-type]


def test_insert_get_and_case_insensitive_names(store: Store) -> None:
    with store.transaction() as tx:
        tx.insert(_role("Deployer", tags=(("team", "ops"),), last_used=NOW))
    with store.transaction() as tx:
        found = tx.get(Role, "111111111111", "deployer")
        assert found is not None
        assert found.name == "Deployer"
        assert found.tags == (("team", "ops"),)
        assert found.last_used == NOW
        assert tx.get(Role, "222222222222", "Deployer") is None


def test_insert_conflict_is_case_insensitive(store: Store) -> None:
    with store.transaction() as tx:
        tx.insert(_role("Deployer"))
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.insert(_role("DEPLOYER"))


def _write_two_then_fail(store: Store) -> None:
    with store.transaction() as tx:
        tx.insert(_role("A"))
        tx.insert(_role("B"))
        raise RuntimeError("boom")


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError):
        _write_two_then_fail(store)
    with store.transaction() as tx:
        assert tx.find(Role, account_id="111111111111") == []


def test_find_by_index_and_delete_where(store: Store) -> None:
    arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    with store.transaction() as tx:
        tx.insert(Attachment("111111111111", "role", "A", arn))
        tx.insert(Attachment("111111111111", "user", "u", arn))
        tx.insert(Attachment("111111111111", "role", "A", "arn:aws:iam::aws:policy/Other"))
    with store.transaction() as tx:
        assert [a.owner_name for a in tx.find(Attachment, policy_arn=arn)] == ["A", "u"]
        assert tx.count(Attachment, account_id="111111111111", owner_kind="role", owner_name="a") == 2
        assert tx.delete_where(Attachment, policy_arn=arn) == 2
        assert tx.count(Attachment, policy_arn=arn) == 0
    with pytest.raises(ValueError, match="cannot be searched"), store.transaction() as tx:
        tx.find(Role, description="x")


def test_put_replaces_and_delete_reports(store: Store) -> None:
    with store.transaction() as tx:
        tx.put(_role("A", description="one"))
        tx.put(_role("a", description="two"))
    with store.transaction() as tx:
        roles = tx.find(Role, account_id="111111111111")
        assert [(r.name, r.description) for r in roles] == [("a", "two")]
        assert tx.delete(Role, "111111111111", "A") is True
        assert tx.delete(Role, "111111111111", "A") is False


def test_sqlite_file_survives_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first = SqlStore(url)
    with first.transaction() as tx:
        tx.insert(User("111111111111", "natan", "AIDAEXAMPLE000000001", "/", NOW))
        tx.insert(
            Session(
                "ASIAEXAMPLE000000001",
                "111111111111",
                "role",
                "sealed",
                NOW,
                NOW,
                policy_arns=("arn:aws:iam::aws:policy/ReadOnlyAccess",),
                mfa_authenticated=True,
            )
        )
    first.close()
    second = SqlStore(url)
    with second.transaction() as tx:
        user = tx.get(User, "111111111111", "NATAN")
        session = tx.get(Session, "ASIAEXAMPLE000000001")
    second.close()
    assert user is not None
    assert user.user_id == "AIDAEXAMPLE000000001"
    assert session is not None
    assert session.policy_arns == ("arn:aws:iam::aws:policy/ReadOnlyAccess",)
    assert session.mfa_authenticated is True


OPS = st.lists(
    st.tuples(
        st.sampled_from(["insert", "put", "delete"]),
        st.sampled_from(["a", "A", "b", "c", "B"]),
        st.sampled_from(["x", "y"]),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_store_behaves_like_a_case_folding_dict(store: Store, ops: list[tuple[str, str, str]]) -> None:
    with store.transaction() as tx:
        tx.delete_where(Role, account_id="111111111111")
    model: dict[str, tuple[str, str]] = {}
    for op, name, description in ops:
        with store.transaction() as tx:
            if op == "insert":
                if name.lower() in model:
                    with pytest.raises(Conflict):
                        tx.insert(_role(name, description=description))
                else:
                    tx.insert(_role(name, description=description))
                    model[name.lower()] = (name, description)
            elif op == "put":
                tx.put(_role(name, description=description))
                model[name.lower()] = (name, description)
            else:
                assert tx.delete(Role, "111111111111", name) == (name.lower() in model)
                model.pop(name.lower(), None)
    with store.transaction() as tx:
        got = {r.name.lower(): (r.name, r.description) for r in tx.find(Role, account_id="111111111111")}
    assert got == model


def test_binary_fields_round_trip_outside_the_payload(store: Store) -> None:
    data = bytes(range(256)) * 3
    with store.transaction() as tx:
        tx.put(InlineBlob("blob1", data))
        tx.put(InlineBlob("empty", b""))
    with store.transaction(write=False) as tx:
        assert tx.get(InlineBlob, "blob1") == InlineBlob("blob1", data)
        assert [b.name for b in tx.find(InlineBlob)] == ["blob1", "empty"]
    with store.transaction() as tx:
        tx.put(InlineBlob("blob1", b"replaced"))
    with store.transaction(write=False) as tx:
        assert tx.get(InlineBlob, "blob1") == InlineBlob("blob1", b"replaced")
    assert "data" not in to_payload(InlineBlob("x", b"bytes"))


def test_concurrent_writers_of_two_stores_on_one_file_all_commit(tmp_path: Path) -> None:
    """Two stores stand for two server processes; each writer waits its turn on the writers' lock."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    stores = [SqlStore(url), SqlStore(url)]
    assert (tmp_path / "shared.sqlite.writers").exists()
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for step in range(40):
                with stores[number % 2].transaction() as tx:
                    tx.put(InlineBlob(f"w{number}-{step}", b"x" * step))
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with stores[0].transaction(write=False) as tx:
        assert tx.count(InlineBlob) == 240
    for opened in stores:
        opened.close()


def test_servers_checkpoint_the_log_in_a_thread_not_in_requests(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'server.sqlite'}", background_checkpoints=True)
    try:
        connection = store.engine.raw_connection()
        try:
            assert connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        finally:
            connection.close()
        assert store.checkpointer is not None
    finally:
        store.close()
    plain = SqlStore(f"sqlite:///{tmp_path / 'cli.sqlite'}")
    connection = plain.engine.raw_connection()
    try:
        assert connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # SQLite's default
    finally:
        connection.close()
        plain.close()


def test_the_checkpointer_runs_after_commits_only() -> None:
    ran: list[str] = []

    class Connection:
        def execute(self, sql: str) -> Connection:
            ran.append(sql)
            return self

        def fetchall(self) -> list[Any]:
            return []

        def close(self) -> None:
            ran.append("closed")

    checkpointer = Checkpointer(Connection, interval=0.01)
    time.sleep(0.1)
    assert ran == []  # nothing committed, nothing to copy back
    checkpointer.committed()
    for _ in range(100):
        if ran:
            break
        time.sleep(0.01)
    checkpointer.close()
    assert ran == ["PRAGMA wal_checkpoint(PASSIVE)", "closed"]


def test_the_second_checkpoint_pass_holds_the_writers_lock() -> None:
    ran: list[tuple[str, bool]] = []
    held = threading.Event()

    class Lock:
        def acquire(self) -> None:
            held.set()

        def release(self) -> None:
            held.clear()

    class Connection:
        def execute(self, sql: str) -> Connection:
            ran.append((sql, held.is_set()))
            return self

        def fetchall(self) -> list[Any]:
            return []

        def close(self) -> None:
            return None

    checkpointer = Checkpointer(Connection, interval=0.01, writers=Lock())  # type: ignore[arg-type]
    checkpointer.committed()
    for _ in range(100):
        if len(ran) >= 2:
            break
        time.sleep(0.01)
    checkpointer.close()
    assert ran[:2] == [("PRAGMA wal_checkpoint(PASSIVE)", False), ("PRAGMA wal_checkpoint(PASSIVE)", True)]
    assert not held.is_set()


def test_a_database_from_before_inline_blobs_gains_their_table_on_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'older.sqlite'}"
    SqlStore(url).close()
    with sqlite3.connect(tmp_path / "older.sqlite") as older:
        older.execute("DROP TABLE s3_inline_blobs")
    store = SqlStore(url)
    try:
        with store.transaction() as tx:
            tx.put(InlineBlob("kept", b"bytes"))
            tx.insert(AuditEvent("e1", NOW, "e1", "s3", "PutObject", "1" * 12, "arn", "127.0.0.1", "", "Allowed"))
        with store.transaction(write=False) as tx:
            assert tx.get(InlineBlob, "kept") == InlineBlob("kept", b"bytes")
            assert [e.event_id for e in tx.find(AuditEvent, request_id="e1")] == ["e1"]
    finally:
        store.close()


def test_deferred_binary_fields_are_loaded_by_get_and_left_out_by_find(store: Store) -> None:
    small = S3Object("b", "small", 5, '"e"', NOW, inline=True, data=b"bytes")
    large = S3Object("b", "large", 9, '"f"', NOW, blob="file-blob")
    with store.transaction() as tx:
        tx.put(small)
        tx.put(large)
    with store.transaction(write=False) as tx:
        assert tx.get(S3Object, "b", "small") == small
        assert tx.get(S3Object, "b", "large") == large  # no bytes in the row: None
        listed = tx.find(S3Object, bucket="b")
    assert [(o.key, o.data) for o in listed] == [("large", None), ("small", None)]
    assert listed[1] == S3Object("b", "small", 5, '"e"', NOW, inline=True)  # everything else is there


def test_a_database_from_before_object_bytes_in_rows_gains_the_column_on_open(tmp_path: Path) -> None:
    """Its objects table lacks the `data` column: opening adds it (NULL for every earlier row), and the
    earlier rows read back with no data while new ones keep theirs."""
    url = f"sqlite:///{tmp_path / 'older.sqlite'}"
    SqlStore(url).close()
    with sqlite3.connect(tmp_path / "older.sqlite") as older:
        older.execute("DROP TABLE s3_objects")
        older.execute(
            "CREATE TABLE s3_objects (bucket VARCHAR(2048) NOT NULL, key VARCHAR(2048) NOT NULL, "
            "payload TEXT NOT NULL, PRIMARY KEY (bucket, key))"
        )
        older.execute(
            "INSERT INTO s3_objects VALUES ('b', 'old', ?)",
            (to_payload(S3Object("b", "old", 3, '"e"', NOW, blob="inline-1", inline=True)),),
        )
    store = SqlStore(url)
    try:
        with store.transaction() as tx:
            tx.put(S3Object("b", "new", 3, '"e"', NOW, inline=True, data=b"new"))
        with store.transaction(write=False) as tx:
            old, new = tx.get(S3Object, "b", "old"), tx.get(S3Object, "b", "new")
        assert old is not None and old.blob == "inline-1" and old.data is None
        assert new is not None and new.data == b"new"
    finally:
        store.close()
    SqlStore(url).close()  # opening again finds the column there and leaves it


def test_a_prepared_record_is_written_from_the_row_encoded_before_its_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`prepare` encodes the record outside the writers' lock; the put inside uses that row, once, and only
    for that very record."""
    store = SqlStore(f"sqlite:///{tmp_path / 'prepared.sqlite'}")
    encoded: list[str] = []
    real_row = sql_store._row
    monkeypatch.setattr(sql_store, "_row", lambda record: encoded.append(record.key) or real_row(record))
    first = S3Object("b", "first", 1, '"e"', NOW, inline=True, data=b"1")
    other = S3Object("b", "other", 1, '"e"', NOW, inline=True, data=b"2")
    store.prepare(first)
    assert encoded == ["first"]
    with store.transaction() as tx:
        tx.put(other)  # not the prepared record: encoded in the transaction
        tx.put(first)  # the prepared row
        tx.put(first)  # used once: encoded again
    assert encoded == ["first", "other", "first"]
    with store.transaction(write=False) as tx:
        assert tx.get(S3Object, "b", "first") == first and tx.get(S3Object, "b", "other") == other
    store.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    etag=st.text(max_size=40),
    blob=st.text(max_size=40),
    size=st.integers(min_value=0, max_value=5 * 1024**4),
    inline=st.booleans(),
    parts=st.integers(min_value=0, max_value=10_000),
)
def test_get_fields_reads_what_get_decodes(
    store: Store, etag: str, blob: str, size: int, inline: bool, parts: int
) -> None:
    """The fields a caller asks for are those of the decoded record, whether the store reads them without
    decoding (SQLite's JSON functions) or not; scalar strings keep any character."""
    record = S3Object("b", "k\u00e9y", size, etag, NOW, blob=blob, parts_count=parts, inline=inline, data=b"x")
    names = ("etag", "blob", "size", "inline", "parts_count", "upload_id")
    with store.transaction() as tx:
        tx.put(record)
    with store.transaction(write=False) as tx:
        fields = tx.get_fields(S3Object, ("b", "k\u00e9y"), names)
        assert tx.get_fields(S3Object, ("b", "other"), names) is None
    assert fields == tuple(getattr(record, name) for name in names)
    assert [type(v) for v in fields] == [str, str, int, bool, int, str]


@pytest.mark.parametrize("blob", ["\x00", "a\x00b", "\ud800", "x\udfffy", "\ud7ff", "\\u0000", "\u00e9\u4e2d"])
def test_get_fields_gives_back_strings_sqlite_json_would_not(store: Store, blob: str) -> None:
    """SQLite's JSON functions cut strings at NUL and cannot return surrogates: such rows are decoded."""
    with store.transaction() as tx:
        tx.put(S3Object("b", "k", 1, '"e"', NOW, blob=blob, upload_id="u"))
    with store.transaction(write=False) as tx:
        assert tx.get_fields(S3Object, ("b", "k"), ("blob", "upload_id")) == (blob, "u")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    present=st.one_of(
        st.none(),
        st.tuples(
            st.one_of(st.sampled_from(["", "f", "\x00", "\x00f", "\ud800"]), st.text(max_size=8)),
            st.booleans(),
            st.sampled_from(["", "u1"]),
        ),
    ),
    expected=st.tuples(st.sampled_from(["", "f", "\x00", "\ud800"]), st.booleans(), st.sampled_from(["", "u1"])),
)
def test_put_if_replaces_only_a_record_holding_the_expected_fields(
    store: Store, present: tuple[str, bool, str] | None, expected: tuple[str, bool, str]
) -> None:
    """Written when no record has the key or the present one holds the expected values, whatever characters
    its strings hold (a NUL that SQLite's JSON functions would cut off must not make "\x00" look like "")."""
    with store.transaction() as tx:
        tx.delete(S3Object, "b", "k")
        if present is not None:
            tx.put(S3Object("b", "k", 1, '"old"', NOW, blob=present[0], inline=present[1], upload_id=present[2]))
    new = S3Object("b", "k", 2, '"new"', NOW, inline=True, data=b"ab")
    wanted = dict(zip(("blob", "inline", "upload_id"), expected, strict=True))
    with store.transaction() as tx:
        written = tx.put_if(new, wanted)
        assert (S3Object.TABLE in tx.written) is written
    assert written is (present is None or present == expected)
    with store.transaction(write=False) as tx:
        found = tx.get(S3Object, "b", "k")
    assert found is not None and found.etag == ('"new"' if written else '"old"')
    if written:
        assert found == new


def test_put_if_does_not_take_a_payload_lacking_a_field_for_its_default(tmp_path: Path) -> None:
    """A row written before a field existed cannot prove it holds the expected value: not replaced."""
    store = SqlStore(f"sqlite:///{tmp_path / 'lacking.sqlite'}")
    try:
        payload = to_payload(S3Object("b", "old", 3, '"e"', NOW, inline=True)).replace(',"upload_id":""', "")
        assert '"upload_id"' not in payload
        with store.transaction() as tx:
            tx.cursor.execute("INSERT INTO s3_objects (bucket, key, payload) VALUES ('b', 'old', ?)", (payload,))
        with store.transaction() as tx:
            replaced = tx.put_if(S3Object("b", "old", 1, '"n"', NOW, inline=True), {"upload_id": "", "inline": True})
        assert replaced is False
        with store.transaction(write=False) as tx:
            assert tx.get_fields(S3Object, ("b", "old"), ("etag", "upload_id")) == ('"e"', "")
    finally:
        store.close()


def test_get_fields_decodes_what_json_cannot_project_and_defaults_what_a_payload_lacks(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'fields.sqlite'}")
    try:
        record = S3Object("b", "k", 3, '"e"', NOW, inline=True, data=b"abc", tags=(("a", "1"),))
        with store.transaction() as tx:
            tx.put(record)
            # A row written before `parts_count` and `inline` existed: its payload lacks them.
            payload = to_payload(S3Object("b", "old", 3, '"e"', NOW, blob="f"))
            payload = payload.replace(',"inline":false', "").replace(',"parts_count":0', "")
            assert '"inline"' not in payload and '"parts_count"' not in payload
            tx.cursor.execute("INSERT INTO s3_objects (bucket, key, payload) VALUES ('b', 'old', ?)", (payload,))
        with store.transaction(write=False) as tx:
            # Not scalar payload fields: read by decoding the record.
            assert tx.get_fields(S3Object, ("b", "k"), ("last_modified", "tags", "data")) == (
                NOW,
                (("a", "1"),),
                b"abc",
            )
            assert tx.get_fields(S3Object, ("b", "old"), ("inline", "parts_count", "blob")) == (False, 0, "f")
    finally:
        store.close()


def test_a_prepared_batch_is_appended_from_rows_encoded_before_its_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit writer prepares a batch before it takes the writers' lock: nothing is encoded inside."""
    store = SqlStore(f"sqlite:///{tmp_path / 'batch.sqlite'}")
    encoded: list[str] = []
    real_row = sql_store._row
    monkeypatch.setattr(sql_store, "_row", lambda record: encoded.append(record.key) or real_row(record))
    batch = [S3Object("b", f"k{n}", 1, '"e"', NOW, inline=True, data=b"1") for n in range(3)]
    store.prepare(*batch)
    assert encoded == ["k0", "k1", "k2"]
    with store.transaction() as tx:
        tx.append_many(batch)
    assert encoded == ["k0", "k1", "k2"]  # none again inside the transaction
    with store.transaction() as tx:
        tx.append_many([S3Object("b", "late", 1, '"e"', NOW)])  # nothing prepared for it: encoded here
    assert encoded[-1] == "late"
    with store.transaction(write=False) as tx:
        assert [o.key for o in tx.find(S3Object, bucket="b")] == ["k0", "k1", "k2", "late"]
    store.close()


@pytest.mark.parametrize(("spin", "hold"), [(0.5, 0.01), (0.001, 0.05)], ids=["spins-until-free", "then-blocks"])
def test_a_writer_that_finds_the_file_lock_taken_waits_for_its_release(
    tmp_path: Path, spin: float, hold: float
) -> None:
    """Whether the waiter gets the lock while retrying without blocking or after it gives up and sleeps, it
    never gets it before the holder lets go (two descriptors exclude each other as two processes do)."""
    path = tmp_path / "db.writers"
    holder, waiter = os.open(path, os.O_RDWR | os.O_CREAT), os.open(path, os.O_RDWR)
    times: dict[str, float] = {}
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)

        def wait() -> None:
            _take(waiter, spin)
            times["acquired"] = time.perf_counter()

        thread = threading.Thread(target=wait)
        thread.start()
        time.sleep(hold)
        times["released"] = time.perf_counter()
        fcntl.flock(holder, fcntl.LOCK_UN)
        thread.join(5)
        assert not thread.is_alive()
        assert times["acquired"] >= times["released"]
    finally:
        os.close(holder)
        os.close(waiter)
