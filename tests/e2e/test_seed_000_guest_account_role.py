"""Seed 000: a dev account assumes a role in prod, built once by a CDK stack and once with the aws CLI.

The CDK stack is stood in for by boto3 (the same IAM calls CloudFormation would make); every command the
walkthrough runs is run with the real aws CLI, in bash where the walkthrough uses shell variables. Account
ids are the ones Organizations CreateAccount assigned instead of the walkthrough's placeholders.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from awscli_support import AwsCli, Principal, client_error, management_admin, member_account, policy
from e2e_support import LiveServer, live_server

GUEST_ROLE = "AssumedRoleByGuestAccount"
CLI_ROLE = "RoleForAccessS3"
S3_POLICY = "AccessS3PolicyCrossAccount"
REVOKE_POLICY = "AWSRevokeOlderSessions"
PROD_BUCKET = "prod-reports"


@dataclass(frozen=True)
class World:
    server: LiveServer
    dev: Principal
    prod: Principal
    guest: Principal  # the dev-account user who assumes the role


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with live_server(tmp_path_factory.mktemp("seed000") / "data") as server:
        admin = management_admin(server)
        dev, prod = member_account(admin, "dev"), member_account(admin, "prod")
        guest = dev.user("guest", policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
        _cdk_stack(prod, dev.account)
        prod.client("s3").create_bucket(Bucket=PROD_BUCKET)  # what the role is for: S3 in the prod account
        yield World(server, dev, prod, guest)


def _cdk_stack(prod: Principal, guest_account: str) -> None:
    """What `new aws_iam.Role(...)` with an AccountPrincipal and `attachInlinePolicy` deploy."""
    iam = prod.client("iam")
    trust = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{guest_account}:root"}, "Action": "sts:AssumeRole"}
    iam.create_role(
        RoleName=GUEST_ROLE, AssumeRolePolicyDocument=policy(trust), Description="enable a guest account to access s3"
    )
    iam.put_role_policy(
        RoleName=GUEST_ROLE,
        PolicyName="PolicyAllowGuestAccountToAccessS3",
        PolicyDocument=policy(
            {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]},
            {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": ["*"]},
        ),
    )


@pytest.fixture(scope="module")
def cli(world: World, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    """The dev user's CLI (default profile) with the prod administrator as profile `prod`."""
    aws = AwsCli(tmp_path_factory.mktemp("home000"), world.server.endpoint)
    aws.set_credentials("default", world.guest.key_id, world.guest.secret)
    aws.set_credentials("prod", world.prod.key_id, world.prod.secret)
    return aws


def test_stack_output_role_arn(world: World) -> None:
    """`CfnOutput(AssumeRoleArn)`: the role's ARN, as the prod account reads it back."""
    role = world.prod.client("iam").get_role(RoleName=GUEST_ROLE)["Role"]
    assert role["Arn"] == f"arn:aws:iam::{world.prod.account}:role/{GUEST_ROLE}"
    assert role["Description"] == "enable a guest account to access s3"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{world.dev.account}:root"
    }


def test_assume_the_role_as_an_awscli_session_and_use_the_exported_credentials(world: World, cli: AwsCli) -> None:
    role_arn = f"arn:aws:iam::{world.prod.account}:role/{GUEST_ROLE}"
    started = datetime.now(UTC)
    assumed = cli.ok("sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "session")
    credentials, user = assumed["Credentials"], assumed["AssumedRoleUser"]
    role_id = world.prod.client("iam").get_role(RoleName=GUEST_ROLE)["Role"]["RoleId"]
    assert user == {
        "AssumedRoleId": f"{role_id}:session",
        "Arn": f"arn:aws:sts::{world.prod.account}:assumed-role/{GUEST_ROLE}/session",
    }
    assert credentials["AccessKeyId"].startswith("ASIA")
    expires = datetime.fromisoformat(credentials["Expiration"])
    assert timedelta(minutes=59) <= expires - started <= timedelta(minutes=61)  # the 1 hour default
    script = (
        f'export AWS_ACCESS_KEY_ID="{credentials["AccessKeyId"]}"\n'
        f'export AWS_SECRET_ACCESS_KEY="{credentials["SecretAccessKey"]}"\n'
        f'export AWS_SESSION_TOKEN="{credentials["SessionToken"]}"\n'
        "aws sts get-caller-identity --query Arn --output text\n"
        "aws s3 ls\n"
    )
    shown = cli.bash(script)
    assert shown.returncode == 0, shown.stderr
    identity, listing = shown.stdout.splitlines()
    assert identity == user["Arn"]  # the exported variables win over the default profile
    assert listing.split()[-1] == PROD_BUCKET  # "Test it": the prod account's buckets
    assert cli.bash("aws s3 ls").error[0] == "AccessDenied"  # the dev user itself has no S3 permission


def test_role_arn_as_printed_in_the_walkthrough_is_refused(world: World, cli: AwsCli) -> None:
    """The walkthrough's ARN lacks a colon (`iam:ACCOUNT`) and misspells the role (`GuesAccount`)."""
    printed = f"arn:aws:iam:{world.prod.account}:role/AssumedRoleByGuesAccount"
    assert cli.fail("sts", "assume-role", "--role-arn", printed, "--role-session-name", "session") == (
        "ValidationError",
        f"{printed} is invalid",
    )
    misspelled = f"arn:aws:iam::{world.prod.account}:role/AssumedRoleByGuesAccount"
    assert cli.fail("sts", "assume-role", "--role-arn", misspelled, "--role-session-name", "session") == (
        "AccessDenied",
        f"User: {world.guest.arn} is not authorized to perform: sts:AssumeRole on resource: {misspelled}",
    )


def test_cross_account_needs_the_guest_users_own_permission(world: World) -> None:
    """The trust names the whole dev account, but a dev user still needs an identity policy allowing it."""
    nobody = world.dev.user("no-permissions")
    role_arn = f"arn:aws:iam::{world.prod.account}:role/{GUEST_ROLE}"
    assert client_error(nobody.client("sts").assume_role, RoleArn=role_arn, RoleSessionName="session") == (
        "AccessDenied",
        f"User: {nobody.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        " because no identity-based policy allows the sts:AssumeRole action",
        403,
    )


def _write(directory: Path, name: str, document: dict[str, object]) -> None:
    (directory / name).write_text(json.dumps(document, indent=2))


def _trust(principal: dict[str, str]) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    }


def test_create_role_with_the_cli_then_assume_it_from_dev(world: World, cli: AwsCli, tmp_path: Path) -> None:
    prod = world.prod.account
    _write(tmp_path, "trust_policy.json", _trust({"Service": "ec2.amazonaws.com"}))
    _write(
        tmp_path,
        "policy_access_s3.json",
        {
            "Version": "2012-10-17",
            "Statement": [{"Sid": "AccessS3Policy", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        },
    )
    created = cli.bash(
        f"set -e\nexport AWS_PROFILE=prod\nexport PRODUCT_ACCOUNT={prod}\n"
        "aws iam create-role \\\n--role-name RoleForAccessS3 \\\n--assume-role-policy-document \\\nfile://trust_policy.json\n"
        "aws iam create-policy \\\n--policy-name AccessS3PolicyCrossAccount \\\n--policy-document file://policy_access_s3.json\n"
        "aws iam attach-role-policy \\\n--role-name RoleForAccessS3 \\\n"
        "--policy-arn arn:aws:iam::$PRODUCT_ACCOUNT:policy/AccessS3PolicyCrossAccount\n",
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    role, managed = created.documents()
    assert role["Role"]["Arn"] == f"arn:aws:iam::{prod}:role/{CLI_ROLE}"
    assert role["Role"]["AssumeRolePolicyDocument"] == _trust({"Service": "ec2.amazonaws.com"})
    assert managed["Policy"]["Arn"] == f"arn:aws:iam::{prod}:policy/{S3_POLICY}"
    assert managed["Policy"]["DefaultVersionId"] == "v1"
    attached = cli.ok("iam", "list-attached-role-policies", "--role-name", CLI_ROLE, profile="prod")
    assert attached["AttachedPolicies"] == [
        {"PolicyName": S3_POLICY, "PolicyArn": f"arn:aws:iam::{prod}:policy/{S3_POLICY}"}
    ]

    assume = (
        f"aws sts assume-role \\\n--role-arn arn:aws:iam::{prod}:role/RoleForAccessS3 \\\n--role-session-name session\n"
    )
    refused = cli.bash(assume)  # the first trust policy names EC2, not the dev account
    assert refused.returncode != 0
    assert refused.error[0] == "AccessDenied"

    _write(tmp_path, "trust_policy.json", _trust({"AWS": f"arn:aws:iam::{world.dev.account}:root"}))
    updated = cli.bash(
        "aws iam update-assume-role-policy \\\n--role-name RoleForAccessS3 \\\n--policy-document \\\nfile://trust_policy.json\n",
        env={"AWS_PROFILE": "prod"},
        cwd=tmp_path,
    )
    assert (updated.returncode, updated.stdout) == (0, ""), updated.stderr
    assumed = cli.bash(assume)
    assert assumed.returncode == 0, assumed.stderr
    assert json.loads(assumed.stdout)["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{prod}:assumed-role/{CLI_ROLE}/session"
    )


def test_walkthrough_account_placeholder_and_missing_file_prefix(world: World, cli: AwsCli, tmp_path: Path) -> None:
    """`export PRODUCT_ACCOUNT=1111-2222-3333-4444` as printed, and a document path without `file://`."""
    iam = world.prod.client("iam")
    iam.create_role(
        RoleName="PlaceholderTarget",
        AssumeRolePolicyDocument=json.dumps(_trust({"AWS": f"arn:aws:iam::{world.dev.account}:root"})),
    )
    dashed = cli.bash(
        "export PRODUCT_ACCOUNT=1111-2222-3333-4444\n"
        "aws iam attach-role-policy --role-name PlaceholderTarget "
        "--policy-arn arn:aws:iam::$PRODUCT_ACCOUNT:policy/AccessS3PolicyCrossAccount\n",
        env={"AWS_PROFILE": "prod"},
    )
    assert dashed.error[0::2] == (
        "InvalidInput",
        "ARN arn:aws:iam::1111-2222-3333-4444:policy/AccessS3PolicyCrossAccount is not valid.",
    )
    _write(tmp_path, "trust_policy.json", _trust({"AWS": f"arn:aws:iam::{world.dev.account}:root"}))
    no_prefix = cli.bash(
        "aws iam create-role --role-name NoFilePrefix --assume-role-policy-document trust_policy.json\n",
        env={"AWS_PROFILE": "prod"},
        cwd=tmp_path,
    )
    assert no_prefix.error[0::2] == ("MalformedPolicyDocument", "This policy contains invalid Json")
    no_prefix_policy = cli.bash(
        "aws iam create-policy --policy-name NoFilePrefix --policy-document policy_access_s3.json\n",
        env={"AWS_PROFILE": "prod"},
        cwd=tmp_path,
    )
    assert no_prefix_policy.error[0::2] == ("MalformedPolicyDocument", "Syntax errors in policy.")


def test_attached_policies_block_deleting_role_and_policy(world: World) -> None:
    iam = world.prod.client("iam")
    iam.create_role(RoleName="DeleteMe", AssumeRolePolicyDocument=json.dumps(_trust({"Service": "ec2.amazonaws.com"})))
    s3 = policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    arn = iam.create_policy(PolicyName="DeleteMePolicy", PolicyDocument=s3)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="DeleteMe", PolicyArn=arn)
    assert client_error(iam.delete_role, RoleName="DeleteMe") == (
        "DeleteConflict",
        "Cannot delete entity, must detach all policies first.",
        409,
    )
    assert client_error(iam.delete_policy, PolicyArn=arn) == (
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
        409,
    )
    iam.detach_role_policy(RoleName="DeleteMe", PolicyArn=arn)
    iam.put_role_policy(RoleName="DeleteMe", PolicyName="inline", PolicyDocument=s3)
    assert client_error(iam.delete_role, RoleName="DeleteMe") == (
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
        409,
    )
    iam.delete_role_policy(RoleName="DeleteMe", PolicyName="inline")
    iam.delete_role(RoleName="DeleteMe")
    iam.delete_policy(PolicyArn=arn)
    assert client_error(iam.get_role, RoleName="DeleteMe")[0::2] == ("NoSuchEntity", 404)


def _revoke_older_sessions(prod: Principal, before: datetime) -> None:
    """What the console's "Revoke active sessions" writes: deny everything to sessions issued before now."""
    document = policy(
        {
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": before.strftime("%Y-%m-%dT%H:%M:%SZ")}},
        }
    )
    prod.client("iam").put_role_policy(RoleName=GUEST_ROLE, PolicyName=REVOKE_POLICY, PolicyDocument=document)


def test_revoke_to_stop_effectiveness_of_the_role(world: World, cli: AwsCli) -> None:
    """Sessions issued before the revocation lose every permission; later ones and identity lookups work."""
    prod = world.prod.account
    world.prod.client("iam").create_role(
        RoleName="ChainTarget",
        AssumeRolePolicyDocument=json.dumps(_trust({"AWS": f"arn:aws:iam::{prod}:role/{GUEST_ROLE}"})),
    )
    guest_arn = f"arn:aws:iam::{prod}:role/{GUEST_ROLE}"
    old = world.guest.assume(guest_arn, "before-revoke")
    target = f"arn:aws:iam::{prod}:role/ChainTarget"
    assert old.client("sts").assume_role(RoleArn=target, RoleSessionName="chain")["AssumedRoleUser"]
    cutoff = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    _revoke_older_sessions(world.prod, cutoff)
    try:
        env = {
            "AWS_ACCESS_KEY_ID": old.key_id,
            "AWS_SECRET_ACCESS_KEY": old.secret,
            "AWS_SESSION_TOKEN": old.token or "",
        }
        code, message = cli.fail("sts", "assume-role", "--role-arn", target, "--role-session-name", "chain", env=env)
        assert code == "AccessDenied"
        assert message == (
            f"User: {old.arn} is not authorized to perform: sts:AssumeRole on resource: {target}"
            " with an explicit deny in an identity-based policy"
        )
        assert cli.ok("sts", "get-caller-identity", env=env)["Arn"] == old.arn  # needs no permission
        time.sleep(max(0.0, (cutoff - datetime.now(UTC)).total_seconds()) + 0.05)
        new = world.guest.assume(guest_arn, "after-revoke")
        chained = new.client("sts").assume_role(RoleArn=target, RoleSessionName="chain")
        assert chained["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{prod}:assumed-role/ChainTarget/chain"
    finally:
        world.prod.client("iam").delete_role_policy(RoleName=GUEST_ROLE, PolicyName=REVOKE_POLICY)
