"""Snapshots of `render_text` for six denials; each is also checked fact by fact, so a snapshot cannot hide a wrong
decision.

The snapshots live in tests/policy/snapshots/<name>.txt. To (re)write them after an intended change to the text:

    ROLEGATE_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/policy/test_snapshots.py

then read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from rolegate.policy import Decision, Gate, Result, authorize, load_request, render_text

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_ENV = "ROLEGATE_UPDATE_SNAPSHOTS"

ALICE = {"arn": "arn:aws:iam::111111111111:user/alice", "id": "AIDAEXAMPLEALICE00001"}
DEV_SESSION = {
    "arn": "arn:aws:sts::111111111111:assumed-role/Dev/alice",
    "roleArn": "arn:aws:iam::111111111111:role/team/Dev",
    "id": "AROAEXAMPLEDEVROLE001",
}


def assert_snapshot(name: str, text: str, directory: Path | None = None) -> None:
    """Compare `text` with snapshots/<name>.txt; rewrite it instead when ROLEGATE_UPDATE_SNAPSHOTS=1."""
    path = (directory or SNAPSHOTS) / f"{name}.txt"
    content = text + "\n"
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"missing snapshot {path}: create it with {UPDATE_ENV}=1 .venv/bin/pytest tests/policy/test_snapshots.py "
            "and read it before committing",
            pytrace=False,
        )
    expected = path.read_text(encoding="utf-8")
    assert content == expected, f"render_text differs from {path} (set {UPDATE_ENV}=1 to rewrite it)"


def policy(policy_id: str, *statements: dict[str, Any]) -> dict[str, Any]:
    return {"id": policy_id, "document": {"Version": "2012-10-17", "Statement": list(statements)}}


def decide(request: dict[str, Any]) -> Decision:
    loaded = load_request(request)
    assert not loaded.errors, [str(e) for e in loaded.errors]
    assert loaded.context is not None
    assert loaded.policies is not None
    return authorize(loaded.context, loaded.policies)


def identity_explicit_deny() -> Decision:
    return decide(
        {
            "principal": ALICE,
            "action": "s3:DeleteObject",
            "resource": "arn:aws:s3:::finance-reports/2024/q1.csv",
            "policies": {
                "identity": [
                    policy("S3FullAccess", {"Sid": "AllS3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
                    policy(
                        "ProtectFinance",
                        {
                            "Sid": "NoDeletes",
                            "Effect": "Deny",
                            "Action": ["s3:DeleteObject", "s3:DeleteBucket"],
                            "Resource": "arn:aws:s3:::finance-*-bucket",
                        },
                        {
                            "Sid": "NoDeletesAnywhere",
                            "Effect": "Deny",
                            "Action": "s3:Delete*",
                            "Resource": "arn:aws:s3:::finance-reports/*",
                        },
                    ),
                ]
            },
        }
    )


def test_explicit_deny_in_an_identity_policy() -> None:
    decision = identity_explicit_deny()
    assert (decision.result, decision.gate, decision.reason) == (Result.EXPLICIT_DENY, Gate.IDENTITY, "explicit_deny")
    assert [str(s) for s in decision.statements] == ["ProtectFinance:NoDeletesAnywhere"]
    text = render_text(decision)
    assert "ProtectFinance:NoDeletes does not apply: Resource resource_mismatch" in text
    assert "Deny  ProtectFinance:NoDeletesAnywhere applies" in text


def test_explicit_deny_in_an_identity_policy_snapshot() -> None:
    assert_snapshot("identity_explicit_deny", render_text(identity_explicit_deny()))


def test_cross_account_trust_policy_that_does_not_name_the_caller() -> None:
    decision = decide(
        {
            "principal": DEV_SESSION,
            "action": "sts:AssumeRole",
            "resource": "arn:aws:iam::222222222222:role/Deployer",
            "policies": {
                "identity": [
                    policy(
                        "AssumeDeployer",
                        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::222222222222:role/*"},
                    )
                ],
                "trust": policy(
                    "Deployer-trust",
                    {
                        "Sid": "CiAccountOnly",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
                        "Action": "sts:AssumeRole",
                    },
                ),
            },
        }
    )
    assert (decision.result, decision.gate, decision.reason) == (
        Result.IMPLICIT_DENY,
        Gate.TRUST,
        "cross_account_resource_side_does_not_allow",
    )
    assert decision.statements == ()
    text = render_text(decision)
    assert "Deployer-trust:CiAccountOnly does not apply: Principal account_mismatch" in text
    assert_snapshot("trust_cross_account_missing", text)


def scp_level_without_an_allow() -> Decision:
    return decide(
        {
            "principal": ALICE,
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::shared-data/a.csv",
            "organization": {"managementAccount": "999999999999"},
            "policies": {
                "identity": [policy("ReadAll", {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})],
                "scps": [
                    [policy("FullAWSAccess", {"Effect": "Allow", "Action": "*", "Resource": "*"})],
                    [
                        policy(
                            "ComputeOnly",
                            {"Sid": "OnlyEc2", "Effect": "Allow", "Action": ["ec2:*", "ssm:*"], "Resource": "*"},
                        )
                    ],
                ],
            },
        }
    )


def test_scp_level_without_an_allow() -> None:
    decision = scp_level_without_an_allow()
    assert (decision.result, decision.gate, decision.reason) == (
        Result.IMPLICIT_DENY,
        Gate.SCP,
        "no_allow_at_every_scp_level",
    )
    text = render_text(decision)
    assert "level 1: no policy at this level allows the request" in text
    assert "level 0: no policy" not in text
    assert "FullAWSAccess:Statement[0] applies" in text
    assert "ComputeOnly:OnlyEc2 does not apply: Action action_mismatch" in text


def test_scp_level_without_an_allow_snapshot() -> None:
    assert_snapshot("scp_implicit_deny", render_text(scp_level_without_an_allow()))


def test_permissions_boundary_without_an_allow() -> None:
    decision = decide(
        {
            "principal": DEV_SESSION,
            "action": "iam:CreateUser",
            "resource": "arn:aws:iam::111111111111:user/mallory",
            "policies": {
                "identity": [
                    policy("DevAdmin", {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"})
                ],
                "boundary": policy(
                    "DevBoundary",
                    {"Sid": "DataOnly", "Effect": "Allow", "Action": ["s3:*", "dynamodb:*"], "Resource": "*"},
                ),
            },
        }
    )
    assert (decision.result, decision.gate, decision.reason) == (
        Result.IMPLICIT_DENY,
        Gate.BOUNDARY,
        "permissions_boundary_does_not_allow",
    )
    text = render_text(decision)
    assert "DevBoundary:DataOnly does not apply: Action action_mismatch" in text
    assert "DevAdmin:Everything applies" in text
    assert_snapshot("boundary_implicit_deny", text)


def test_external_id_absent_from_the_request() -> None:
    decision = decide(
        {
            "principal": ALICE,
            "action": "sts:AssumeRole",
            "resource": "arn:aws:iam::222222222222:role/VendorAudit",
            "context": {"aws:SourceIp": "203.0.113.7"},
            "policies": {
                "identity": [
                    policy(
                        "AssumeVendorAudit",
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Resource": "arn:aws:iam::222222222222:role/VendorAudit",
                        },
                    )
                ],
                "trust": policy(
                    "VendorAudit-trust",
                    {
                        "Sid": "PartnerWithExternalId",
                        "Effect": "Allow",
                        "Principal": {"AWS": "111111111111"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"sts:ExternalId": "partner-7f3c"}},
                    },
                ),
            },
        }
    )
    assert (decision.result, decision.gate, decision.reason) == (
        Result.IMPLICIT_DENY,
        Gate.TRUST,
        "cross_account_resource_side_does_not_allow",
    )
    text = render_text(decision)
    assert "Condition.StringEquals.sts:ExternalId condition_key_absent" in text
    assert_snapshot("trust_external_id_absent", text)


def test_unresolved_variable_in_a_resource() -> None:
    decision = decide(
        {
            "principal": DEV_SESSION,
            "action": "s3:PutObject",
            "resource": "arn:aws:s3:::team-home/blue/notes.txt",
            "policies": {
                "identity": [
                    policy(
                        "TeamHome",
                        {
                            "Sid": "OwnTeamPrefix",
                            "Effect": "Allow",
                            "Action": "s3:PutObject",
                            "Resource": "arn:aws:s3:::team-home/${aws:PrincipalTag/team}/*",
                        },
                    )
                ]
            },
        }
    )
    assert (decision.result, decision.gate, decision.reason) == (
        Result.IMPLICIT_DENY,
        Gate.IDENTITY,
        "no_identity_policy_allow",
    )
    text = render_text(decision)
    assert "TeamHome:OwnTeamPrefix does not apply: Resource unresolved_variable" in text
    assert_snapshot("resource_unresolved_variable", text)


# The helper itself must be able to fail.


def test_a_missing_snapshot_fails_and_says_how_to_create_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    with pytest.raises(pytest.fail.Exception, match=f"missing snapshot .*{UPDATE_ENV}=1"):
        assert_snapshot("absent", "text", tmp_path)


def test_a_different_text_fails_and_the_env_var_rewrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "snap.txt").write_text("old\n", encoding="utf-8")
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    with pytest.raises(AssertionError, match="differs"):
        assert_snapshot("snap", "new", tmp_path)
    monkeypatch.setenv(UPDATE_ENV, "1")
    assert_snapshot("snap", "new", tmp_path)
    assert (tmp_path / "snap.txt").read_text(encoding="utf-8") == "new\n"
    monkeypatch.delenv(UPDATE_ENV)
    assert_snapshot("snap", "new", tmp_path)
