"""Seed 004: `aws sts assume-role` for cross-account deployment, the 900 s .. MaxSessionDuration window
(1 to 12 hours), and the build-script function that turns the credentials into exports with --query.

The function runs through `bash -c` exactly as printed, with the aws CLI on PATH: the JMESPath join builds
one `export K=V ...` line (the double quotes inside the backtick literals delimit JSON strings, so none
reach the shell), the unquoted `$(...)` runs it, and later commands in the script act as the role.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from awscli_support import AwsCli, Principal, client_error, management_admin, member_account, policy
from e2e_support import ROOT_KEY_ID, ROOT_SECRET, LiveServer, live_server

ROLE = "xaccounts3access"
FUNCTION = """assume_role() {
  local creds
  $(aws sts assume-role --role-arn "$1" --role-session-name your-session-name --output text --query 'Credentials | join(``, [`"export AWS_ACCESS_KEY_ID="`,AccessKeyId,`" AWS_SECRET_ACCESS_KEY="`,SecretAccessKey,`" AWS_SESSION_TOKEN="`,SessionToken,`\\n`])')
}

if [ -n "${ASSUME_ROLE:-}" ]; then
  assume_role "$ASSUME_ROLE"
fi
"""


@dataclass(frozen=True)
class World:
    server: LiveServer
    dev: Principal
    prod: Principal
    builder: Principal  # the dev account's build user
    role_arn: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with live_server(tmp_path_factory.mktemp("seed004") / "data") as server:
        admin = management_admin(server)
        dev, prod = member_account(admin, "dev"), member_account(admin, "prod")
        builder = dev.user("builder", policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
        trust = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{dev.account}:root"},
            "Action": "sts:AssumeRole",
        }
        role = prod.client("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument=policy(trust))["Role"]
        yield World(server, dev, prod, builder, role["Arn"])


@pytest.fixture(scope="module")
def cli(world: World, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    aws = AwsCli(tmp_path_factory.mktemp("home004"), world.server.endpoint)
    aws.set_credentials("default", world.builder.key_id, world.builder.secret)
    return aws


def test_assume_role_output(world: World, cli: AwsCli) -> None:
    started = datetime.now(UTC)
    output = cli.ok("sts", "assume-role", "--role-arn", world.role_arn, "--role-session-name", "s3-access-example")
    assert set(output) == {"AssumedRoleUser", "Credentials"}
    role_id = world.prod.client("iam").get_role(RoleName=ROLE)["Role"]["RoleId"]
    assert output["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role_id}:s3-access-example",
        "Arn": f"arn:aws:sts::{world.prod.account}:assumed-role/{ROLE}/s3-access-example",
    }
    credentials = output["Credentials"]
    assert set(credentials) == {"SecretAccessKey", "SessionToken", "Expiration", "AccessKeyId"}
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", credentials["AccessKeyId"])
    assert len(credentials["SecretAccessKey"]) == 40
    lifetime = datetime.fromisoformat(credentials["Expiration"]) - started
    assert timedelta(minutes=59) <= lifetime <= timedelta(hours=1, seconds=5)  # "last for one hour"


def test_build_script_function_as_printed(world: World, cli: AwsCli) -> None:
    ran = cli.bash(
        FUNCTION + 'printf "%s\\n" "$AWS_ACCESS_KEY_ID"\naws sts get-caller-identity --query Arn --output text\n',
        env={"ASSUME_ROLE": world.role_arn},
    )
    assert ran.returncode == 0, ran.stderr
    exported, identity = ran.stdout.splitlines()
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", exported)
    assert identity == f"arn:aws:sts::{world.prod.account}:assumed-role/{ROLE}/your-session-name"


def test_build_script_function_with_a_role_it_may_not_assume(world: World, cli: AwsCli) -> None:
    """A failed assume-role prints nothing to run: the script goes on as the build user, with the error shown."""
    missing = f"arn:aws:iam::{world.prod.account}:role/no-such-role"
    ran = cli.bash(FUNCTION + "aws sts get-caller-identity --query Arn --output text\n", env={"ASSUME_ROLE": missing})
    assert ran.returncode == 0
    assert ran.stdout.strip() == world.builder.arn
    assert ran.error == (
        "AccessDenied",
        "AssumeRole",
        f"User: {world.builder.arn} is not authorized to perform: sts:AssumeRole on resource: {missing}",
    )


def test_without_assume_role_the_script_keeps_its_own_identity(world: World, cli: AwsCli) -> None:
    ran = cli.bash(FUNCTION + "aws sts get-caller-identity --query Arn --output text\n")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == world.builder.arn


def test_duration_seconds_between_900_and_max_session_duration(world: World, cli: AwsCli) -> None:
    sts = world.builder.client("sts")
    arn = world.role_arn
    started = datetime.now(UTC)
    shortest = sts.assume_role(RoleArn=arn, RoleSessionName="short", DurationSeconds=900)["Credentials"]
    assert timedelta(minutes=14) <= shortest["Expiration"] - started <= timedelta(minutes=15, seconds=5)
    assert client_error(sts.assume_role, RoleArn=arn, RoleSessionName="long", DurationSeconds=7200) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        400,
    )
    raw = world.builder.client("sts", validate=False)
    assert client_error(raw.assume_role, RoleArn=arn, RoleSessionName="short", DurationSeconds=899) == (
        "ValidationError",
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint:"
        " Member must have value greater than or equal to 900",
        400,
    )
    # "This setting can have a value from 1 hour to 12 hours."
    assert (
        cli.ok(
            "iam",
            "update-role",
            "--role-name",
            ROLE,
            "--max-session-duration",
            "43200",
            env={"AWS_ACCESS_KEY_ID": world.prod.key_id, "AWS_SECRET_ACCESS_KEY": world.prod.secret},
        )
        is None
    )
    twelve = cli.ok(
        "sts", "assume-role", "--role-arn", arn, "--role-session-name", "twelve", "--duration-seconds", "43200"
    )
    lifetime = datetime.fromisoformat(twelve["Credentials"]["Expiration"]) - datetime.now(UTC)
    assert timedelta(hours=11, minutes=59) <= lifetime <= timedelta(hours=12)
    assert client_error(sts.assume_role, RoleArn=arn, RoleSessionName="thirteen", DurationSeconds=43201) == (
        "ValidationError",
        "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint:"
        " Member must have value less than or equal to 43200",
        400,
    )
    iam = world.prod.client("iam", validate=False)
    for out_of_range, bound in ((3599, "greater than or equal to 3600"), (43201, "less than or equal to 43200")):
        assert client_error(iam.update_role, RoleName=ROLE, MaxSessionDuration=out_of_range) == (
            "ValidationError",
            f"1 validation error detected: Value '{out_of_range}' at 'maxSessionDuration' failed to satisfy"
            f" constraint: Member must have value {bound}",
            400,
        )


def test_role_session_name_rules(world: World) -> None:
    sts, raw = world.builder.client("sts"), world.builder.client("sts", validate=False)
    arn = world.role_arn
    assert sts.assume_role(RoleArn=arn, RoleSessionName="a" * 64)["AssumedRoleUser"]["Arn"].endswith("/" + "a" * 64)
    assert sts.assume_role(RoleArn=arn, RoleSessionName="ci+build=1,x.y@z-2")["Credentials"]
    prefix = "1 validation error detected: Value '{}' at 'roleSessionName' failed to satisfy constraint: Member must"
    cases = {
        "a" * 65: "have length less than or equal to 64",
        "x": "have length greater than or equal to 2",
        "your session name": "satisfy regular expression pattern: [\\w+=,.@-]*",
    }
    for name, rule in cases.items():
        assert client_error(raw.assume_role, RoleArn=arn, RoleSessionName=name) == (
            "ValidationError",
            f"{prefix.format(name)} {rule}",
            400,
        )


def test_roles_may_not_be_assumed_by_root(world: World, cli: AwsCli) -> None:
    env = {"AWS_ACCESS_KEY_ID": ROOT_KEY_ID, "AWS_SECRET_ACCESS_KEY": ROOT_SECRET}
    assert cli.fail("sts", "assume-role", "--role-arn", world.role_arn, "--role-session-name", "root", env=env) == (
        "AccessDenied",
        "Roles may not be assumed by root accounts.",
    )
