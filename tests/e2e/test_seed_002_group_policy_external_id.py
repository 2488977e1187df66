"""Seed 002: a customer managed policy on the group `developers`, the user natan in it, an ExternalId role
in the client's account, and the temporary credentials pasted into ~/.aws/credentials as a new profile.

The console steps (create policy, group, user) are the same IAM calls made with boto3; the CLI steps run
with the real aws CLI reading the credentials file the walkthrough has the reader edit.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from awscli_support import AwsCli, Principal, client_error, management_admin, member_account, policy
from e2e_support import LiveServer, live_server

EXTERNAL_ID = "MyApp-7f3a9c"
POLICY_NAME = "MyAppS3Access"


@dataclass(frozen=True)
class World:
    server: LiveServer
    dev: Principal  # "our" account
    client: Principal  # the client's account, which owns MyApp/MyS3Access
    natan: Principal
    role_arn: str
    policy_arn: str


def _client_role(client: Principal, our_account: str) -> str:
    trust = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{our_account}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
    }
    iam = client.client("iam")
    role = iam.create_role(RoleName="MyS3Access", Path="/MyApp/", AssumeRolePolicyDocument=policy(trust))["Role"]
    iam.attach_role_policy(RoleName="MyS3Access", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    s3 = client.client("s3")
    s3.create_bucket(Bucket="path")  # the walkthrough lists s3://path/to/bucket/: bucket `path`, prefix to/bucket/
    s3.put_object(Bucket="path", Key="to/bucket/report.csv", Body=b"id,total\n1,42\n")
    return str(role["Arn"])


def _console_steps(dev: Principal, role_arn: str) -> tuple[Principal, str]:
    """Policies > Create policy (JSON tab), Groups > developers with it attached, Users > natan in the group."""
    iam = dev.client("iam")
    definition = policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn})
    policy_arn = iam.create_policy(PolicyName=POLICY_NAME, PolicyDocument=definition)["Policy"]["Arn"]
    iam.create_group(GroupName="developers")
    customer_managed = iam.list_policies(Scope="Local")["Policies"]  # "filter by Customer Managed policies"
    assert [p["PolicyName"] for p in customer_managed] == [POLICY_NAME]
    iam.attach_group_policy(GroupName="developers", PolicyArn=policy_arn)
    natan = dev.user("natan")
    iam.add_user_to_group(GroupName="developers", UserName="natan")
    return natan, policy_arn


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with live_server(tmp_path_factory.mktemp("seed002") / "data") as server:
        admin = management_admin(server)
        dev, client = member_account(admin, "dev"), member_account(admin, "client")
        role_arn = _client_role(client, dev.account)
        natan, policy_arn = _console_steps(dev, role_arn)
        yield World(server, dev, client, natan, role_arn, policy_arn)


@pytest.fixture(scope="module")
def cli(world: World, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    """natan's CLI: ~/.aws/credentials holds his key as the default profile, as the walkthrough shows."""
    aws = AwsCli(tmp_path_factory.mktemp("home002"), world.server.endpoint)
    aws.credentials_file.write_text(
        f"[default]\naws_access_key_id = {world.natan.key_id}\naws_secret_access_key = {world.natan.secret}\n"
    )
    return aws


def test_user_page_shows_the_group_and_its_policy(world: World) -> None:
    iam = world.dev.client("iam")
    groups = iam.list_groups_for_user(UserName="natan")["Groups"]
    assert [g["GroupName"] for g in groups] == ["developers"]
    attached = iam.list_attached_group_policies(GroupName="developers")["AttachedPolicies"]
    assert attached == [{"PolicyName": POLICY_NAME, "PolicyArn": world.policy_arn}]
    entities = iam.list_entities_for_policy(PolicyArn=world.policy_arn)
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == ["developers"]
    assert iam.get_policy(PolicyArn=world.policy_arn)["Policy"]["AttachmentCount"] == 1


def test_assume_role_and_use_the_new_profile(world: World, cli: AwsCli) -> None:
    started = datetime.now(UTC)
    assumed = cli.bash(
        f'aws sts assume-role --role-arn "{world.role_arn}" --role-session-name "FirstSession"'
        f' --external-id "{EXTERNAL_ID}"'
    )
    assert assumed.returncode == 0, assumed.stderr
    credentials = assumed.json()["Credentials"]
    assert datetime.fromisoformat(credentials["Expiration"]) - started <= timedelta(hours=1, seconds=5)
    with cli.credentials_file.open("a") as credentials_file:  # "Open ~/.aws/credentials and add ... a new profile"
        credentials_file.write(
            "\n# Add a new profile\n[new-profile]\n"
            f"aws_access_key_id = {credentials['AccessKeyId']}\n"
            f"aws_secret_access_key = {credentials['SecretAccessKey']}\n"
            f"aws_session_token = {credentials['SessionToken']}\n"
        )
    listed = cli.run("s3", "ls", "s3://path/to/bucket/", profile="new-profile")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[-2:] == ["14", "report.csv"]
    identity = cli.ok("sts", "get-caller-identity", profile="new-profile")
    session_arn = f"arn:aws:sts::{world.client.account}:assumed-role/MyS3Access/FirstSession"
    role_id = world.client.client("iam").get_role(RoleName="MyS3Access")["Role"]["RoleId"]
    assert identity == {"UserId": f"{role_id}:FirstSession", "Account": world.client.account, "Arn": session_arn}
    # The profile carries the role's permissions (S3 read-only), not natan's or anyone else's.
    assert cli.fail("iam", "list-roles", profile="new-profile") == (
        "AccessDenied",
        f"User: {session_arn} is not authorized to perform: iam:ListRoles on resource:"
        f" arn:aws:iam::{world.client.account}:role/"
        " because no identity-based policy allows the iam:ListRoles action",
    )
    assert cli.ok("sts", "get-caller-identity")["Arn"] == world.natan.arn  # the default profile is untouched
    natan_s3 = world.natan.client("s3")  # natan himself has no access to the client's bucket
    assert client_error(natan_s3.list_objects_v2, Bucket="path", Prefix="to/bucket/")[0::2] == ("AccessDenied", 403)


def test_external_id_is_required_and_must_match(world: World) -> None:
    sts = world.natan.client("sts")
    denied = f"User: {world.natan.arn} is not authorized to perform: sts:AssumeRole on resource: {world.role_arn}"
    assert client_error(sts.assume_role, RoleArn=world.role_arn, RoleSessionName="FirstSession") == (
        "AccessDenied",
        denied,
        403,
    )
    assert client_error(
        sts.assume_role, RoleArn=world.role_arn, RoleSessionName="FirstSession", ExternalId="MyApp-wrong"
    ) == ("AccessDenied", denied, 403)
    assert client_error(
        sts.assume_role, RoleArn=world.role_arn, RoleSessionName="FirstSession", ExternalId="<external-id>"
    ) == (
        "ValidationError",
        "1 validation error detected: Value '<external-id>' at 'externalId' failed to satisfy constraint:"
        " Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*",
        400,
    )


def test_only_members_of_developers_may_assume(world: World) -> None:
    outsider = world.dev.user("outsider")
    params = {"RoleArn": world.role_arn, "RoleSessionName": "FirstSession", "ExternalId": EXTERNAL_ID}
    because = " because no identity-based policy allows the sts:AssumeRole action"
    assert client_error(outsider.client("sts").assume_role, **params) == (
        "AccessDenied",
        f"User: {outsider.arn} is not authorized to perform: sts:AssumeRole on resource: {world.role_arn}{because}",
        403,
    )
    iam = world.dev.client("iam")
    iam.add_user_to_group(GroupName="developers", UserName="outsider")
    assert outsider.client("sts").assume_role(**params)["AssumedRoleUser"]["Arn"].endswith("/MyS3Access/FirstSession")
    iam.remove_user_from_group(GroupName="developers", UserName="outsider")
    assert client_error(outsider.client("sts").assume_role, **params)[0] == "AccessDenied"


def test_group_user_and_policy_cannot_be_deleted_while_in_use(world: World) -> None:
    iam = world.dev.client("iam")
    assert client_error(iam.delete_group, GroupName="developers") == (
        "DeleteConflict",
        "Cannot delete entity, must remove users from group first.",
        409,
    )
    assert client_error(iam.delete_policy, PolicyArn=world.policy_arn) == (
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
        409,
    )
    assert client_error(iam.delete_user, UserName="natan") == (
        "DeleteConflict",
        "Cannot delete entity, must delete access keys first.",
        409,
    )


def _expire(server: LiveServer, access_key_id: str) -> None:
    """Let the session's hour pass: move its stored expiry into the past (the server has no clock to wind)."""
    past = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0).isoformat()
    with sqlite3.connect(server.data_dir / "rolegate.sqlite") as db:
        changed = db.execute(
            "UPDATE sessions SET payload = json_set(payload, '$.expires', ?) WHERE access_key_id = ?",
            (past, access_key_id),
        ).rowcount
    assert changed == 1


def test_expired_credentials_must_be_assumed_again(world: World, cli: AwsCli) -> None:
    """Expired credentials fail with ExpiredToken until the role is assumed again and the profile updated."""
    params = {"RoleArn": world.role_arn, "RoleSessionName": "SecondSession", "ExternalId": EXTERNAL_ID}
    stale = world.natan.client("sts").assume_role(**params)["Credentials"]
    _expire(world.server, stale["AccessKeyId"])
    cli.set_credentials("stale-profile", stale["AccessKeyId"], stale["SecretAccessKey"], stale["SessionToken"])
    assert cli.fail("sts", "get-caller-identity", profile="stale-profile") == (
        "ExpiredToken",
        "The security token included in the request is expired",
    )
    fresh = world.natan.client("sts").assume_role(**params)["Credentials"]
    cli.set_credentials("stale-profile", fresh["AccessKeyId"], fresh["SecretAccessKey"], fresh["SessionToken"])
    assert cli.ok("sts", "get-caller-identity", profile="stale-profile")["Arn"].endswith("/SecondSession")


def test_customer_managed_policies_page_with_markers(world: World, cli: AwsCli) -> None:
    iam = world.dev.client("iam")
    for index in range(3):
        iam.create_policy(
            PolicyName=f"Paged{index}",
            PolicyDocument=policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}),
        )
    first = iam.list_policies(Scope="Local", MaxItems=2)
    assert first["IsTruncated"] is True
    second = iam.list_policies(Scope="Local", MaxItems=2, Marker=first["Marker"])
    names = [p["PolicyName"] for p in first["Policies"] + second["Policies"]]
    assert second["IsTruncated"] is False
    assert sorted(names) == sorted([POLICY_NAME, "Paged0", "Paged1", "Paged2"])
    assert client_error(iam.list_policies, Scope="Local", MaxItems=2, Marker="not-a-marker")[0::2] == (
        "ValidationError",
        400,
    )
    # The CLI follows the markers itself, one policy per request here, and returns them all.
    cli.set_credentials("admin", world.dev.key_id, world.dev.secret)
    listed = cli.ok("iam", "list-policies", "--scope", "Local", "--page-size", "1", profile="admin")
    assert sorted(p["PolicyName"] for p in listed["Policies"]) == sorted(names)
    assert json.dumps(listed).count("Marker") == 0
