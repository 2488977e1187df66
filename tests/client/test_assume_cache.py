"""The credential cache: private files, reuse until the refresh windows, renewal on a moved client clock,
the cached session kept when an advisory renewal fails, --refresh, --no-cache and --clear-cache."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from assume_support import Home, run_inprocess

from rolegate.client import (
    AssumeError,
    AssumeOptions,
    Assumer,
    Freshness,
    RoleSession,
    SessionCache,
    build_plan,
    freshness,
    load_profiles,
)


def _session(lifetime: float, remaining: float) -> tuple[RoleSession, datetime]:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    expiration = now + timedelta(seconds=remaining)
    issued = expiration - timedelta(seconds=lifetime)
    session = RoleSession("ASIAX", "secret", "token", expiration, issued, "arn:r", "arn:s")
    return session, now


@pytest.mark.parametrize(
    ("lifetime", "remaining", "expected"),
    [
        (3600, 3000, Freshness.FRESH),
        (3600, 901, Freshness.FRESH),
        (3600, 899, Freshness.ADVISORY),
        (3600, 661, Freshness.ADVISORY),
        (3600, 659, Freshness.MANDATORY),
        (3600, -5, Freshness.MANDATORY),
        (900, 890, Freshness.FRESH),
        (900, 781, Freshness.FRESH),
        (900, 779, Freshness.ADVISORY),
        (900, 659, Freshness.MANDATORY),
        (43200, 1000, Freshness.FRESH),
    ],
)
def test_refresh_windows(lifetime: float, remaining: float, expected: Freshness) -> None:
    session, now = _session(lifetime, remaining)
    assert freshness(session, now) is expected


class MovableClock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def test_cache_files_are_private_and_reused(home: Home) -> None:
    first = json.loads(run_inprocess("dev", "--json").stdout)
    assert stat.S_IMODE(home.cache_dir.stat().st_mode) == 0o700
    (entry,) = home.cache_dir.iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert json.loads(entry.read_text())["Credentials"]["AccessKeyId"] == first["Credentials"]["AccessKeyId"]
    second = json.loads(run_inprocess("dev", "--json").stdout)
    assert second == first
    other = json.loads(run_inprocess("dev", "--json", "--session-name", "another").stdout)
    assert other["Credentials"]["AccessKeyId"] != first["Credentials"]["AccessKeyId"]
    assert len(list(home.cache_dir.iterdir())) == 2
    refreshed = json.loads(run_inprocess("dev", "--json", "--refresh").stdout)
    assert refreshed["Credentials"]["AccessKeyId"] != first["Credentials"]["AccessKeyId"]
    assert json.loads(run_inprocess("dev", "--json").stdout) == refreshed


def test_a_readable_or_damaged_entry_is_not_trusted(home: Home) -> None:
    first = json.loads(run_inprocess("dev", "--json").stdout)["Credentials"]["AccessKeyId"]
    (entry,) = home.cache_dir.iterdir()
    os.chmod(entry, 0o644)
    second = json.loads(run_inprocess("dev", "--json").stdout)["Credentials"]["AccessKeyId"]
    assert second != first
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    entry.write_text("{not json")
    third = json.loads(run_inprocess("dev", "--json").stdout)["Credentials"]["AccessKeyId"]
    assert third not in (first, second)


def test_clear_cache(home: Home) -> None:
    assert run_inprocess("dev").returncode == 0
    assert run_inprocess("prod").returncode == 0
    cleared = run_inprocess("--clear-cache")
    assert cleared.returncode == 0 and cleared.stdout == "removed 2 cached sessions\n"
    assert list(home.cache_dir.iterdir()) == []
    assert run_inprocess("--clear-cache").stdout == "removed 0 cached sessions\n"


def test_renewal_on_the_client_clock(home: Home) -> None:
    world = home.world
    role = world.add_role("assume-cache-revocable")
    profiles = load_profiles()
    plan = build_plan(AssumeOptions(role=role, source_profile="alice", duration=900), profiles, {})
    clock, notes = MovableClock(), []
    assumer = Assumer(plan, profiles, now=clock, cache=SessionCache(home.cache_dir), notify=notes.append)
    first, cached = assumer.get()
    assert not cached
    again, cached = assumer.get()
    assert cached and again == first
    clock.offset = timedelta(seconds=130)  # inside the advisory window of a 900 s session
    renewed, cached = assumer.get()
    assert not cached and renewed.access_key_id != first.access_key_id
    elsewhere = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}
    world.live.client("iam").update_assume_role_policy(
        RoleName="assume-cache-revocable",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [elsewhere]}),
    )
    clock.offset = timedelta(seconds=200)  # the renewed session (lifetime 770 s on this clock) is advisory again
    kept, cached = assumer.get()
    assert cached and kept == renewed
    assert "still using them" in notes[-1]
    clock.offset = timedelta(seconds=400)  # inside the mandatory window: no stale credentials handed out
    with pytest.raises(AssumeError) as refused:
        assumer.get()
    assert refused.value.message.startswith("AccessDenied: ")
