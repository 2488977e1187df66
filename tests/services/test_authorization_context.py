"""The request context the authorizer hands to the engine: every key it carries, and that the pieces it caches
(per caller against the policy tables, the time strings per second) never go stale."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from services_support import DEV, NOW, World, allow, doc

from rolegate.policy import Decision
from rolegate.services.authorization import SecondKeys
from rolegate.services.context import Caller
from rolegate.store.records import Session, User

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
OBJECT = "arn:aws:s3:::bucket/key"


def decide(world: World, caller: Caller, keys: dict[str, Any] | None = None) -> Decision:
    services = world.services
    with services.store.transaction(write=False) as tx:
        call = world.s3_context(
            tx, caller, region="eu-west-1", source_ip="198.51.100.7", user_agent="agent/1.0", secure=True
        )
        decision: Decision = services.authorizer.decide(call, "s3:GetObject", OBJECT, keys=keys)
        return decision


def test_a_users_request_carries_its_principal_tags_and_the_request_keys(world: World) -> None:
    world.account(DEV)
    user = world.user(DEV, "alice", doc(allow("s3:GetObject")))
    with world.services.store.transaction() as tx:
        stored = tx.get(User, DEV, "alice")
        assert stored is not None
        tx.put(replace(stored, tags=(("Team", "data"),)))
    decision = decide(world, user, {"S3:ResourceAccount": DEV, "aws:SourceIp": "10.0.0.1"})
    assert decision.allowed
    assert dict(decision.context.keys) == {
        "aws:principaltype": ("User",),
        "aws:principalaccount": (DEV,),
        "aws:principalisawsservice": ("false",),
        "aws:principalarn": (user.arn,),
        "aws:userid": (user.user_id,),
        "aws:username": ("alice",),
        "aws:principaltag/team": ("data",),
        "aws:resourceaccount": (DEV,),
        "aws:currenttime": (NOW.strftime(TIME_FORMAT),),
        "aws:epochtime": (str(int(NOW.timestamp())),),
        "aws:securetransport": ("true",),
        "aws:sourceip": ("10.0.0.1",),  # the caller's explicit keys win
        "aws:useragent": ("agent/1.0",),
        "aws:requestedregion": ("eu-west-1",),
        "aws:viaawsservice": ("false",),
        "s3:resourceaccount": (DEV,),
    }


def session_caller(mfa_age: int, **extra: Any) -> Caller:
    session = Session(
        "ASIAEXAMPLESESSION01",
        DEV,
        "role",
        "sealed",
        NOW - timedelta(minutes=5),
        NOW + timedelta(hours=1),
        session_name="s",
        role_arn=f"arn:aws:iam::{DEV}:role/team/Reader",
        role_id="AROAEXAMPLEREADER001",
        mfa_authenticated=True,
        mfa_time=NOW - timedelta(seconds=mfa_age),
        **{"tags": (("Project", "blue"),), "source_identity": "alice", **extra},
    )
    arn = f"arn:aws:sts::{DEV}:assumed-role/Reader/s"
    return Caller("role", DEV, arn, "AROAEXAMPLEREADER001:s", session.access_key_id, session=session)


def test_a_role_sessions_request_carries_its_session_keys(world: World) -> None:
    world.account(DEV)
    keys = decide(world, session_caller(90)).context.keys
    assert keys["aws:principaltype"] == ("AssumedRole",)
    assert keys["aws:principalarn"] == (f"arn:aws:iam::{DEV}:role/team/Reader",)
    assert keys["aws:userid"] == ("AROAEXAMPLEREADER001:s",)
    assert keys["aws:principaltag/project"] == ("blue",)
    assert keys["aws:tokenissuetime"] == ((NOW - timedelta(minutes=5)).strftime(TIME_FORMAT),)
    assert keys["aws:multifactorauthpresent"] == ("true",)
    assert keys["aws:multifactorauthage"] == ("90",)
    assert keys["aws:sourceidentity"] == ("alice",)
    assert "aws:username" not in keys


def test_cached_pieces_follow_the_clock_and_the_caller(world: World) -> None:
    world.account(DEV)
    caller = session_caller(90)
    first = decide(world, caller).context.keys
    world.clock.advance(0.5)
    same_second = decide(world, caller).context.keys
    assert same_second["aws:currenttime"] == first["aws:currenttime"]
    world.clock.advance(61)
    later = decide(world, caller).context.keys
    assert later["aws:currenttime"] == ((NOW + timedelta(seconds=61.5)).strftime(TIME_FORMAT),)
    assert later["aws:epochtime"] == (str(int(NOW.timestamp()) + 61),)
    assert later["aws:multifactorauthage"] == ("151",)
    # The same session key with different session content is a different caller: nothing of the first is reused.
    other = session_caller(90, source_identity="bob", tags=(("Project", "red"),))
    keys = decide(world, other).context.keys
    assert keys["aws:sourceidentity"] == ("bob",)
    assert keys["aws:principaltag/project"] == ("red",)


def test_a_tag_change_reaches_the_next_decision(world: World) -> None:
    world.account(DEV)
    user = world.user(DEV, "alice", doc(allow("s3:GetObject")))
    assert "aws:principaltag/team" not in decide(world, user).context.keys
    with world.services.store.transaction() as tx:
        stored = tx.get(User, DEV, "alice")
        assert stored is not None
        tx.put(replace(stored, tags=(("team", "ops"),)))
    assert decide(world, user).context.keys["aws:principaltag/team"] == ("ops",)


@pytest.mark.parametrize(
    "instant",
    [
        NOW,
        NOW.replace(microsecond=999_999),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
        datetime(2106, 2, 7, 6, 28, 15, 999_999, tzinfo=UTC),
        datetime(2300, 1, 1, 0, 0, 0, 999_999, tzinfo=UTC),
        NOW.astimezone(timezone(timedelta(hours=2))),
        NOW.replace(tzinfo=None),
    ],
)
def test_time_keys_are_formatted_as_for_every_request(instant: datetime) -> None:
    """Cached or not, the strings are what strftime and the epoch give for that very instant."""
    clock = SecondKeys()
    for moment in (instant, instant, instant - timedelta(microseconds=1), instant):
        assert clock.keys(moment) == ((moment.strftime(TIME_FORMAT),), (str(int(moment.timestamp())),))


ORIGINS = [
    NOW,
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2106, 2, 7, 6, 28, 14, tzinfo=UTC),
    NOW.astimezone(timezone(timedelta(hours=2))),
    NOW.replace(tzinfo=None),
]


@given(st.lists(st.tuples(st.sampled_from(ORIGINS), st.integers(-2, 2), st.integers(0, 999_999)), max_size=30))
def test_time_keys_follow_any_walk_of_the_clock(steps: list[tuple[datetime, int, int]]) -> None:
    """A walk back and forth across second boundaries (and time zones): a second's strings serve only
    instants of that second in UTC."""
    clock = SecondKeys()
    for origin, seconds, microseconds in steps:
        moment = origin + timedelta(seconds=seconds, microseconds=microseconds)
        assert clock.keys(moment) == ((moment.strftime(TIME_FORMAT),), (str(int(moment.timestamp())),))
