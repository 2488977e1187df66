"""The S3 halves of the seed walkthroughs, over real HTTP with boto3 and the aws CLI:

- 001: the dev Lambda's handler assumes a prod role and `put_object`s with the temporary credentials (run as
  written, in its own process, with the Lambda's environment; only the endpoint comes from AWS_ENDPOINT_URL);
  and "Test it: aws s3 ls" with the credentials of `aws sts assume-role`;
- 002: `aws s3 ls s3://BUCKET/PREFIX/ --profile new-profile` once the assumed credentials are in
  ~/.aws/credentials;
- 003: the role's `s3:ExistingObjectTag/Environment` condition (the trust policy's `aws:SourceIp` range is
  the loopback network here, where the test calls from).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from awscli_support import AwsCli, Principal, client_error, management_admin, member_account, policy
from e2e_support import LiveServer, live_server
from s3_e2e_support import keys_of, s3_client

DENIED = ("AccessDenied", "Access Denied", 403)
LAMBDA_BUCKET = "prod-lambda-drop"

# The walkthrough's Lambda function, with its comments and names, the lost indentation restored.
LAMBDA_FUNCTION = '''
import os
import json
import uuid
import boto3

ROLE_ARN = "arn:aws:iam::{prod_account}:role/DevAccountAccessS3Role"
BUCKET_NAME = "{bucket}"


def write_to_s3_with_credentials():
    """
    configure s3 client with credentials
    """
    s3Client = boto3.client(
        "s3",
        aws_access_key_id=os.environ["AWS_ACCESS_KEY"],
        aws_secret_access_key=os.environ["AWS_SECRET_KEY"],
        aws_session_token=os.environ["AWS_SESSION_TOKEN"],
    )
    # write data to s3
    try:
        s3Client.put_object(
            Bucket=BUCKET_NAME, Key=str(uuid.uuid4()), Body=b"Hello HaiTran"
        )
    except Exception:
        print("error write to s3")


def sts_assume_role_token():
    """
    get token when assume a role can be cross-account
    """
    stsClient = boto3.client("sts")
    credentials = stsClient.assume_role(
        RoleArn=ROLE_ARN, RoleSessionName="RoleSessionDemo"
    )
    os.environ["AWS_ACCESS_KEY"] = credentials["Credentials"]["AccessKeyId"]
    os.environ["AWS_SECRET_KEY"] = credentials["Credentials"]["SecretAccessKey"]
    os.environ["AWS_SESSION_TOKEN"] = credentials["Credentials"]["SessionToken"]


def lambda_handler(event, context):
    """
    write to s3 in another account
    from the product account, please specify that
    which lambda (ARN) can assume this role.
    """
    # assume role and get credentials
    sts_assume_role_token()
    # write to s3 in another account
    write_to_s3_with_credentials()
    # return
    return {{"statusCode": 200, "body": json.dumps("Hello from Lambda!")}}
'''


@dataclass(frozen=True)
class World:
    server: LiveServer
    management: Principal
    dev: Principal
    prod: Principal


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with live_server(tmp_path_factory.mktemp("s3seeds") / "data") as server:
        admin = management_admin(server)
        yield World(server, admin, member_account(admin, "dev"), member_account(admin, "prod"))


# -- 001 ---------------------------------------------------------------------------------------------------


def _invoke_lambda(world: World, function_dir: Path, execution_role: str) -> subprocess.CompletedProcess[str]:
    """Run `lambda_handler({}, None)` in a fresh interpreter with the environment Lambda gives a function:
    its execution role's session credentials and region (and, here, the endpoint)."""
    session = world.dev.assume(execution_role, "my-function")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(function_dir),
        "PYTHONPATH": str(function_dir),
        "AWS_ACCESS_KEY_ID": session.key_id,
        "AWS_SECRET_ACCESS_KEY": session.secret,
        "AWS_SESSION_TOKEN": session.token or "",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "my-function",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_ENDPOINT_URL": world.server.endpoint,
    }
    script = "import json, lambda_function; print(json.dumps(lambda_function.lambda_handler({}, None)))"
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_001_lambda_handler_writes_to_the_prod_bucket(world: World, tmp_path: Path) -> None:
    dev_iam, prod_iam = world.dev.client("iam"), world.prod.client("iam")
    lambda_role = dev_iam.create_role(
        RoleName="lambda-role",
        Path="/service-role/",
        AssumeRolePolicyDocument=policy(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": world.dev.arn}, "Action": "sts:AssumeRole"},  # stand-in
        ),
    )["Role"]["Arn"]
    target = prod_iam.create_role(
        RoleName="DevAccountAccessS3Role",
        AssumeRolePolicyDocument=policy(
            {
                "Sid": "LambdaAssumeRole",
                "Effect": "Allow",
                "Principal": {"AWS": lambda_role},
                "Action": "sts:AssumeRole",
            }
        ),
    )["Role"]["Arn"]
    prod_iam.put_role_policy(
        RoleName="DevAccountAccessS3Role",
        PolicyName="AccessS3Policy",
        PolicyDocument=policy({"Sid": "AccessS3Policy", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
    )
    dev_iam.put_role_policy(
        RoleName="lambda-role",
        PolicyName="AssumeProdRole",
        PolicyDocument=policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target}),
    )
    prod_s3 = s3_client(world.server, keys_of(world.prod))
    prod_s3.create_bucket(Bucket=LAMBDA_BUCKET)
    (tmp_path / "lambda_function.py").write_text(
        LAMBDA_FUNCTION.format(prod_account=world.prod.account, bucket=LAMBDA_BUCKET)
    )

    ran = _invoke_lambda(world, tmp_path, lambda_role)
    assert ran.returncode == 0, ran.stderr
    assert "error write to s3" not in ran.stdout
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == {
        "statusCode": 200,
        "body": json.dumps("Hello from Lambda!"),
    }
    (written,) = prod_s3.list_objects_v2(Bucket=LAMBDA_BUCKET)["Contents"]
    assert str(uuid.UUID(written["Key"])) == written["Key"]
    assert prod_s3.get_object(Bucket=LAMBDA_BUCKET, Key=written["Key"])["Body"].read() == b"Hello HaiTran"

    # Without the prod role's S3 policy the assumed session may not write: the handler reports the failure.
    prod_iam.delete_role_policy(RoleName="DevAccountAccessS3Role", PolicyName="AccessS3Policy")
    again = _invoke_lambda(world, tmp_path, lambda_role)
    assert again.returncode == 0, again.stderr
    assert "error write to s3" in again.stdout
    assert prod_s3.list_objects_v2(Bucket=LAMBDA_BUCKET)["KeyCount"] == 1


def test_001_aws_s3_ls_with_the_assumed_credentials(world: World, tmp_path: Path) -> None:
    prod_iam = world.prod.client("iam")
    role_arn = prod_iam.create_role(
        RoleName="AssumedRoleByGuestAccount",
        Description="enable a guest account to access s3",
        AssumeRolePolicyDocument=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{world.dev.account}:root"},
                "Action": "sts:AssumeRole",
            }
        ),
    )["Role"]["Arn"]
    prod_iam.put_role_policy(
        RoleName="AssumedRoleByGuestAccount",
        PolicyName="PolicyAllowGuestAccountToAccessS3",
        PolicyDocument=policy(
            {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]},
            {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": ["*"]},
        ),
    )
    s3_client(world.server, keys_of(world.prod)).create_bucket(Bucket="prod-guest-visible")
    s3_client(world.server, keys_of(world.dev)).create_bucket(Bucket="dev-own-bucket")
    guest = world.dev.user("guest", policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}))
    cli = AwsCli(tmp_path, world.server.endpoint)
    cli.set_credentials("default", guest.key_id, guest.secret)

    assumed = cli.ok("sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "session")
    credentials = assumed["Credentials"]
    listed = cli.run(
        "s3",
        "ls",
        env={
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        },
    )
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[-1] for line in listed.stdout.splitlines()]
    assert "prod-guest-visible" in names
    assert "dev-own-bucket" not in names
    own = cli.run("s3", "ls")  # the guest's own credentials: dev's buckets, but no S3 permission at all
    assert own.returncode != 0
    assert own.error == ("AccessDenied", "ListBuckets", "Access Denied")


# -- 002 ---------------------------------------------------------------------------------------------------


def test_002_aws_s3_ls_with_the_new_profile(world: World, tmp_path: Path) -> None:
    external_id = "myapp-external-id"
    prod_iam = world.prod.client("iam")
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": world.dev.account},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        }
    )
    role_arn = prod_iam.create_role(RoleName="MyS3Access", Path="/MyApp/", AssumeRolePolicyDocument=trust)["Role"][
        "Arn"
    ]
    assert role_arn == f"arn:aws:iam::{world.prod.account}:role/MyApp/MyS3Access"
    prod_iam.put_role_policy(
        RoleName="MyS3Access",
        PolicyName="MyAppBucket",
        PolicyDocument=policy(
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::myapp-assets"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::myapp-assets/*"},
        ),
    )
    prod_s3 = s3_client(world.server, keys_of(world.prod))
    prod_s3.create_bucket(Bucket="myapp-assets")
    for key, body in {
        "reports/2024/q1.csv": b"a" * 11,
        "reports/2024/q2.csv": b"b" * 22,
        "reports/archive/old.csv": b"c",
        "index.html": b"<html/>",
    }.items():
        prod_s3.put_object(Bucket="myapp-assets", Key=key, Body=body)
    # Our side: the client's policy definition as a managed policy, a developers group, and natan in it.
    dev_iam = world.dev.client("iam")
    definition = policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn})
    managed = dev_iam.create_policy(PolicyName="MyAppS3Access", PolicyDocument=definition)["Policy"]["Arn"]
    dev_iam.create_group(GroupName="developers")
    dev_iam.attach_group_policy(GroupName="developers", PolicyArn=managed)
    natan = world.dev.user("natan")
    dev_iam.add_user_to_group(GroupName="developers", UserName="natan")

    cli = AwsCli(tmp_path, world.server.endpoint)
    cli.set_credentials("default", natan.key_id, natan.secret)
    assumed = cli.ok(
        "sts",
        "assume-role",
        "--role-arn",
        role_arn,
        "--role-session-name",
        "FirstSession",
        "--external-id",
        external_id,
    )
    credentials = assumed["Credentials"]
    # "Open ~/.aws/credentials and add these credentials in a new profile".
    cli.set_credentials(
        "new-profile", credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )
    prefixes = cli.run("s3", "ls", "s3://myapp-assets/reports/", profile="new-profile")
    assert prefixes.returncode == 0, prefixes.stderr
    assert [line.split() for line in prefixes.stdout.splitlines()] == [["PRE", "2024/"], ["PRE", "archive/"]]
    objects = cli.run("s3", "ls", "s3://myapp-assets/reports/2024/", profile="new-profile")
    assert objects.returncode == 0, objects.stderr
    assert [line.split()[2:] for line in objects.stdout.splitlines()] == [["11", "q1.csv"], ["22", "q2.csv"]]
    # natan's own credentials reach no prod bucket.
    assert cli.fail("s3", "ls", "s3://myapp-assets/reports/") == ("AccessDenied", "Access Denied")


# -- 003 ---------------------------------------------------------------------------------------------------


def test_003_existing_object_tag_condition(world: World) -> None:
    external_id = "unique-external-id"
    prod_iam = world.prod.client("iam")
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{world.dev.account}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"sts:ExternalId": external_id},
                "IpAddress": {"aws:SourceIp": "127.0.0.0/8"},
            },
        }
    )
    role_arn = prod_iam.create_role(
        RoleName="CrossAccountAccessRole", AssumeRolePolicyDocument=trust, Description="Role for cross-account access"
    )["Role"]["Arn"]
    # The walkthrough's CustomS3Access, verbatim.
    custom = {
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
    prod_iam.put_role_policy(
        RoleName="CrossAccountAccessRole", PolicyName="CustomS3Access", PolicyDocument=json.dumps(custom)
    )
    owner = s3_client(world.server, keys_of(world.prod))
    owner.create_bucket(Bucket="my-secure-bucket")
    owner.put_object(Bucket="my-secure-bucket", Key="prod.txt", Body=b"live", Tagging="Environment=Production")
    owner.put_object(Bucket="my-secure-bucket", Key="staging.txt", Body=b"test", Tagging="Environment=Staging")
    owner.put_object(Bucket="my-secure-bucket", Key="plain.txt", Body=b"none")
    source = world.dev.user(
        "AssumeRoleUser",
        policy(
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": role_arn,
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ),
        path="/service-accounts/",
    )
    session = source.assume(role_arn, "TestSession", ExternalId=external_id, DurationSeconds=3600)
    s3 = s3_client(world.server, keys_of(session))

    assert s3.get_object(Bucket="my-secure-bucket", Key="prod.txt")["Body"].read() == b"live"
    assert client_error(s3.get_object, Bucket="my-secure-bucket", Key="staging.txt") == DENIED
    assert client_error(s3.get_object, Bucket="my-secure-bucket", Key="plain.txt") == DENIED
    # The key exists for no other S3 action: listing and writing are never allowed by this policy.
    assert client_error(s3.list_objects_v2, Bucket="my-secure-bucket") == DENIED
    assert client_error(s3.put_object, Bucket="my-secure-bucket", Key="prod.txt", Body=b"overwrite") == DENIED
    assert client_error(s3.get_object, Bucket="my-secure-bucket", Key="absent.txt") == DENIED
    # The condition reads the object's tags at request time.
    owner.put_object_tagging(
        Bucket="my-secure-bucket",
        Key="staging.txt",
        Tagging={"TagSet": [{"Key": "Environment", "Value": "Production"}]},
    )
    assert s3.get_object(Bucket="my-secure-bucket", Key="staging.txt")["Body"].read() == b"test"
    owner.delete_object_tagging(Bucket="my-secure-bucket", Key="prod.txt")
    assert client_error(s3.get_object, Bucket="my-secure-bucket", Key="prod.txt") == DENIED
    # Step 2 of the walkthrough also attaches ReadOnlyAccess: its unconditional s3:Get*/s3:List* opens the rest.
    prod_iam.attach_role_policy(RoleName="CrossAccountAccessRole", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert s3.get_object(Bucket="my-secure-bucket", Key="plain.txt")["Body"].read() == b"none"
    listed = s3.list_objects_v2(Bucket="my-secure-bucket")
    assert [o["Key"] for o in listed["Contents"]] == ["plain.txt", "prod.txt", "staging.txt"]
    assert client_error(s3.put_object, Bucket="my-secure-bucket", Key="new.txt", Body=b"x") == DENIED
