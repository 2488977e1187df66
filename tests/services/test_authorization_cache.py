"""Differential test of the authorizer's caches: a long-lived Authorizer (caller slices, PolicySets and merged
condition keys kept per caller, the last caller's slice, time strings per second, the engine's verdicts kept
with each PolicySet) decides every request exactly as a fresh one that has nothing cached, whatever the
sequence of callers, clock steps, client facts, keys, resource policies and edits of the caller's identity
policies, permissions boundary and tags in between."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from services_support import DEV, NOW, PROD, World, allow, doc
from test_authorization_context import session_caller

from rolegate.policy import Decision, render_json
from rolegate.services.authorization import Authorizer
from rolegate.services.context import CallContext, Caller
from rolegate.services.identity import ANONYMOUS
from rolegate.store.records import Account, InlinePolicy, ManagedPolicy, PolicyVersion, User

CONDITIONS = {
    "Bool": {"aws:SecureTransport": "true"},
    "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
    "StringLike": {"aws:UserAgent": "boto*"},
    "StringEquals": {"aws:RequestedRegion": "eu-west-1"},
    "NumericLessThan": {"aws:MultiFactorAuthAge": "100"},
    "DateGreaterThan": {"aws:CurrentTime": "2026-11-23T12:00:30Z"},
    "StringEqualsIfExists": {"s3:x-amz-acl": "private"},
}
IDENTITY = doc(
    *(allow("s3:GetObject", "arn:aws:s3:::bucket/*", Condition={op: test}) for op, test in CONDITIONS.items()),
    allow("s3:PutObject", "arn:aws:s3:::bucket/home/${aws:username}/*"),
)
# Bob's one inline policy, edited between steps: its statements have nothing left to check once the action and
# resource match, so the engine may keep the decisions they make.
EDITS = [
    doc(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::bucket/*")),
    doc({"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::bucket/home/*"}, allow("s3:*")),
    doc(allow("s3:ListBucket", "arn:aws:s3:::bucket")),
]
BOUNDARY_ARN = f"arn:aws:iam::{DEV}:policy/OnlyGet"
BOUNDARY = doc(allow("s3:GetObject"))
BUCKET_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": DEV}, "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/pub/*"},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:SourceIp": "10.9.9.9"}},
            },
        ],
    }
)

OPEN_BUCKET_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"}],
    }
)

STEPS = st.fixed_dictionaries(
    {
        "caller": st.sampled_from(["user", "bob", "bob", "session", "anonymous"]),
        "advance": st.sampled_from([0.0, 0.0, 0.3, 0.6, 1.0, 61.0]),
        "secure": st.sampled_from([True, False, 1, 0]),
        "ip": st.sampled_from(["10.0.0.1", "10.9.9.9", "198.51.100.7"]),
        "agent": st.sampled_from(["boto3/1.0", "curl/8"]),
        "region": st.sampled_from(["eu-west-1", "us-east-1"]),
        "action": st.sampled_from(["s3:GetObject", "s3:PutObject"]),
        "resource": st.sampled_from(["arn:aws:s3:::bucket/pub/a", "arn:aws:s3:::bucket/home/alice/x"]),
        "account": st.sampled_from(["", DEV, PROD]),
        "policy": st.sampled_from([None, BUCKET_POLICY, OPEN_BUCKET_POLICY]),
        "keys": st.sampled_from([None, {}, {"s3:x-amz-acl": "private"}, {"S3:x-amz-ACL": "public-read", "n": 3}]),
        "edit": st.sampled_from([None] * 9 + ["identity", "boundary", "tags"]),
    }
)


def call_for(world: World, tx: Any, caller: Caller, step: dict[str, Any]) -> CallContext:
    return world.s3_context(
        tx, caller, region=step["region"], source_ip=step["ip"], user_agent=step["agent"], secure=step["secure"]
    )


def facts(decision: Decision) -> tuple[Any, ...]:
    return (decision.result, decision.gate, decision.statements, decision.reason, decision.errors)


def step(**changes: Any) -> dict[str, Any]:
    base = {"caller": "session", "advance": 0.0, "secure": True, "ip": "10.0.0.1", "agent": "boto3/1.0"}
    base |= {"region": "eu-west-1", "action": "s3:GetObject", "resource": "arn:aws:s3:::bucket/pub/a"}
    return base | {"account": DEV, "policy": None, "keys": None, "edit": None} | changes


@example(steps=[step(advance=0.3), step(advance=0.3)])  # the MFA age turns over within one second
@example(steps=[step(), step(secure=1), step(caller="anonymous", policy=BUCKET_POLICY), step(caller="anonymous")])
@example(
    steps=[
        step(caller="bob", action="s3:PutObject", resource="arn:aws:s3:::bucket/home/alice/x", edit=e)
        for e in [None, None, "identity", None, "identity", "boundary", None, "boundary", None, "tags", None]
    ]
)
@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEPS, min_size=1, max_size=12))
def test_a_cached_authorizer_decides_as_a_fresh_one(world: World, steps: list[dict[str, Any]]) -> None:
    with world.services.store.transaction(write=False) as tx:
        built = tx.get(Account, DEV) is not None  # Hypothesis runs every example on the same world
    if not built:
        world.account(DEV)
        world.account(PROD)
        world.user(DEV, "alice", IDENTITY)
        world.user(DEV, "bob", EDITS[0])
        with world.services.store.transaction() as tx:
            tx.insert(ManagedPolicy(BOUNDARY_ARN, DEV, "OnlyGet", "ANPAONLYGET", "/", "v1", NOW, NOW))
            tx.insert(PolicyVersion(BOUNDARY_ARN, "v1", BOUNDARY, NOW))
    user = Caller("user", DEV, f"arn:aws:iam::{DEV}:user/alice", "AIDAALICE", "AKIAALICE", "alice")
    session = session_caller(40)
    assert session.session is not None and session.session.mfa_time is not None
    # MFA at half past a second: its age turns over mid-second, not with aws:CurrentTime
    half = replace(session.session, mfa_time=session.session.mfa_time - timedelta(milliseconds=500))
    bob = Caller("user", DEV, f"arn:aws:iam::{DEV}:user/bob", "AIDABOB", "AKIABOB", "bob")
    callers = {"user": user, "bob": bob, "session": replace(session, session=half), "anonymous": ANONYMOUS}
    cached = world.services.authorizer
    for step in steps:
        world.clock.advance(step["advance"])
        if step["edit"] is not None:
            edit(world, step["edit"])
        with world.services.store.transaction(write=False) as tx:
            call = call_for(world, tx, callers[step["caller"]], step)
            args = (call, step["action"], step["resource"])
            kwargs: dict[str, Any] = {
                "resource_account": step["account"],
                "resource_policy": ("arn:aws:s3:::bucket", step["policy"]) if step["policy"] else None,
                "keys": step["keys"],
            }
            fast = cached.decide(*args, **kwargs)
            slow = Authorizer().decide(*args, **kwargs)  # no tracking store: nothing is reused
        assert facts(fast) == facts(slow)
        assert fast.context == slow.context
        assert list(fast.context.keys.items()) == list(slow.context.keys.items())
        assert fast.policies == slow.policies
        assert render_json(fast) == render_json(slow)


def edit(world: World, what: str) -> None:
    """Change what bob's decisions depend on: his inline policy, his permissions boundary or his tags."""
    with world.services.store.transaction() as tx:
        if what == "identity":
            current = tx.get(InlinePolicy, DEV, "user", "bob", "inline0")
            following = EDITS[(EDITS.index(current.document) + 1) % len(EDITS)] if current else EDITS[0]
            tx.put(InlinePolicy(DEV, "user", "bob", "inline0", following))
            return
        user = tx.get(User, DEV, "bob")
        assert user is not None
        if what == "boundary":
            tx.put(replace(user, permissions_boundary="" if user.permissions_boundary else BOUNDARY_ARN))
        else:
            tx.put(replace(user, tags=() if user.tags else (("team", "blue"),)))
