"""Seed 003, sections 6 and 7: DeveloperRole in Account A assumes ProductionAccessRole in Account B with an
ExternalId (commands with inline JSON, as printed), then the guide's common errors and debugging commands:
AccessDenied naming the missing identity permission, SignatureDoesNotMatch, invalid or disabled keys,
get-caller-identity that works whatever the policies say, and simulate-principal-policy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from awscli_support import AwsCli, Principal, client_error, management_admin, member_account, policy
from e2e_support import LiveServer, live_server

EXTERNAL_ID = "prod-access-2024"
TARGET = "CrossAccountAccessRole"
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access"
    " Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."


@dataclass(frozen=True)
class World:
    server: LiveServer
    management: Principal  # the organization's administrator
    account_a: Principal
    account_b: Principal
    developer: Principal  # the person in Account A who works through DeveloperRole


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with live_server(tmp_path_factory.mktemp("seed003b") / "data") as server:
        admin = management_admin(server)
        account_a, account_b = member_account(admin, "development"), member_account(admin, "production")
        developer = account_a.user(
            "developer", policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})
        )
        trust = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_a.account}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "unique-external-id"}},
        }
        iam_b = account_b.client("iam")
        iam_b.create_role(RoleName=TARGET, AssumeRolePolicyDocument=policy(trust))
        iam_b.attach_role_policy(RoleName=TARGET, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        yield World(server, admin, account_a, account_b, developer)


@pytest.fixture(scope="module")
def cli(world: World, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    aws = AwsCli(tmp_path_factory.mktemp("home003b"), world.server.endpoint)
    aws.set_credentials("account-a", world.account_a.key_id, world.account_a.secret)
    aws.set_credentials("account-b", world.account_b.key_id, world.account_b.secret)
    return aws


def _production_role_command(account_a: str) -> str:
    return (
        "aws iam create-role \\\n--role-name ProductionAccessRole \\\n--assume-role-policy-document '{\n"
        '"Version": "2012-10-17",\n"Statement": [\n{\n"Effect": "Allow",\n"Principal": {\n'
        f'"AWS": "arn:aws:iam::{account_a}:role/DeveloperRole"\n'
        '},\n"Action": "sts:AssumeRole",\n"Condition": {\n"StringEquals": {\n'
        f'"sts:ExternalId": "{EXTERNAL_ID}"\n'
        "}\n}\n}\n]\n}'\n"
    )


def _developer_policy_command(account_b: str) -> str:
    return (
        "aws iam put-role-policy \\\n--role-name DeveloperRole \\\n--policy-name AssumeProductionRole \\\n"
        "--policy-document '{\n"
        '"Version": "2012-10-17",\n"Statement": [\n{\n"Effect": "Allow",\n"Action": "sts:AssumeRole",\n'
        f'"Resource": "arn:aws:iam::{account_b}:role/ProductionAccessRole"\n'
        "}\n]\n}'\n"
    )


@pytest.fixture(scope="module")
def production_role(world: World, cli: AwsCli) -> str:
    """The cross-account setup commands, in the guide's order (B first, then A) — and in the order that works."""
    a, b = world.account_a.account, world.account_b.account
    too_early = cli.bash(_production_role_command(a), env={"AWS_PROFILE": "account-b"})
    assert too_early.error[0::2] == (
        "MalformedPolicyDocument",
        f'Invalid principal in policy: "AWS":"arn:aws:iam::{a}:role/DeveloperRole"',
    )
    # DeveloperRole has to exist first; the developer in Account A works through it.
    developer_trust = {"Effect": "Allow", "Principal": {"AWS": world.developer.arn}, "Action": "sts:AssumeRole"}
    world.account_a.client("iam").create_role(
        RoleName="DeveloperRole", AssumeRolePolicyDocument=policy(developer_trust)
    )
    created = cli.bash(
        f"set -e\nAWS_PROFILE=account-b {_production_role_command(a)}AWS_PROFILE=account-a {_developer_policy_command(b)}"
    )
    assert created.returncode == 0, created.stderr
    (role,) = created.documents()
    assert role["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{a}:role/DeveloperRole"
    }
    return str(role["Role"]["Arn"])


def test_developer_role_assumes_the_production_role(world: World, production_role: str) -> None:
    developer_role = world.developer.assume(f"arn:aws:iam::{world.account_a.account}:role/DeveloperRole", "dev")
    sts = developer_role.client("sts")
    assumed = sts.assume_role(RoleArn=production_role, RoleSessionName="release", ExternalId=EXTERNAL_ID)
    assert assumed["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{world.account_b.account}:assumed-role/ProductionAccessRole/release"
    )
    denied = f"User: {developer_role.arn} is not authorized to perform: sts:AssumeRole on resource: {production_role}"
    assert client_error(sts.assume_role, RoleArn=production_role, RoleSessionName="release") == (
        "AccessDenied",
        denied,
        403,
    )
    # Role chaining caps the session at one hour, whatever ProductionAccessRole's maximum.
    world.account_b.client("iam").update_role(RoleName="ProductionAccessRole", MaxSessionDuration=43200)
    assert client_error(
        sts.assume_role,
        RoleArn=production_role,
        RoleSessionName="release",
        ExternalId=EXTERNAL_ID,
        DurationSeconds=3601,
    ) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assuming other roles.",
        400,
    )


def test_trust_names_the_role_not_the_people_behind_it(world: World, production_role: str) -> None:
    """The developer's own user, with sts:AssumeRole on everything, is not the trusted DeveloperRole."""
    assert client_error(
        world.developer.client("sts").assume_role,
        RoleArn=production_role,
        RoleSessionName="direct",
        ExternalId=EXTERNAL_ID,
    ) == (
        "AccessDenied",
        f"User: {world.developer.arn} is not authorized to perform: sts:AssumeRole on resource: {production_role}",
        403,
    )


def test_developer_role_needs_its_own_permission(world: World, production_role: str) -> None:
    iam_a = world.account_a.client("iam")
    iam_a.delete_role_policy(RoleName="DeveloperRole", PolicyName="AssumeProductionRole")
    try:
        session = world.developer.assume(f"arn:aws:iam::{world.account_a.account}:role/DeveloperRole", "no-policy")
        assert client_error(
            session.client("sts").assume_role,
            RoleArn=production_role,
            RoleSessionName="release",
            ExternalId=EXTERNAL_ID,
        ) == (
            "AccessDenied",
            f"User: {session.arn} is not authorized to perform: sts:AssumeRole on resource: {production_role}"
            " because no identity-based policy allows the sts:AssumeRole action",
            403,
        )
    finally:
        iam_a.put_role_policy(
            RoleName="DeveloperRole",
            PolicyName="AssumeProductionRole",
            PolicyDocument=policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": production_role}),
        )


@pytest.fixture(scope="module")
def testuser(world: World) -> Principal:
    return world.account_a.user("testuser")


def test_error_user_not_authorized_to_assume(world: World, cli: AwsCli, testuser: Principal) -> None:
    """The guide's first error: the source identity lacks sts:AssumeRole (message names the identity gate)."""
    target = f"arn:aws:iam::{world.account_b.account}:role/{TARGET}"
    env = {"AWS_ACCESS_KEY_ID": testuser.key_id, "AWS_SECRET_ACCESS_KEY": testuser.secret}
    code, message = cli.fail(
        "sts",
        "assume-role",
        "--role-arn",
        target,
        "--role-session-name",
        "try",
        "--external-id",
        "unique-external-id",
        env=env,
    )
    assert code == "AccessDenied"
    assert message == (
        f"User: arn:aws:iam::{world.account_a.account}:user/testuser is not authorized to perform: sts:AssumeRole"
        f" on resource: {target} because no identity-based policy allows the sts:AssumeRole action"
    )


def test_error_request_signature_does_not_match(cli: AwsCli, testuser: Principal) -> None:
    env = {"AWS_ACCESS_KEY_ID": testuser.key_id, "AWS_SECRET_ACCESS_KEY": testuser.secret[:-4] + "AAAA"}
    assert cli.fail("sts", "get-caller-identity", env=env) == ("SignatureDoesNotMatch", SIGNATURE_MISMATCH)
    assert client_error(testuser.server.client("iam", key_id=testuser.key_id, secret="x" * 40).get_user) == (
        "SignatureDoesNotMatch",
        SIGNATURE_MISMATCH,
        403,
    )


def test_error_credentials_unknown_disabled_or_deleted(world: World) -> None:
    """Unknown, deactivated and deleted keys, and a session key without its token: all the same error."""
    user = world.account_a.user("rotating")
    sts = user.client("sts")
    invalid = ("InvalidClientTokenId", INVALID_TOKEN, 403)
    unknown = world.server.client("sts", key_id="AKIAIOSFODNN7EXAMPLE", secret=user.secret)
    assert client_error(unknown.get_caller_identity) == invalid
    iam = world.account_a.client("iam")
    iam.update_access_key(UserName="rotating", AccessKeyId=user.key_id, Status="Inactive")
    assert client_error(sts.get_caller_identity) == invalid
    iam.update_access_key(UserName="rotating", AccessKeyId=user.key_id, Status="Active")
    assert sts.get_caller_identity()["Arn"] == user.arn
    iam.delete_access_key(UserName="rotating", AccessKeyId=user.key_id)
    assert client_error(sts.get_caller_identity) == invalid
    session_without_token = world.server.client("sts", key_id="ASIAIOSFODNN7EXAMPLE", secret=user.secret)
    assert client_error(session_without_token.get_caller_identity) == invalid


def test_get_caller_identity_works_under_deny_everything(world: World, cli: AwsCli) -> None:
    denied_user = world.account_a.user("locked-out", policy({"Effect": "Deny", "Action": "*", "Resource": "*"}))
    env = {"AWS_ACCESS_KEY_ID": denied_user.key_id, "AWS_SECRET_ACCESS_KEY": denied_user.secret}
    assert cli.ok("sts", "get-caller-identity", env=env) == {
        "UserId": _user_id(world, "locked-out"),
        "Account": world.account_a.account,
        "Arn": denied_user.arn,
    }
    assert client_error(denied_user.client("iam").get_user) == (
        "AccessDenied",
        f"User: {denied_user.arn} is not authorized to perform: iam:GetUser on resource: {denied_user.arn}"
        " with an explicit deny in an identity-based policy",
        403,
    )


def _user_id(world: World, name: str) -> str:
    return str(world.account_a.client("iam").get_user(UserName=name)["User"]["UserId"])


def test_debugging_commands(world: World, cli: AwsCli, testuser: Principal, tmp_path: Path) -> None:
    """get-caller-identity, get-role, list-attached-role-policies, simulate-principal-policy — as printed."""
    b = world.account_b.account
    described = cli.bash(
        "set -e\naws sts get-caller-identity\naws iam get-role --role-name CrossAccountAccessRole\n"
        "aws iam list-attached-role-policies --role-name CrossAccountAccessRole\n",
        env={"AWS_PROFILE": "account-b"},
    )
    assert described.returncode == 0, described.stderr
    identity, role, attached = described.documents()
    assert identity["Arn"] == world.account_b.arn
    assert role["Role"]["Arn"] == f"arn:aws:iam::{b}:role/{TARGET}"
    assert attached["AttachedPolicies"] == [
        {"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    ]
    simulate = (
        "aws iam simulate-principal-policy \\\n--policy-source-arn {source} \\\n--action-names sts:AssumeRole \\\n"
        f"--resource-arns arn:aws:iam::{b}:role/CrossAccountAccessRole"
    )
    nobody = cli.bash(simulate.format(source=testuser.arn), env={"AWS_PROFILE": "account-a"})
    assert nobody.returncode == 0, nobody.stderr
    (result,) = nobody.json()["EvaluationResults"]
    assert (result["EvalActionName"], result["EvalDecision"]) == ("sts:AssumeRole", "implicitDeny")
    assert result["MatchedStatements"] == []
    # With the role's trust policy as the resource policy and the ExternalId in the context, the developer's
    # permission and the trust both allow: the same answer a real AssumeRole gets.
    trust = world.account_b.client("iam").get_role(RoleName=TARGET)["Role"]["AssumeRolePolicyDocument"]
    (tmp_path / "trust.json").write_text(json.dumps(trust))
    with_trust = cli.bash(
        simulate.format(source=world.developer.arn)
        + " \\\n--resource-policy file://trust.json"
        + " \\\n--context-entries ContextKeyName=sts:ExternalId,ContextKeyValues=unique-external-id,ContextKeyType=string",
        env={"AWS_PROFILE": "account-a"},
        cwd=tmp_path,
    )
    assert with_trust.returncode == 0, with_trust.stderr
    (allowed,) = with_trust.json()["EvaluationResults"]
    assert allowed["EvalDecision"] == "allowed"
    assert allowed["MatchedStatements"]


def test_denials_name_the_organization_and_boundary_gates(world: World, production_role: str) -> None:
    """The same AssumeRole, refused by an SCP on Account A, then by the developer's permissions boundary."""
    session = world.developer.assume(f"arn:aws:iam::{world.account_a.account}:role/DeveloperRole", "gates")
    sts = session.client("sts")
    request = {"RoleArn": production_role, "RoleSessionName": "release", "ExternalId": EXTERNAL_ID}
    denied = f"User: {session.arn} is not authorized to perform: sts:AssumeRole on resource: {production_role}"
    organizations = world.management.client("organizations")
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    organizations.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")  # off in a new organization
    scp = organizations.create_policy(
        Name="NoProductionFromDevelopment",
        Description="development may not reach production",
        Type="SERVICE_CONTROL_POLICY",
        Content=policy({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": production_role}),
    )["Policy"]["PolicySummary"]["Id"]
    organizations.attach_policy(PolicyId=scp, TargetId=world.account_a.account)
    try:
        assert client_error(sts.assume_role, **request) == (
            "AccessDenied",
            f"{denied} with an explicit deny in a service control policy",
            403,
        )
    finally:
        organizations.detach_policy(PolicyId=scp, TargetId=world.account_a.account)
    assert sts.assume_role(**request)["AssumedRoleUser"]["Arn"].endswith("/ProductionAccessRole/release")
    iam_a = world.account_a.client("iam")
    boundary = iam_a.create_policy(
        PolicyName="ReadOnlyBoundary",
        PolicyDocument=policy({"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}),
    )["Policy"]["Arn"]
    iam_a.put_role_permissions_boundary(RoleName="DeveloperRole", PermissionsBoundary=boundary)
    try:
        assert client_error(sts.assume_role, **request) == (
            "AccessDenied",
            f"{denied} because no permissions boundary allows the sts:AssumeRole action",
            403,
        )
    finally:
        iam_a.delete_role_permissions_boundary(RoleName="DeveloperRole")
