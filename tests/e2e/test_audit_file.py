"""The audit trail lives in its own SQLite file beside the main database (store/sql/audit_file.py), and a
database from before the split hands its events over on the next start."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from tests.e2e.e2e_support import live_server

from rolegate.store.records import AuditEvent
from rolegate.store.sql.audit_file import move_audit_events
from rolegate.store.sql.store import SqlStore

EXPLANATION = json.dumps({"decision": "ImplicitDeny", "gates": [], "statements": []})


def _event_ids(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT event_id FROM audit_events ORDER BY event_id")]


def _old_event(event_id: str, explanation: str = "") -> AuditEvent:
    return AuditEvent(
        event_id, datetime(2026, 1, 1, tzinfo=UTC), event_id, "iam", "DeleteRole", "123456789012",
        "arn:aws:iam::123456789012:user/old", "127.0.0.1", "", "ImplicitDeny" if explanation else "Allowed",
        explanation=explanation,
    )  # fmt: skip


def _explain_offline(data_dir: Path, request_id: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "rolegate", "explain", request_id, "--data-dir", str(data_dir), "--json"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_calls_are_recorded_in_the_trails_own_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with live_server(data_dir) as server:
        iam = server.client("iam")
        iam.create_user(UserName="trail-user")
        key = iam.create_access_key(UserName="trail-user")["AccessKey"]
        with pytest.raises(ClientError) as denied:
            server.client("iam", key_id=key["AccessKeyId"], secret=key["SecretAccessKey"]).list_users()
        request_id = denied.value.response["ResponseMetadata"]["RequestId"]
    recorded = _event_ids(data_dir / "audit.sqlite")
    assert request_id in recorded
    assert len(recorded) >= 3  # CreateUser, CreateAccessKey, the denied ListUsers
    assert _event_ids(data_dir / "rolegate.sqlite") == []
    shown = _explain_offline(data_dir, request_id)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["request"]["action"] == "iam:ListUsers"


def test_events_of_a_database_from_before_the_split_move_on_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    old = SqlStore(f"sqlite:///{data_dir / 'rolegate.sqlite'}")  # the layout of earlier versions
    with old.transaction() as tx:
        tx.append_many([_old_event("old-1"), _old_event("old-2", EXPLANATION)])
    old.close()
    assert _explain_offline(data_dir, "old-2").returncode == 0  # not moved yet: read where it is
    with live_server(data_dir) as server:
        server.client("sts").get_caller_identity()
    assert {"old-1", "old-2"} <= set(_event_ids(data_dir / "audit.sqlite"))
    assert _event_ids(data_dir / "rolegate.sqlite") == []
    shown = _explain_offline(data_dir, "old-2")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["decision"] == "ImplicitDeny"


def test_a_move_cut_short_after_the_copy_leaves_one_copy_of_each_event(tmp_path: Path) -> None:
    main = SqlStore(f"sqlite:///{tmp_path / 'rolegate.sqlite'}")
    trail = SqlStore(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    try:
        with main.transaction() as tx:
            tx.append_many([_old_event("e1"), _old_event("e2")])
        with trail.transaction() as tx:
            tx.append_many([_old_event("e1")])  # copied by a start that stopped before deleting
        assert move_audit_events(main, trail) == 2
        assert _event_ids(tmp_path / "audit.sqlite") == ["e1", "e2"]
        assert _event_ids(tmp_path / "rolegate.sqlite") == []
        assert move_audit_events(main, trail) == 0
        assert move_audit_events(main, main) == 0  # one file holds both: nothing to move
    finally:
        main.close()
        trail.close()
