"""awsQuery requests: botocore's serializer builds the body, decode_form + parse_query must recover the params."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from protocol_support import botocore_request, operation

from rolegate.errors import InvalidAction, InvalidParameterValue, MalformedQueryString, RequestEntityTooLarge
from rolegate.protocol import decode_form, parse_query, query_operation
from rolegate.protocol.models import MissingAction

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}
        ],
    }
)
POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}'
ROLE_ARN = "arn:aws:iam::111122223333:role/deploy"

CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "iam",
        "CreateRole",
        {
            "Path": "/service-role/",
            "RoleName": "deploy",
            "AssumeRolePolicyDocument": TRUST,
            "Description": "Deploys things & more <ok>",
            "MaxSessionDuration": 43200,
            "PermissionsBoundary": "arn:aws:iam::111122223333:policy/boundary",
            "Tags": [{"Key": "team", "Value": "platform"}, {"Key": "cost center", "Value": "42 = answer"}],
        },
    ),
    ("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": TRUST, "Tags": []}),
    ("iam", "PutRolePolicy", {"RoleName": "deploy", "PolicyName": "inline+1", "PolicyDocument": POLICY}),
    ("iam", "AttachRolePolicy", {"RoleName": "deploy", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
    ("iam", "ListRoles", {"PathPrefix": "/service-role/", "Marker": "opaque+/=marker%", "MaxItems": 1000}),
    ("iam", "ListRoles", {}),
    (
        "iam",
        "CreatePolicy",
        {
            "PolicyName": "read",
            "Path": "/",
            "PolicyDocument": POLICY,
            "Description": "Read access",
            "Tags": [{"Key": "k", "Value": ""}],
        },
    ),
    (
        "iam",
        "CreatePolicyVersion",
        {"PolicyArn": "arn:aws:iam::111122223333:policy/read", "PolicyDocument": POLICY, "SetAsDefault": True},
    ),
    (
        "iam",
        "SimulatePrincipalPolicy",
        {
            "PolicySourceArn": ROLE_ARN,
            "PolicyInputList": [POLICY, POLICY],
            "ActionNames": ["s3:GetObject", "s3:PutObject"],
            "ResourceArns": ["arn:aws:s3:::bucket/key"],
            "ContextEntries": [
                {
                    "ContextKeyName": "aws:SourceIp",
                    "ContextKeyValues": ["10.0.0.1", "10.0.0.2"],
                    "ContextKeyType": "ip",
                },
                {
                    "ContextKeyName": "aws:MultiFactorAuthPresent",
                    "ContextKeyValues": ["true"],
                    "ContextKeyType": "boolean",
                },
            ],
            "ResourceHandlingOption": "EC2-VPC-InstanceStore",
            "MaxItems": 10,
            "Marker": "m",
        },
    ),
    ("iam", "TagRole", {"RoleName": "deploy", "Tags": [{"Key": f"k{i}", "Value": f"v{i}"} for i in range(1, 13)]}),
    (
        "iam",
        "CreateUser",
        {"UserName": "alice", "Path": "/people/", "Tags": [{"Key": "email", "Value": "alice@example.com"}]},
    ),
    ("iam", "AddUserToGroup", {"GroupName": "admins", "UserName": "alice"}),
    ("iam", "CreateAccessKey", {"UserName": "alice"}),
    ("iam", "CreateAccessKey", {}),
    ("iam", "UpdateAccessKey", {"UserName": "alice", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "Status": "Inactive"}),
    (
        "iam",
        "EnableMFADevice",
        {
            "UserName": "alice",
            "SerialNumber": "arn:aws:iam::111122223333:mfa/alice",
            "AuthenticationCode1": "123456",
            "AuthenticationCode2": "654321",
        },
    ),
    (
        "iam",
        "GetAccountAuthorizationDetails",
        {"Filter": ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"], "MaxItems": 100},
    ),
    ("iam", "GetAccountAuthorizationDetails", {"Filter": []}),
    (
        "sts",
        "AssumeRole",
        {
            "RoleArn": ROLE_ARN,
            "RoleSessionName": "ci@build-17",
            "PolicyArns": [
                {"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                {"arn": "arn:aws:iam::111122223333:policy/extra"},
            ],
            "Policy": POLICY,
            "DurationSeconds": 900,
            "Tags": [{"Key": "project", "Value": "rolegate"}, {"Key": "stage", "Value": "dev"}],
            "TransitiveTagKeys": ["project"],
            "ExternalId": "ext-123",
            "SerialNumber": "arn:aws:iam::111122223333:mfa/alice",
            "TokenCode": "123456",
            "SourceIdentity": "alice",
            "ProvidedContexts": [
                {"ProviderArn": "arn:aws:iam::aws:contextProvider/IdentityCenter", "ContextAssertion": "abcd"}
            ],
        },
    ),
    ("sts", "AssumeRole", {"RoleArn": ROLE_ARN, "RoleSessionName": "s1"}),
    ("sts", "GetSessionToken", {"DurationSeconds": 129600, "SerialNumber": "GAHT12345678", "TokenCode": "000000"}),
    ("sts", "GetSessionToken", {}),
    ("sts", "GetCallerIdentity", {}),
    (
        "sts",
        "GetFederationToken",
        {
            "Name": "bob",
            "Policy": POLICY,
            "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
            "DurationSeconds": 3600,
            "Tags": [{"Key": "a", "Value": "b"}],
        },
    ),
]


@pytest.mark.parametrize(("service", "name", "params"), CASES, ids=[f"{c[0]}.{c[1]}.{i}" for i, c in enumerate(CASES)])
def test_botocore_request_parses_back_to_the_same_params(service: str, name: str, params: dict[str, Any]) -> None:
    _, body = botocore_request(service, name, params)
    flat = decode_form(body, max_bytes=1 << 20)
    op = query_operation(service, flat)
    assert op.name == name
    assert parse_query(op, flat) == params


def test_timestamps_booleans_and_blobs_are_typed_by_shape() -> None:
    # IAM's UploadSSHPublicKey has no blob; use shapes from the model generically instead.
    op = operation("iam", "ListPolicies")
    params = {"OnlyAttached": False, "Scope": "Local", "MaxItems": 5}
    _, body = botocore_request("iam", "ListPolicies", params)
    assert parse_query(op, decode_form(body, max_bytes=4096)) == params


def test_unknown_parameters_are_ignored_like_aws() -> None:
    op = operation("iam", "GetRole")
    flat = {
        "Action": "GetRole",
        "Version": "2010-05-08",
        "RoleName": "r",
        "Bogus": "x",
        "RoleName.member.1": "nested junk",
        "X-Amz-Date": "20260101T000000Z",
    }
    assert parse_query(op, flat) == {"RoleName": "r"}


def test_list_indices_are_ordered_numerically_and_non_indices_ignored() -> None:
    op = operation("sts", "AssumeRole")
    flat = {f"TransitiveTagKeys.member.{i}": f"k{i}" for i in (10, 2, 1)}
    flat |= {
        "TransitiveTagKeys.member.0": "zero",
        "TransitiveTagKeys.member.x": "x",
        "TransitiveTagKeys.member.01": "z",
    }
    assert parse_query(op, flat)["TransitiveTagKeys"] == ["k1", "k2", "k10"]


def test_bad_scalars_are_invalid_parameter_values() -> None:
    op = operation("sts", "AssumeRole")
    for value in ("abc", "1.5", "", " 900", "99999999999999999999"):
        with pytest.raises(InvalidParameterValue, match="DurationSeconds"):
            parse_query(op, {"DurationSeconds": value})
    with pytest.raises(InvalidParameterValue, match="SetAsDefault"):
        parse_query(operation("iam", "CreatePolicyVersion"), {"SetAsDefault": "yes"})


def test_integer_range_is_that_of_the_shape_type() -> None:
    op = operation("sts", "AssumeRole")
    assert parse_query(op, {"DurationSeconds": str(2**31 - 1)}) == {"DurationSeconds": 2**31 - 1}
    with pytest.raises(InvalidParameterValue):
        parse_query(op, {"DurationSeconds": str(2**31)})


def test_timestamp_scalars_parse_to_aware_utc() -> None:
    from rolegate.protocol.query import _scalar  # the one timestamp-typed input is not in IAM/STS today

    shape = operation("organizations", "DescribeOrganization").service_model.shape_for("Timestamp")
    assert _scalar(shape, "2026-11-22T13:59:26Z", "T") == datetime(2026, 11, 22, 13, 59, 26, tzinfo=UTC)
    assert _scalar(shape, "2026-11-22T13:59:26.5+01:00", "T") == datetime(2026, 11, 22, 12, 59, 26, 500000, tzinfo=UTC)
    with pytest.raises(InvalidParameterValue):
        _scalar(shape, "yesterday", "T")


class TestDecodeForm:
    def test_plus_and_percent_twenty_are_spaces(self) -> None:
        assert decode_form(b"A=a+b&B=a%20b&C=%2B", max_bytes=100) == {"A": "a b", "B": "a b", "C": "+"}

    def test_blank_values_are_kept(self) -> None:
        assert decode_form(b"Tags=&X", max_bytes=100) == {"Tags": "", "X": ""}

    def test_invalid_utf8_raw_or_percent_encoded_is_malformed(self) -> None:
        for body in (b"A=\xff", b"A=%FF", b"A=%C3"):
            with pytest.raises(MalformedQueryString):
                decode_form(body, max_bytes=100)

    def test_size_cap(self) -> None:
        with pytest.raises(RequestEntityTooLarge):
            decode_form(b"A=" + b"x" * 100, max_bytes=100)

    def test_field_cap(self) -> None:
        with pytest.raises(MalformedQueryString):
            decode_form(b"&".join(b"A%d=1" % i for i in range(11)), max_bytes=1000, max_fields=10)

    def test_duplicate_keys_are_refused(self) -> None:
        with pytest.raises(MalformedQueryString, match="RoleName"):
            decode_form(b"RoleName=a&RoleName=b", max_bytes=100)


class TestOperationLookup:
    def test_action_and_version(self) -> None:
        assert query_operation("iam", {"Action": "CreateRole", "Version": "2010-05-08"}).name == "CreateRole"
        assert query_operation("sts", {"Action": "GetCallerIdentity"}).name == "GetCallerIdentity"

    def test_unknown_action_or_wrong_version(self) -> None:
        with pytest.raises(InvalidAction, match="Could not find operation Nope for version 2010-05-08"):
            query_operation("iam", {"Action": "Nope", "Version": "2010-05-08"})
        with pytest.raises(InvalidAction):
            query_operation("iam", {"Action": "CreateRole", "Version": "2011-06-15"})
        with pytest.raises(InvalidAction):
            query_operation("iam", {"Action": "createrole"})

    def test_missing_action(self) -> None:
        with pytest.raises(MissingAction):
            query_operation("iam", {"Version": "2010-05-08"})
