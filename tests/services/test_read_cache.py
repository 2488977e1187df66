"""The read cache answers key lookups of read-only calls from memory, and never serves a record once its
table has changed, in this process or another one sharing the database."""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rolegate.services.lazy_transaction import LazyTransaction, cached_get, current_fields, inline_bytes
from rolegate.services.read_cache import ReadCache
from rolegate.store.generations import SharedGenerations
from rolegate.store.records import Bucket, InlineBlob, S3Object
from rolegate.store.sql.store import SqlStore, SqlTransaction
from rolegate.store.tracking import TrackingStore

CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def bucket(policy: str = "") -> Bucket:
    return Bucket("cached", "111111111111", "us-east-1", CREATED, policy)


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db.sqlite'}"


def read(store: TrackingStore, cache: ReadCache) -> tuple[Bucket | None, bool]:
    """A read-only call's cached lookup, and whether it had to open its transaction."""
    with LazyTransaction(store, write=False, cache=cache) as tx:
        found = cached_get(tx, Bucket, "cached")
        return found, tx.opened


def write(store: TrackingStore, record: Bucket) -> None:
    with store.transaction() as tx:
        tx.put(record)


def test_a_hit_opens_no_transaction_and_a_commit_retires_it(database: str) -> None:
    store = TrackingStore(SqlStore(database))
    cache = ReadCache(store)
    assert read(store, cache) == (None, True)  # a miss (even of a missing record) reads the database
    assert read(store, cache) == (None, False)  # ... once
    write(store, bucket("v1"))
    found, opened = read(store, cache)
    assert found is not None and found.policy == "v1" and opened
    assert read(store, cache) == (found, False)
    write(store, bucket("v2"))
    found, _ = read(store, cache)
    assert found is not None and found.policy == "v2"


def test_another_process_commit_is_seen_through_shared_generations(database: str, tmp_path: Path) -> None:
    mine = TrackingStore(SqlStore(database), SharedGenerations(tmp_path / "generations"))
    theirs = TrackingStore(SqlStore(database), SharedGenerations(tmp_path / "generations"))
    cache = ReadCache(mine)
    write(theirs, bucket("v1"))
    assert read(mine, cache)[0] == bucket("v1")
    write(theirs, bucket("v2"))
    assert read(mine, cache)[0] == bucket("v2")
    without_sharing = TrackingStore(SqlStore(database))  # the control: private counters miss their commits
    stale_cache = ReadCache(without_sharing)
    assert read(without_sharing, stale_cache)[0] == bucket("v2")
    write(theirs, bucket("v3"))
    assert read(without_sharing, stale_cache)[0] == bucket("v2")
    assert read(mine, cache)[0] == bucket("v3")
    for store in (mine, theirs, without_sharing):
        store.close()


def test_write_calls_and_begun_transactions_read_the_database(database: str) -> None:
    store = TrackingStore(SqlStore(database))
    cache = ReadCache(store)
    write(store, bucket("v1"))
    read(store, cache)
    with LazyTransaction(store, write=True, cache=cache) as tx:
        tx.put(bucket("inside"))
        found = cached_get(tx, Bucket, "cached")
        assert found is not None and found.policy == "inside"
    with LazyTransaction(store, write=False, cache=cache) as tx:
        tx.find(Bucket)  # the snapshot began before the lookup: the cache may not be filled from it
        assert tx.opened
        found = cached_get(tx, Bucket, "cached")
        assert found is not None and found.policy == "inside"


def test_inline_bytes_are_kept_by_name_within_a_budget(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rolegate.services.read_cache.MAX_IMMUTABLE_BYTES", 10)
    store = TrackingStore(SqlStore(database))
    cache = ReadCache(store)
    with store.transaction() as tx:
        tx.put(InlineBlob("a", b"123456"))
        tx.put(InlineBlob("b", b"7890"))
        tx.put(InlineBlob("c", b"x"))
    with LazyTransaction(store, write=False, cache=cache) as tx:
        assert [inline_bytes(tx, n) for n in ("a", "b", "missing")] == [b"123456", b"7890", None]
    with LazyTransaction(store, write=False, cache=cache) as tx:
        assert inline_bytes(tx, "b") == b"7890" and not tx.opened  # within the budget: no database read
        assert inline_bytes(tx, "c") == b"x"  # 11 bytes: the least recently used ("a") leaves
    with LazyTransaction(store, write=False, cache=cache) as tx:
        assert inline_bytes(tx, "b") == b"7890" and not tx.opened
        assert inline_bytes(tx, "a") == b"123456" and tx.opened


def test_a_record_read_ahead_is_confirmed_current_by_generation_inside_the_write(database: str, tmp_path: Path) -> None:
    """A write call reads a record ahead, then opens its transaction: if no commit touched the table since
    (in this process or another sharing the database), the record is current without reading it again."""
    mine = TrackingStore(SqlStore(database), SharedGenerations(tmp_path / "generations"))
    theirs = TrackingStore(SqlStore(database), SharedGenerations(tmp_path / "generations"))
    cache = ReadCache(mine)
    write(mine, bucket("v1"))
    with LazyTransaction(mine, write=True, cache=cache) as tx:
        assert tx.get_ahead(Bucket, "cached") == bucket("v1") and not tx.opened
        assert tx.unchanged_since_ahead(Bucket, "cached") and tx.opened
    with LazyTransaction(mine, write=True, cache=cache) as tx:
        tx.get_ahead(Bucket, "cached")
        write(theirs, bucket("v2"))  # another process commits between the read ahead and the write
        assert not tx.unchanged_since_ahead(Bucket, "cached")
        assert tx.get(Bucket, "cached") == bucket("v2")
    with LazyTransaction(mine, write=True, cache=cache) as tx:
        assert not tx.unchanged_since_ahead(Bucket, "cached")  # nothing was read ahead
    for store in (mine, theirs):
        store.close()


def test_commits_are_announced_before_the_next_writer_may_begin(database: str, tmp_path: Path) -> None:
    """The generation bump runs after the commit and while the writers' lock is still held: a writer that
    gets the lock next sees every earlier commit in the generations."""
    store = TrackingStore(SqlStore(database), SharedGenerations(tmp_path / "generations"))
    seen: list[tuple[set[str], bool]] = []

    def committed(tables: set[str]) -> None:
        other = os.open(f"{tmp_path / 'db.sqlite'}.writers", os.O_RDWR)
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = False
            fcntl.flock(other, fcntl.LOCK_UN)
        except BlockingIOError:
            locked = True
        finally:
            os.close(other)
        seen.append((tables, locked))

    before = store.stamp((Bucket.TABLE,))
    with store.transaction(committed=committed) as tx:
        tx.put(bucket("v1"))
    assert seen == [({Bucket.TABLE}, True)]
    assert store.stamp((Bucket.TABLE,)) != before

    def rolled_back() -> None:
        with store.transaction(committed=committed) as tx:
            tx.put(bucket("v2"))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    with store.transaction(write=False, committed=committed) as tx:
        assert tx.get(Bucket, "cached") == bucket("v1")
    assert len(seen) == 1  # neither the rollback nor the read-only block announced anything
    store.close()


def test_records_carrying_bytes_are_cached_within_a_byte_budget(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rolegate.services.read_cache.MAX_RECORD_BYTES", 10)
    store = TrackingStore(SqlStore(database))
    cache = ReadCache(store)
    with store.transaction() as tx:
        for key in ("a", "b"):
            tx.put(S3Object("bkt", key, 6, '"e"', CREATED, inline=True, data=b"123456"))

    def lookup(key: str) -> bool:
        with LazyTransaction(store, write=False, cache=cache) as tx:
            found = cached_get(tx, S3Object, "bkt", key)
            assert found is not None and found.data == b"123456"
            return tx.opened

    assert lookup("a") and not lookup("a")  # read once, then from memory
    assert lookup("b")  # 12 bytes would pass the budget: the cache starts over with "b"
    assert not lookup("b") and lookup("a")
    store.close()


def obj(key: str, etag: str) -> S3Object:
    return S3Object("bkt", key, 1, etag, CREATED, inline=True, data=b"x")


def test_rows_a_writer_committed_are_current_for_the_next_writer_until_the_table_moves(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An object a write transaction put is filed in the read cache at the generation its commit moved the
    table to; the next writer finds it there without reading, unless any commit (here or in another
    process) touched the table since, or it wrote the row itself."""
    reads: list[tuple[str, ...]] = []
    read_fields = SqlTransaction.get_fields

    def counted(self: SqlTransaction, kind: type[S3Object], key: tuple[str, ...], names: tuple[str, ...]) -> Any:
        reads.append(key)
        return read_fields(self, kind, key, names)

    monkeypatch.setattr(SqlTransaction, "get_fields", counted)
    mine = TrackingStore(SqlStore(database), SharedGenerations(tmp_path / "generations"))
    theirs = TrackingStore(SqlStore(database), SharedGenerations(tmp_path / "generations"))
    cache = ReadCache(mine)
    names = ("etag", "inline", "size")

    def current(tx: LazyTransaction) -> tuple[Any, ...] | None:
        return current_fields(tx, S3Object, ("bkt", "k"), names)

    with LazyTransaction(mine, write=True, cache=cache) as tx:
        tx.put(obj("k", '"1"'))
    with LazyTransaction(mine, write=True, cache=cache) as tx:
        assert current(tx) == ('"1"', True, 1) and reads == []  # from the filed record: no read
        tx.put(obj("k", '"2"'))
        assert current(tx) == ('"2"', True, 1) and len(reads) == 1  # its own write, read back
    with theirs.transaction() as other:
        other.put(obj("k", '"3"'))  # another process overwrites
    with LazyTransaction(mine, write=True, cache=cache) as tx:
        assert current(tx) == ('"3"', True, 1) and len(reads) == 2
        tx.delete(S3Object, "bkt", "k")
    with LazyTransaction(mine, write=True, cache=cache) as tx:
        assert current(tx) is None and len(reads) == 2  # the delete was filed too
        tx.put(obj("k", '"4"'))
        tx.delete_where(S3Object, bucket="bkt")  # which rows went is not tracked: nothing is filed
    with LazyTransaction(mine, write=False, cache=cache) as tx:
        assert cached_get(tx, S3Object, "bkt", "k") is None and tx.opened

    def rolled_back() -> None:
        with LazyTransaction(mine, write=True, cache=cache) as tx:
            tx.put(obj("k", '"rolled back"'))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    with LazyTransaction(mine, write=True, cache=cache) as tx:
        assert current(tx) is None
    for store in (mine, theirs):
        store.close()
