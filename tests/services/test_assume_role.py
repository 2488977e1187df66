"""AssumeRole through the service path: the seeds' cross-account stories, with the real engine and store."""

from __future__ import annotations

import json

import pytest
from services_support import DEV, PROD, World, allow, doc

from rolegate.errors import AccessDenied, ExpiredToken, InvalidClientTokenId, ValidationError
from rolegate.store.records import AuditEvent

TRUST_DEV_ACCOUNT = doc(
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}, "Action": "sts:AssumeRole"}
)
ROLE_ARN = f"arn:aws:iam::{PROD}:role/AssumedRoleByGuestAccount"


def _setup(world: World) -> None:
    world.account(DEV)
    world.account(PROD)
    world.role(PROD, "AssumedRoleByGuestAccount", TRUST_DEV_ACCOUNT, doc(allow("s3:*")))


def test_cross_account_assume_role_needs_the_callers_identity_policy(world: World) -> None:
    _setup(world)
    allowed = world.user(DEV, "natan", doc(allow("sts:AssumeRole", ROLE_ARN)))
    refused = world.user(DEV, "bob")
    result = world.call(allowed, "sts", "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="s1")
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{PROD}:assumed-role/AssumedRoleByGuestAccount/s1"
    assert result["Credentials"]["AccessKeyId"].startswith("ASIA")
    with pytest.raises(AccessDenied) as denied:
        world.call(refused, "sts", "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="s1")
    assert denied.value.message == (
        f"User: arn:aws:iam::{DEV}:user/bob is not authorized to perform: sts:AssumeRole on resource: {ROLE_ARN} "
        "because no identity-based policy allows the sts:AssumeRole action"
    )


def test_session_caller_identity_and_expiry(world: World) -> None:
    _setup(world)
    natan = world.user(DEV, "natan", doc(allow("sts:AssumeRole", ROLE_ARN)))
    creds = world.call(natan, "sts", "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="s1", DurationSeconds=900)
    session = world.session_caller(creds["Credentials"])
    identity = world.call(session, "sts", "GetCallerIdentity")
    assert identity["Arn"] == f"arn:aws:sts::{PROD}:assumed-role/AssumedRoleByGuestAccount/s1"
    assert identity["Account"] == PROD
    assert identity["UserId"].startswith("AROA") and identity["UserId"].endswith(":s1")
    world.clock.advance(901)
    with pytest.raises(ExpiredToken):
        world.session_caller(creds["Credentials"])


def test_tampered_or_swapped_session_token_is_refused(world: World) -> None:
    _setup(world)
    natan = world.user(DEV, "natan", doc(allow("sts:AssumeRole", ROLE_ARN)))
    first = world.call(natan, "sts", "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="a")["Credentials"]
    second = world.call(natan, "sts", "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="b")["Credentials"]
    with pytest.raises(InvalidClientTokenId):
        world.services.authenticate(first["AccessKeyId"], second["SessionToken"])
    with pytest.raises(InvalidClientTokenId):
        world.services.authenticate(first["AccessKeyId"], first["SessionToken"][:-3] + "AAA")
    with pytest.raises(InvalidClientTokenId):
        world.services.authenticate(first["AccessKeyId"], None)


def test_external_id_and_source_ip_trust(world: World) -> None:
    world.account(DEV)
    world.account(PROD)
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": DEV},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"sts:ExternalId": "unique-external-id"},
                "IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
            },
        }
    )
    world.role(PROD, "CrossAccountAccessRole", trust)
    arn = f"arn:aws:iam::{PROD}:role/CrossAccountAccessRole"
    user = world.user(DEV, "u", doc(allow("sts:AssumeRole", arn)))
    with pytest.raises(AccessDenied) as denied:
        world.call(user, "sts", "AssumeRole", RoleArn=arn, RoleSessionName="s")
    assert denied.value.message.endswith(f"sts:AssumeRole on resource: {arn}")
    ok = world.call(user, "sts", "AssumeRole", RoleArn=arn, RoleSessionName="s", ExternalId="unique-external-id")
    assert ok["Credentials"]["SessionToken"]


def test_root_cannot_assume_and_duration_limits(world: World) -> None:
    _setup(world)
    dev_root = world.account("333333333333")
    with pytest.raises(AccessDenied, match=r"Roles may not be assumed by root accounts\."):
        world.call(dev_root, "sts", "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="s")
    natan = world.user(DEV, "natan", doc(allow("sts:AssumeRole", "*")))
    with pytest.raises(ValidationError, match="exceeds the MaxSessionDuration"):
        world.call(natan, "sts", "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="s", DurationSeconds=7200)


def test_role_chaining_is_capped_at_one_hour(world: World) -> None:
    _setup(world)
    trust_prod = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"}, "Action": "sts:AssumeRole"})
    world.role(PROD, "Second", trust_prod, max_session_duration=43200)
    world.inline(PROD, "role", "AssumedRoleByGuestAccount", "chain", doc(allow("sts:AssumeRole", "*")))
    natan = world.user(DEV, "natan", doc(allow("sts:AssumeRole", ROLE_ARN)))
    first = world.session_caller(
        world.call(natan, "sts", "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="a")["Credentials"]
    )
    second_arn = f"arn:aws:iam::{PROD}:role/Second"
    with pytest.raises(ValidationError, match="1 hour session limit"):
        world.call(first, "sts", "AssumeRole", RoleArn=second_arn, RoleSessionName="b", DurationSeconds=7200)
    chained = world.call(first, "sts", "AssumeRole", RoleArn=second_arn, RoleSessionName="b")
    assert chained["AssumedRoleUser"]["Arn"].endswith("assumed-role/Second/b")


def test_session_policy_limits_the_session_and_audit_keeps_the_explanation(world: World) -> None:
    _setup(world)
    world.inline(PROD, "role", "AssumedRoleByGuestAccount", "iam", doc(allow("iam:ListRoles")))
    natan = world.user(DEV, "natan", doc(allow("sts:AssumeRole", ROLE_ARN)))
    creds = world.call(
        natan, "sts", "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="s", Policy=doc(allow("s3:GetObject"))
    )
    assert creds["PackedPolicySize"] > 0
    session = world.session_caller(creds["Credentials"])
    with pytest.raises(AccessDenied, match="because no session policy allows the iam:ListRoles action"):
        world.call(session, "iam", "ListRoles")
    with world.services.store.transaction() as tx:
        events = tx.find(AuditEvent, principal_arn=session.arn)
    denied = [e for e in events if e.operation == "ListRoles"]
    assert denied and denied[0].gate == "session"
    assert json.loads(denied[0].explanation)["reason"] == "session_policy_does_not_allow"
    assert "SecretAccessKey" not in "".join(e.request_parameters for e in events)
