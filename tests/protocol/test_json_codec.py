"""awsJson 1.1 (Organizations): botocore-serialized requests parse back; our results parse in botocore."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from protocol_support import botocore_parse, botocore_request, golden, operation

from rolegate.errors import RequestEntityTooLarge
from rolegate.protocol import json_response, parse_json_request
from rolegate.protocol.errors import SerializationException
from rolegate.protocol.json import serialize_json_result
from rolegate.protocol.models import UnknownOperationException

SCP = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}'
ROOT = "r-ab12"
OU = "ou-ab12-cd34ef56"

REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("CreateOrganization", {"FeatureSet": "ALL"}),
    ("CreateOrganization", {}),
    (
        "CreateAccount",
        {
            "Email": "dev+1@example.com",
            "AccountName": "Dev account",
            "RoleName": "OrganizationAccountAccessRole",
            "IamUserAccessToBilling": "DENY",
            "Tags": [{"Key": "env", "Value": "dev"}],
        },
    ),
    (
        "CreatePolicy",
        {"Content": SCP, "Description": "no deletes", "Name": "deny-delete", "Type": "SERVICE_CONTROL_POLICY"},
    ),
    ("AttachPolicy", {"PolicyId": "p-abcdefgh12", "TargetId": OU}),
    ("ListAccounts", {"NextToken": "token/with+chars==", "MaxResults": 20}),
    ("ListAccounts", {}),
    ("DescribeAccount", {"AccountId": "111122223333"}),
    ("CreateOrganizationalUnit", {"ParentId": ROOT, "Name": "Workloads", "Tags": []}),
    ("MoveAccount", {"AccountId": "111122223333", "SourceParentId": ROOT, "DestinationParentId": OU}),
    ("DescribeOrganization", {}),
]


@pytest.mark.parametrize(("name", "params"), REQUESTS, ids=[f"{r[0]}.{i}" for i, r in enumerate(REQUESTS)])
def test_botocore_request_parses_back_to_the_same_params(name: str, params: dict[str, Any]) -> None:
    headers, body = botocore_request("organizations", name, params)
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    op, parsed = parse_json_request("organizations", headers["X-Amz-Target"], body, max_bytes=1 << 20)
    assert op.name == name
    assert parsed == params


class TestRequestErrors:
    def test_unknown_or_foreign_target(self) -> None:
        for target in (None, "", "CreateOrganization", "AWSOrganizationsV20161128.Nope", "Other.CreateOrganization"):
            with pytest.raises(UnknownOperationException):
                parse_json_request("organizations", target, b"{}", max_bytes=100)

    @pytest.mark.parametrize(
        "body",
        [
            b"[]",
            b"not json",
            b'{"FeatureSet": 1}',
            b'{"FeatureSet": "ALL", "FeatureSet": "ALL"}',
            b'{"x": NaN}',
            b"\xff",
            b"[" * 100_000,
        ],
    )
    def test_malformed_bodies_are_serialization_exceptions(self, body: bytes) -> None:
        with pytest.raises(SerializationException):
            parse_json_request("organizations", "AWSOrganizationsV20161128.CreateOrganization", body, max_bytes=1 << 20)

    def test_wrong_types_deep_inside(self) -> None:
        target = "AWSOrganizationsV20161128.ListAccounts"
        for body in (
            b'{"MaxResults": "5"}',
            b'{"MaxResults": 5.0}',
            b'{"MaxResults": true}',
            b'{"MaxResults": 4294967296}',
        ):
            with pytest.raises(SerializationException):
                parse_json_request("organizations", target, body, max_bytes=100)
        tags = b'{"ParentId": "r-ab12", "Name": "n", "Tags": [{"Key": ["k"]}]}'
        with pytest.raises(SerializationException, match="Tags"):
            parse_json_request(
                "organizations", "AWSOrganizationsV20161128.CreateOrganizationalUnit", tags, max_bytes=100
            )

    def test_nulls_and_unknown_members_are_absent(self) -> None:
        target = "AWSOrganizationsV20161128.ListAccounts"
        _, parsed = parse_json_request("organizations", target, b'{"NextToken": null, "Other": 1}', max_bytes=100)
        assert parsed == {}
        _, parsed = parse_json_request("organizations", target, b"", max_bytes=100)
        assert parsed == {}

    def test_size_cap(self) -> None:
        with pytest.raises(RequestEntityTooLarge):
            parse_json_request("organizations", "AWSOrganizationsV20161128.ListAccounts", b" " * 101, max_bytes=100)


ORG = {
    "Id": "o-abcdefghij",
    "Arn": "arn:aws:organizations::111122223333:organization/o-abcdefghij",
    "FeatureSet": "ALL",
    "MasterAccountArn": "arn:aws:organizations::111122223333:account/o-abcdefghij/111122223333",
    "MasterAccountId": "111122223333",
    "MasterAccountEmail": "root@example.com",
    "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
}
ACCOUNTS = {
    "Accounts": [
        {
            "Id": "111122223333",
            "Arn": "arn:aws:organizations::111122223333:account/o-abcdefghij/111122223333",
            "Email": "root@example.com",
            "Name": "Management",
            "Status": "ACTIVE",
            "State": "ACTIVE",
            "JoinedMethod": "CREATED",
            "JoinedTimestamp": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        },
        {
            "Id": "444455556666",
            "Arn": "arn:aws:organizations::111122223333:account/o-abcdefghij/444455556666",
            "Email": "dev@example.com",
            "Name": "Dev — ünïcode",
            "Status": "ACTIVE",
            "JoinedMethod": "INVITED",
            "JoinedTimestamp": datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC),
        },
    ],
    "NextToken": "next",
}
RESULTS: list[tuple[str, dict[str, Any]]] = [
    ("DescribeOrganization", {"Organization": ORG}),
    ("ListAccounts", ACCOUNTS),
    ("ListAccounts", {"Accounts": []}),
    (
        "CreateAccount",
        {
            "CreateAccountStatus": {
                "Id": "car-0123456789abcdef0123456789abcdef",
                "AccountName": "Dev",
                "State": "IN_PROGRESS",
                "RequestedTimestamp": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            }
        },
    ),
    (
        "CreatePolicy",
        {
            "Policy": {
                "PolicySummary": {
                    "Id": "p-abcdefgh12",
                    "Arn": "arn:aws:organizations::111122223333:policy/o-abcdefghij/service_control_policy/p-abcdefgh12",
                    "Name": "deny-delete",
                    "Description": "",
                    "Type": "SERVICE_CONTROL_POLICY",
                    "AwsManaged": False,
                },
                "Content": SCP,
            }
        },
    ),
]


@pytest.mark.parametrize(("name", "result"), RESULTS, ids=[f"{r[0]}.{i}" for i, r in enumerate(RESULTS)])
def test_result_parses_in_botocore_as_the_same_dict(name: str, result: dict[str, Any]) -> None:
    op = operation("organizations", name)
    status, headers, body = json_response(op, result, "req-1")
    assert status == 200
    assert dict(headers) == {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "req-1"}
    assert botocore_parse("json", op, body) == result


def test_operations_without_output_answer_an_empty_object() -> None:
    op = operation("organizations", "AttachPolicy")
    assert serialize_json_result(op, {}) == b"{}"
    assert botocore_parse("json", op, b"{}") == {}


def test_timestamps_are_epoch_seconds_with_milliseconds() -> None:
    body = json.loads(serialize_json_result(operation("organizations", "ListAccounts"), ACCOUNTS))
    assert body["Accounts"][0]["JoinedTimestamp"] == 1767323045.678
    assert body["Accounts"][1]["JoinedTimestamp"] == 1770091506.0


def test_results_that_do_not_fit_the_shape_are_refused() -> None:
    op = operation("organizations", "DescribeOrganization")
    with pytest.raises(ValueError, match="Bogus"):
        serialize_json_result(op, {"Organization": {"Bogus": 1}})
    with pytest.raises(TypeError):
        serialize_json_result(op, {"Organization": {"Id": 5}})


def test_golden_list_accounts_body() -> None:
    body = serialize_json_result(operation("organizations", "ListAccounts"), ACCOUNTS)
    golden("organizations-ListAccounts.json", body.decode("utf-8") + "\n")


def test_epoch_formatting_before_1970_and_with_milliseconds() -> None:
    from rolegate.protocol.models import format_epoch, format_iso8601

    assert format_epoch(datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)) == -0.5
    assert format_iso8601(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0999-01-02T03:04:05Z"
