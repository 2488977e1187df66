"""boto3 against a live server: identity, SigV4 failures, IAM role basics, AWS-shaped errors."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest
from e2e_support import ROOT_KEY_ID, LiveServer


def _error(excinfo: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_root_caller_identity(server: LiveServer) -> None:
    identity = server.client("sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{server.management_account}:root"
    assert identity["Account"] == server.management_account
    assert identity["UserId"] == server.management_account


def test_wrong_secret_and_unknown_key(server: LiveServer) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as wrong:
        server.client("sts", secret="x" * 40).get_caller_identity()
    assert _error(wrong)[0] == "SignatureDoesNotMatch"
    assert _error(wrong)[2] == 403
    with pytest.raises(botocore.exceptions.ClientError) as unknown:
        server.client("sts", key_id="AKIAUNKNOWNKEY000000").get_caller_identity()
    assert _error(unknown) == ("InvalidClientTokenId", "The security token included in the request is invalid.", 403)


def test_create_get_list_delete_role(server: LiveServer) -> None:
    iam = server.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    created = iam.create_role(
        RoleName="basics-role",
        Path="/team/",
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": "env", "Value": "test"}],
        MaxSessionDuration=7200,
    )["Role"]
    assert created["Arn"] == f"arn:aws:iam::{server.management_account}:role/team/basics-role"
    assert created["RoleId"].startswith("AROA")
    fetched = iam.get_role(RoleName="BASICS-ROLE")["Role"]
    assert fetched["AssumeRolePolicyDocument"] == trust  # botocore URL-decodes and parses the document
    assert fetched["MaxSessionDuration"] == 7200
    assert "basics-role" in [r["RoleName"] for r in iam.list_roles(PathPrefix="/team/")["Roles"]]
    with pytest.raises(botocore.exceptions.ClientError) as exists:
        iam.create_role(RoleName="basics-role", AssumeRolePolicyDocument=json.dumps(trust))
    assert _error(exists) == ("EntityAlreadyExists", "Role with name basics-role already exists.", 409)
    iam.delete_role(RoleName="basics-role")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as missing:
        iam.get_role(RoleName="basics-role")
    assert _error(missing) == ("NoSuchEntity", "The role with name basics-role cannot be found.", 404)


def test_validation_and_malformed_policy(server: LiveServer) -> None:
    iam = server.client("iam")
    with pytest.raises(botocore.exceptions.ClientError) as too_long:
        iam.get_role(RoleName="r" * 65)
    code, message, status = _error(too_long)
    assert (code, status) == ("ValidationError", 400)
    assert message.startswith("1 validation error detected: Value '" + "r" * 65 + "' at 'roleName' failed to satisfy")
    with pytest.raises(botocore.exceptions.ClientError) as malformed:
        iam.create_role(
            RoleName="bad-trust",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Resource": "*"}
                    ],
                }
            ),
        )
    assert _error(malformed) == ("MalformedPolicyDocument", "Has prohibited field Resource", 400)


def test_root_key_id_is_the_fixed_one(server: LiveServer) -> None:
    assert server.client("sts").get_access_key_info(AccessKeyId=ROOT_KEY_ID)["Account"] == server.management_account


def test_source_ip_is_the_connection_address_whatever_x_forwarded_for_says(server: LiveServer) -> None:
    """aws:SourceIp is where the connection comes from, as in AWS: a header cannot choose it."""
    iam = server.client("iam")
    iam.create_user(UserName="from-where")
    conditions = {
        "iam:ListUsers": "203.0.113.0/24",  # what the header claims
        "iam:ListRoles": "127.0.0.0/8",  # where the connection really comes from
    }
    statements = [
        {"Effect": "Allow", "Action": action, "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": cidr}}}
        for action, cidr in conditions.items()
    ]
    iam.put_user_policy(
        UserName="from-where",
        PolicyName="by-ip",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    key = iam.create_access_key(UserName="from-where")["AccessKey"]
    client = server.client("iam", key_id=key["AccessKeyId"], secret=key["SecretAccessKey"])
    client.meta.events.register(
        "before-sign.iam.*", lambda request, **_: request.headers.__setitem__("X-Forwarded-For", "203.0.113.7")
    )
    client.list_roles()
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        client.list_users()
    assert _error(denied)[0] == "AccessDenied"
