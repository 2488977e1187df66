"""Seed 001: prod trusts one dev user, and a dev Lambda role, by ARN; the Lambda code assumes the prod role.

The walkthrough prints its policies with the braces lost; those exact texts are what IAM must refuse. The
corrected documents are created with the aws CLI commands it lists. The Lambda function's boto3 code runs
as written with the credentials of its execution role (the test stands in for the Lambda service, which is
the role's trusted principal, by letting the dev administrator assume the role too).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from awscli_support import AwsCli, Principal, client_error, management_admin, member_account, policy
from e2e_support import LiveServer, live_server

DEV_USER_NAME = "haitran"
LAMBDA_ROLE = "lambda-role"
LAMBDA_TARGET = "DevAccountAccessS3Role"
BUCKET_NAME = "prod-lambda-drop"
ASSUME_ANY = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}

# The walkthrough's "Trust Policy in Prod Account" and permission policy, character for character.
PRINTED_TRUST = """"Version": "2012-10-17",
"Statement": [
"Sid": "PolicyForAccessingS3",
"Effect": "Allow",
"Principal": {
"AWS": "arn:aws:iam::$DEV_ACCOUNT:user/$DEV_USER_NAME"
"Action": "sts:AssumeRole"
"""
PRINTED_PERMISSIONS = """"Version": "2012-10-17",
"Statement": [
"Sid": "AccessS3Policy",
"Effect": "Allow",
"Action": "s3:*",
"Resource": "*"
"""


@dataclass(frozen=True)
class World:
    server: LiveServer
    dev: Principal
    prod: Principal
    developer: Principal  # $DEV_USER_NAME, named in the prod trust policy
    lambda_role_arn: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with live_server(tmp_path_factory.mktemp("seed001") / "data") as server:
        admin = management_admin(server)
        dev, prod = member_account(admin, "dev"), member_account(admin, "prod")
        developer = dev.user(DEV_USER_NAME, policy(ASSUME_ANY))
        lambda_trust = policy(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": dev.arn}, "Action": "sts:AssumeRole"},  # the test's stand-in
        )
        role = dev.client("iam").create_role(
            RoleName=LAMBDA_ROLE, Path="/service-role/", AssumeRolePolicyDocument=lambda_trust
        )["Role"]
        yield World(server, dev, prod, developer, role["Arn"])


@pytest.fixture(scope="module")
def cli(world: World, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    aws = AwsCli(tmp_path_factory.mktemp("home001"), world.server.endpoint)
    aws.set_credentials("default", world.developer.key_id, world.developer.secret)
    aws.set_credentials("prod", world.prod.key_id, world.prod.secret)
    return aws


def test_policies_as_printed_are_refused(cli: AwsCli, tmp_path: Path) -> None:
    (tmp_path / "trust.json").write_text(PRINTED_TRUST)
    (tmp_path / "policy_access_s3.json").write_text(PRINTED_PERMISSIONS)
    trust = cli.bash(
        "aws iam create-role --role-name AsPrinted --assume-role-policy-document file://trust.json",
        env={"AWS_PROFILE": "prod"},
        cwd=tmp_path,
    )
    assert trust.error[0::2] == ("MalformedPolicyDocument", "This policy contains invalid Json")
    permissions = cli.bash(
        "aws iam create-policy --policy-name AsPrinted --policy-document file://policy_access_s3.json",
        env={"AWS_PROFILE": "prod"},
        cwd=tmp_path,
    )
    assert permissions.error[0::2] == ("MalformedPolicyDocument", "Syntax errors in policy.")


def _cli_walkthrough(world: World, tmp_path: Path) -> str:
    """The "Using CLI" commands, with the documents written out whole and the shell variables exported."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PolicyForAccessingS3",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::$DEV_ACCOUNT:user/$DEV_USER_NAME"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    permissions = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AccessS3Policy", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    (tmp_path / "policy_access_s3.json").write_text(json.dumps(permissions, indent=2))
    return (
        f"set -e\nexport DEV_ACCOUNT={world.dev.account} DEV_USER_NAME={DEV_USER_NAME}"
        f" PRODUCT_ACCOUNT={world.prod.account}\n"
        f"cat > trust.json <<EOF\n{json.dumps(trust, indent=2)}\nEOF\n"
        "AWS_PROFILE=prod aws iam create-role \\\n--role-name RoleForAccessS3 \\\n"
        "--assume-role-policy-document \\\nfile://trust.json\n"
        "AWS_PROFILE=prod aws iam create-policy \\\n--policy-name AccessS3PolicyCrossAccount \\\n"
        "--policy-document file://policy_access_s3.json\n"
        "AWS_PROFILE=prod aws iam attach-role-policy \\\n--role-name RoleForAccessS3 \\\n"
        "--policy-arn arn:aws:iam::$PRODUCT_ACCOUNT:policy/AccessS3PolicyCrossAccount\n"
        "aws sts assume-role \\\n--role-arn arn:aws:iam::$PRODUCT_ACCOUNT:role/RoleForAccessS3 \\\n"
        "--role-session-name session\n"
    )


def test_role_trusting_one_dev_user_by_arn(world: World, cli: AwsCli, tmp_path: Path) -> None:
    ran = cli.bash(_cli_walkthrough(world, tmp_path), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    role, managed, assumed = ran.documents()
    prod = world.prod.account
    assert role["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{world.dev.account}:user/{DEV_USER_NAME}"
    }
    assert managed["Policy"]["Arn"] == f"arn:aws:iam::{prod}:policy/AccessS3PolicyCrossAccount"
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{prod}:assumed-role/RoleForAccessS3/session"
    # Another dev user with the very same identity policy is not the principal the trust names.
    intern = world.dev.user("intern", policy(ASSUME_ANY))
    role_arn = f"arn:aws:iam::{prod}:role/RoleForAccessS3"
    assert client_error(intern.client("sts").assume_role, RoleArn=role_arn, RoleSessionName="session") == (
        "AccessDenied",
        f"User: {intern.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        403,
    )


def test_trust_naming_a_missing_user_is_refused(world: World) -> None:
    ghost = f"arn:aws:iam::{world.dev.account}:user/nobody-by-this-name"
    document = policy({"Effect": "Allow", "Principal": {"AWS": ghost}, "Action": "sts:AssumeRole"})
    assert client_error(world.prod.client("iam").create_role, RoleName="Ghost", AssumeRolePolicyDocument=document) == (
        "MalformedPolicyDocument",
        f'Invalid principal in policy: "AWS":"{ghost}"',
        400,
    )


@pytest.fixture(scope="module")
def lambda_target(world: World) -> str:
    """The prod role the Lambda's ROLE_ARN names, trusting the Lambda's execution role (Sid LambdaAssumeRole)."""
    trust = {
        "Sid": "LambdaAssumeRole",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{world.dev.account}:role/service-role/{LAMBDA_ROLE}"},
        "Action": "sts:AssumeRole",
    }
    iam = world.prod.client("iam")
    iam.create_role(RoleName=LAMBDA_TARGET, AssumeRolePolicyDocument=policy(trust), MaxSessionDuration=43200)
    iam.put_role_policy(
        RoleName=LAMBDA_TARGET,
        PolicyName="AccessS3Policy",
        PolicyDocument=policy({"Sid": "AccessS3Policy", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
    )
    world.prod.client("s3").create_bucket(Bucket=BUCKET_NAME)
    return f"arn:aws:iam::{world.prod.account}:role/{LAMBDA_TARGET}"


def _lambda_credentials(world: World) -> Principal:
    """What the Lambda runtime hands the function: a session of its execution role."""
    return world.dev.assume(world.lambda_role_arn, "my-function")


def sts_assume_role_token(lambda_session: Principal, role_arn: str) -> dict[str, Any]:
    """The walkthrough's function, with boto3.client("sts") bound to the Lambda's credentials."""
    sts_client = lambda_session.client("sts")
    credentials: dict[str, Any] = sts_client.assume_role(RoleArn=role_arn, RoleSessionName="RoleSessionDemo")[
        "Credentials"
    ]
    return credentials


def test_lambda_needs_permission_to_assume_the_prod_role(world: World, lambda_target: str) -> None:
    """Without "permission for this lambda to do sts:AssumeRole" the identity gate denies, cross-account."""
    function = _lambda_credentials(world)
    assert function.arn == f"arn:aws:sts::{world.dev.account}:assumed-role/{LAMBDA_ROLE}/my-function"
    assert client_error(
        function.client("sts").assume_role, RoleArn=lambda_target, RoleSessionName="RoleSessionDemo"
    ) == (
        "AccessDenied",
        f"User: {function.arn} is not authorized to perform: sts:AssumeRole on resource: {lambda_target}"
        " because no identity-based policy allows the sts:AssumeRole action",
        403,
    )


def test_lambda_function_assumes_the_prod_role(world: World, lambda_target: str) -> None:
    world.dev.client("iam").put_role_policy(
        RoleName=LAMBDA_ROLE,
        PolicyName="AssumeProdRole",
        PolicyDocument=policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": lambda_target}),
    )
    try:
        function = _lambda_credentials(world)
        started = datetime.now(UTC)
        credentials = sts_assume_role_token(function, lambda_target)
        assert credentials["AccessKeyId"].startswith("ASIA")
        assert credentials["Expiration"] - started <= timedelta(hours=1, seconds=5)
        s3_session = Principal(
            world.server,
            world.prod.account,
            "",
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials["SessionToken"],
        )
        identity = s3_session.client("sts").get_caller_identity()
        assert identity["Arn"] == f"arn:aws:sts::{world.prod.account}:assumed-role/{LAMBDA_TARGET}/RoleSessionDemo"
        assert identity["Account"] == world.prod.account
        # write_to_s3_with_credentials: "write to s3 in another account" with the assumed credentials.
        key = str(uuid.uuid4())
        s3_session.client("s3").put_object(Bucket=BUCKET_NAME, Key=key, Body=b"Hello HaiTran")
        written = world.prod.client("s3").get_object(Bucket=BUCKET_NAME, Key=key)["Body"].read()
        assert written == b"Hello HaiTran"
        assert client_error(function.client("s3").put_object, Bucket=BUCKET_NAME, Key=key, Body=b"x")[0::2] == (
            "AccessDenied",
            403,
        )  # the Lambda's own role has no S3 permission in prod: only the assumed role does
        # A role session assuming another role is chaining: one hour at most, whatever the target allows.
        assert client_error(
            function.client("sts").assume_role,
            RoleArn=lambda_target,
            RoleSessionName="RoleSessionDemo",
            DurationSeconds=7200,
        ) == (
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assuming other roles.",
            400,
        )
    finally:
        world.dev.client("iam").delete_role_policy(RoleName=LAMBDA_ROLE, PolicyName="AssumeProdRole")


def test_only_the_lambda_role_named_in_the_trust_may_assume(world: World, lambda_target: str) -> None:
    """The trust names one Lambda role ("double check ... this lambda-arn can assume the role")."""
    other = world.dev.client("iam").create_role(
        RoleName="other-function-role",
        AssumeRolePolicyDocument=policy(
            {"Effect": "Allow", "Principal": {"AWS": world.dev.arn}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]
    world.dev.client("iam").put_role_policy(
        RoleName="other-function-role", PolicyName="assume", PolicyDocument=policy(ASSUME_ANY)
    )
    session = world.dev.assume(other["Arn"], "other")
    assert client_error(session.client("sts").assume_role, RoleArn=lambda_target, RoleSessionName="x1") == (
        "AccessDenied",
        f"User: {session.arn} is not authorized to perform: sts:AssumeRole on resource: {lambda_target}",
        403,
    )
