"""Seed 003, sections 5 and 1-4: the target role with ExternalId and source-IP conditions, its permission
policies, the source user under /service-accounts/, `assume-role` with a dated session name, and the
temporary credentials stored with `aws configure set`; then the AssumeRole parameters the guide lists
(session policies, tags, source identity) and the MFA requirement it recommends, each with its refusals.

The guide's 123456789012 (source, "Account A") and 987654321098 (target, "Account B") are member accounts
created through Organizations; its documents are written to files and passed with `file://` as printed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from awscli_support import AwsCli, Principal, client_error, management_admin, member_account, policy
from e2e_support import LiveServer, live_server

ROLE = "CrossAccountAccessRole"
EXTERNAL_ID = "unique-external-id"
TOTP_STEP = 30


@dataclass(frozen=True)
class World:
    server: LiveServer
    source: Principal  # Account A's administrator
    target: Principal  # Account B's administrator
    home: Path


def _trust_document(source_account: str, network: str, actions: str | list[str] = "sts:AssumeRole") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{source_account}:root"},
                "Action": actions,
                "Condition": {
                    "StringEquals": {"sts:ExternalId": EXTERNAL_ID},
                    "IpAddress": {"aws:SourceIp": network},
                },
            }
        ],
    }


PERMISSION_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::my-secure-bucket", "arn:aws:s3:::my-secure-bucket/*"],
            "Condition": {"StringEquals": {"s3:ExistingObjectTag/Environment": "Production"}},
        }
    ],
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with live_server(tmp_path_factory.mktemp("seed003a") / "data") as server:
        admin = management_admin(server)
        yield World(
            server, member_account(admin, "account-a"), member_account(admin, "account-b"), tmp_path_factory.mktemp("h")
        )


@pytest.fixture(scope="module")
def cli(world: World) -> AwsCli:
    aws = AwsCli(world.home, world.server.endpoint)
    aws.set_credentials("account-a", world.source.key_id, world.source.secret)
    aws.set_credentials("account-b", world.target.key_id, world.target.secret)
    return aws


@pytest.fixture(scope="module")
def setup_outputs(world: World, cli: AwsCli) -> list[Any]:
    """Steps 1-3 as printed: create-role, attach-role-policy, put-role-policy in B; create-user, put-user-policy in A."""
    work = world.home / "work"
    work.mkdir()
    (work / "trust-policy.json").write_text(json.dumps(_trust_document(world.source.account, "203.0.113.0/24")))
    (work / "permission-policy.json").write_text(json.dumps(PERMISSION_POLICY, indent=2))
    assume_permission = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:aws:iam::{world.target.account}:role/{ROLE}",
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
            }
        ],
    }
    (work / "assume-role-permission.json").write_text(json.dumps(assume_permission, indent=2))
    ran = cli.bash(
        "set -e\nexport AWS_PROFILE=account-b\n"
        "aws iam create-role \\\n--role-name CrossAccountAccessRole \\\n"
        '--assume-role-policy-document file://trust-policy.json \\\n--description "Role for cross-account access"\n'
        "aws iam attach-role-policy \\\n--role-name CrossAccountAccessRole \\\n"
        "--policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess\n"
        "aws iam put-role-policy \\\n--role-name CrossAccountAccessRole \\\n--policy-name CustomS3Access \\\n"
        "--policy-document file://permission-policy.json\n"
        "export AWS_PROFILE=account-a\n"
        "aws iam create-user \\\n--user-name AssumeRoleUser \\\n--path /service-accounts/\n"
        "aws iam put-user-policy \\\n--user-name AssumeRoleUser \\\n--policy-name AssumeRolePolicy \\\n"
        "--policy-document file://assume-role-permission.json\n",
        cwd=work,
    )
    assert ran.returncode == 0, ran.stderr
    return ran.documents()  # only create-role and create-user print anything


@pytest.fixture(scope="module")
def assume_role_user(world: World, setup_outputs: list[Any], cli: AwsCli) -> Principal:
    key = world.source.client("iam").create_access_key(UserName="AssumeRoleUser")["AccessKey"]
    cli.set_credentials("default", key["AccessKeyId"], key["SecretAccessKey"])
    arn = setup_outputs[1]["User"]["Arn"]
    return Principal(world.server, world.source.account, arn, key["AccessKeyId"], key["SecretAccessKey"])


def test_create_role_and_user_outputs(world: World, setup_outputs: list[Any]) -> None:
    role, user = setup_outputs
    assert role["Role"]["Path"] == "/"
    assert role["Role"]["RoleName"] == ROLE
    assert re.fullmatch(r"AROA[A-Z0-9]{17}", role["Role"]["RoleId"])
    assert role["Role"]["Arn"] == f"arn:aws:iam::{world.target.account}:role/{ROLE}"
    assert role["Role"]["AssumeRolePolicyDocument"] == _trust_document(world.source.account, "203.0.113.0/24")
    assert role["Role"]["Description"] == "Role for cross-account access"
    assert user["User"]["Path"] == "/service-accounts/"
    assert user["User"]["UserName"] == "AssumeRoleUser"
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", user["User"]["UserId"])
    assert user["User"]["Arn"] == f"arn:aws:iam::{world.source.account}:user/service-accounts/AssumeRoleUser"
    iam = world.target.client("iam")
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]] == [
        "ReadOnlyAccess"
    ]
    assert iam.get_role_policy(RoleName=ROLE, PolicyName="CustomS3Access")["PolicyDocument"] == PERMISSION_POLICY


TEST_ASSUME = (
    "aws sts assume-role \\\n"
    "--role-arn arn:aws:iam::{account}:role/CrossAccountAccessRole \\\n"
    '--role-session-name "TestSession-$(date +%s)" \\\n'
    '--external-id "unique-external-id" \\\n'
    "--duration-seconds 3600\n"
)


def test_source_ip_condition_refuses_requests_from_elsewhere(
    world: World, cli: AwsCli, assume_role_user: Principal
) -> None:
    """The trust allows 203.0.113.0/24 only; the CLI here calls from 127.0.0.1 ("Check ExternalId, IP")."""
    iam = world.target.client("iam")
    printed = json.dumps(_trust_document(world.source.account, "203.0.113.0/24"))
    current = json.dumps(iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"])
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=printed)
    try:
        refused = cli.bash(TEST_ASSUME.format(account=world.target.account))
    finally:
        iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=current)
    code, operation, message = refused.error
    assert (code, operation) == ("AccessDenied", "AssumeRole")
    role_arn = f"arn:aws:iam::{world.target.account}:role/{ROLE}"
    assert (
        message == f"User: {assume_role_user.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )


@pytest.fixture(scope="module")
def from_loopback(world: World, assume_role_user: Principal) -> str:
    """The trust policy with the caller's real network, as the guide's troubleshooting would have it fixed."""
    document = json.dumps(_trust_document(world.source.account, "127.0.0.0/8", ["sts:AssumeRole"]))
    world.target.client("iam").update_assume_role_policy(RoleName=ROLE, PolicyDocument=document)
    return f"arn:aws:iam::{world.target.account}:role/{ROLE}"


def test_assume_and_use_the_credentials_through_a_cli_profile(
    world: World, cli: AwsCli, from_loopback: str, assume_role_user: Principal
) -> None:
    started = datetime.now(UTC)
    assumed = cli.bash(TEST_ASSUME.format(account=world.target.account))
    assert assumed.returncode == 0, assumed.stderr
    output = assumed.json()
    session = output["AssumedRoleUser"]["Arn"].rsplit("/", 1)[-1]
    assert re.fullmatch(r"TestSession-\d{10}", session)
    role_id = world.target.client("iam").get_role(RoleName=ROLE)["Role"]["RoleId"]
    assert output["AssumedRoleUser"]["AssumedRoleId"] == f"{role_id}:{session}"
    credentials = output["Credentials"]
    lifetime = datetime.fromisoformat(credentials["Expiration"]) - started
    assert timedelta(minutes=59) <= lifetime <= timedelta(hours=1, seconds=5)
    configured = cli.bash(
        f'aws configure set aws_access_key_id "{credentials["AccessKeyId"]}" --profile assumed-role\n'
        f'aws configure set aws_secret_access_key "{credentials["SecretAccessKey"]}" --profile assumed-role\n'
        f'aws configure set aws_session_token "{credentials["SessionToken"]}" --profile assumed-role\n'
        "aws sts get-caller-identity --profile assumed-role\n"
    )
    assert configured.returncode == 0, configured.stderr
    assert configured.json() == {
        "UserId": f"{role_id}:{session}",
        "Account": world.target.account,
        "Arn": f"arn:aws:sts::{world.target.account}:assumed-role/{ROLE}/{session}",
    }
    # ReadOnlyAccess lets the session read IAM; writing is "Access denied when using temporary credentials".
    assert cli.ok("iam", "get-role", "--role-name", ROLE, profile="assumed-role")["Role"]["RoleId"] == role_id
    assert cli.fail("iam", "create-user", "--user-name", "intruder", profile="assumed-role") == (
        "AccessDenied",
        f"User: {output['AssumedRoleUser']['Arn']} is not authorized to perform: iam:CreateUser on resource:"
        f" arn:aws:iam::{world.target.account}:user/intruder because no identity-based policy allows the"
        " iam:CreateUser action",
    )


def test_external_id_must_be_given_and_match(from_loopback: str, assume_role_user: Principal) -> None:
    sts = assume_role_user.client("sts")
    denied = (
        "AccessDenied",
        f"User: {assume_role_user.arn} is not authorized to perform: sts:AssumeRole on resource: {from_loopback}",
        403,
    )
    assert client_error(sts.assume_role, RoleArn=from_loopback, RoleSessionName="no-external-id") == denied
    assert (
        client_error(sts.assume_role, RoleArn=from_loopback, RoleSessionName="wrong", ExternalId="other-external-id")
        == denied
    )


def test_session_policies_narrow_the_role(world: World, from_loopback: str, assume_role_user: Principal) -> None:
    """--policy and --policy-arns: the session gets the intersection of the role's and the session's policies."""
    only_get_role = policy({"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"})
    session = assume_role_user.assume(from_loopback, "narrow", ExternalId=EXTERNAL_ID, Policy=only_get_role)
    iam = session.client("iam")
    assert iam.get_role(RoleName=ROLE)["Role"]["RoleName"] == ROLE
    assert client_error(iam.list_roles) == (
        "AccessDenied",
        f"User: {session.arn} is not authorized to perform: iam:ListRoles on resource:"
        f" arn:aws:iam::{world.target.account}:role/ because no session policy allows the iam:ListRoles action",
        403,
    )
    roles_only = policy(
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": f"arn:aws:iam::{world.target.account}:role/*"}
    )
    lister = assume_role_user.assume(from_loopback, "lister", ExternalId=EXTERNAL_ID, Policy=roles_only)
    assert ROLE in [r["RoleName"] for r in lister.client("iam").list_roles()["Roles"]]  # role/* covers the listing
    s3_only = assume_role_user.assume(
        from_loopback,
        "s3-only",
        ExternalId=EXTERNAL_ID,
        PolicyArns=[{"arn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}],
    )
    assert client_error(s3_only.client("iam").get_role, RoleName=ROLE)[0] == "AccessDenied"
    sts = assume_role_user.client("sts")
    found = sts.assume_role(
        RoleArn=from_loopback, RoleSessionName="sized", ExternalId=EXTERNAL_ID, Policy=only_get_role
    )
    assert 0 < found["PackedPolicySize"] <= 100
    assert client_error(
        sts.assume_role, RoleArn=from_loopback, RoleSessionName="bad", ExternalId=EXTERNAL_ID, Policy='{"Version":'
    )[0::2] == ("MalformedPolicyDocument", 400)


def _trust_with(world: World, actions: list[str]) -> None:
    document = json.dumps(_trust_document(world.source.account, "127.0.0.0/8", actions))
    world.target.client("iam").update_assume_role_policy(RoleName=ROLE, PolicyDocument=document)


def test_tags_and_source_identity_need_their_own_trust_actions(
    world: World, from_loopback: str, assume_role_user: Principal
) -> None:
    sts = assume_role_user.client("sts")
    base = {"RoleArn": from_loopback, "RoleSessionName": "tagged", "ExternalId": EXTERNAL_ID}
    tags = {"Tags": [{"Key": "team", "Value": "payments"}], "TransitiveTagKeys": ["team"]}
    denied = f"User: {assume_role_user.arn} is not authorized to perform: {{}} on resource: {from_loopback}"
    assert client_error(sts.assume_role, **base, **tags) == ("AccessDenied", denied.format("sts:TagSession"), 403)
    assert client_error(sts.assume_role, **base, SourceIdentity="alice") == (
        "AccessDenied",
        denied.format("sts:SetSourceIdentity"),
        403,
    )
    _trust_with(world, ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"])
    try:
        # The source user's own policy allows only sts:AssumeRole; cross-account, it must allow the others too.
        assert client_error(sts.assume_role, **base, SourceIdentity="alice")[0] == "AccessDenied"
        world.source.client("iam").put_user_policy(
            UserName="AssumeRoleUser",
            PolicyName="TagAndIdentify",
            PolicyDocument=policy(
                {"Effect": "Allow", "Action": ["sts:TagSession", "sts:SetSourceIdentity"], "Resource": from_loopback}
            ),
        )
        found = sts.assume_role(**base, **tags, SourceIdentity="alice")
        assert found["SourceIdentity"] == "alice"
        assert 0 < found["PackedPolicySize"] <= 100
    finally:
        _trust_with(world, ["sts:AssumeRole"])


def _fresh_totp_step() -> float:
    """Wait out the last two seconds of a 30-second step, so codes computed now are checked in the same step."""
    if TOTP_STEP - time.time() % TOTP_STEP < 2:
        time.sleep(TOTP_STEP - time.time() % TOTP_STEP + 0.1)
    return time.time()


def test_mfa_required_by_the_trust_policy(world: World, from_loopback: str, assume_role_user: Principal) -> None:
    iam = world.source.client("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="AssumeRoleUser")["VirtualMFADevice"]
    totp = pyotp.TOTP(device["Base32StringSeed"].decode(), interval=TOTP_STEP)
    now = _fresh_totp_step()
    iam.enable_mfa_device(
        UserName="AssumeRoleUser",
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp.at(now - TOTP_STEP),
        AuthenticationCode2=totp.at(now),
    )
    mfa_trust = _trust_document(world.source.account, "127.0.0.0/8")
    mfa_trust["Statement"][0]["Condition"]["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
    world.target.client("iam").update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(mfa_trust))
    sts = assume_role_user.client("sts")
    base = {"RoleArn": from_loopback, "RoleSessionName": "with-mfa", "ExternalId": EXTERNAL_ID}
    try:
        assert client_error(sts.assume_role, **base)[0] == "AccessDenied"  # no MFA: the Bool condition fails
        serial = device["SerialNumber"]
        invalid = ("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.", 403)
        wrong = f"{(int(totp.at(now + TOTP_STEP)) + 1) % 1_000_000:06d}"
        assert client_error(sts.assume_role, **base, SerialNumber=serial, TokenCode=wrong) == invalid
        code = totp.at(now + TOTP_STEP)  # the next code: the enabling codes are spent
        session = sts.assume_role(**base, SerialNumber=serial, TokenCode=code)
        assert session["AssumedRoleUser"]["Arn"].endswith(f"/{ROLE}/with-mfa")
        assert client_error(sts.assume_role, **base, SerialNumber=serial, TokenCode=code) == invalid  # no replay
    finally:
        _trust_with(world, ["sts:AssumeRole"])


def test_permission_policy_reads_only_production_tagged_objects(
    world: World, from_loopback: str, assume_role_user: Principal
) -> None:
    """CustomS3Access as the session's only policy: GetObject on my-secure-bucket where the object's
    Environment tag is Production (ReadOnlyAccess, also on the role, would allow every read)."""
    s3 = world.target.client("s3")
    s3.create_bucket(Bucket="my-secure-bucket")
    s3.put_object(Bucket="my-secure-bucket", Key="prod.txt", Body=b"p", Tagging="Environment=Production")
    s3.put_object(Bucket="my-secure-bucket", Key="staging.txt", Body=b"s", Tagging="Environment=Staging")
    session = assume_role_user.assume(
        from_loopback, "s3-reader", ExternalId=EXTERNAL_ID, Policy=json.dumps(PERMISSION_POLICY)
    ).client("s3")
    assert session.get_object(Bucket="my-secure-bucket", Key="prod.txt")["Body"].read() == b"p"
    assert client_error(session.get_object, Bucket="my-secure-bucket", Key="staging.txt")[0::2] == (
        "AccessDenied",
        403,
    )
