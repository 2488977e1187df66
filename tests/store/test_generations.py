"""Shared generations: server processes that write one SQLite file announce their commits under the writers'
lock, without a lock of their own, and still count every commit."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

from rolegate.store.generations import SharedGenerations
from rolegate.store.records import Bucket
from rolegate.store.sql.store import SqlStore
from rolegate.store.tracking import TrackingStore

COMMITS = 200
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def _writer(database: str, generations: str, name: str) -> None:
    store = TrackingStore(SqlStore(database), SharedGenerations(Path(generations)))
    try:
        for n in range(COMMITS):
            with store.transaction() as tx:
                tx.put(Bucket(name, "111111111111", "us-east-1", CREATED, policy=str(n)))
    finally:
        store.close()


def test_commits_of_concurrent_processes_each_move_the_generation(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'db.sqlite'}"
    path = tmp_path / "generations"
    reader = TrackingStore(SqlStore(database), SharedGenerations(path))
    try:
        before = reader.stamp((Bucket.TABLE,))[0]
        context = multiprocessing.get_context("spawn")
        writers = [context.Process(target=_writer, args=(database, str(path), f"bucket-{i}")) for i in range(3)]
        for process in writers:
            process.start()
        for process in writers:
            process.join(120)
            assert process.exitcode == 0
        # A bump lost to a race would leave the count short (and a reader could miss that commit).
        assert reader.stamp((Bucket.TABLE,))[0] - before == 3 * COMMITS
    finally:
        reader.close()


def test_an_exclusive_bump_is_seen_by_every_process_mapping_the_file(tmp_path: Path) -> None:
    mine, theirs = SharedGenerations(tmp_path / "generations"), SharedGenerations(tmp_path / "generations")
    try:
        before = theirs.stamp(("s3_objects", "iam_users"))
        mine.bump({"s3_objects"}, exclusive=True)
        mine.bump({"s3_objects"})
        after = theirs.stamp(("s3_objects", "iam_users"))
        assert after[0] == before[0] + 2
        assert SharedGenerations._slot("s3_objects") != SharedGenerations._slot("iam_users")
        assert after[1] == before[1]
    finally:
        mine.close()
        theirs.close()
