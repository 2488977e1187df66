"""awsQuery responses: our XML must parse in botocore's QueryParser (and IAM's policy handler) as the same dict."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import botocore.parsers
import pytest
from botocore.handlers import json_decode_policies
from protocol_support import botocore_parse, golden, operation

from rolegate.protocol import query_response
from rolegate.protocol.query import serialize_query_result

WHEN = datetime(2026, 11, 22, 13, 59, 26, tzinfo=UTC)
LATER = datetime(2026, 11, 22, 14, 59, 26, 359000, tzinfo=UTC)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}
        ],
    },
    indent=2,
).replace("\n", "\r\n")
POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::a&b<c>/*"}]}'
TAGS = [{"Key": "team", "Value": "platform & <ops>"}, {"Key": "empty", "Value": ""}]
ROLE = {
    "Path": "/service-role/",
    "RoleName": "deploy",
    "RoleId": "AROAEXAMPLEID1234567",
    "Arn": "arn:aws:iam::111122223333:role/service-role/deploy",
    "CreateDate": WHEN,
    "AssumeRolePolicyDocument": TRUST,
    "Description": 'Deploys "things" ‘quoted’',
    "MaxSessionDuration": 43200,
    "PermissionsBoundary": {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/boundary",
    },
    "Tags": TAGS,
    "RoleLastUsed": {"LastUsedDate": LATER, "Region": "eu-west-1"},
}
CREDENTIALS = {
    "AccessKeyId": "ASIAEXAMPLEKEYID1234",
    "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
    "SessionToken": "FwoGZXIvYXdzE+/=token",
    "Expiration": LATER,
}
ROLE_DETAIL = {k: v for k, v in ROLE.items() if k not in ("Description", "MaxSessionDuration")} | {
    "InstanceProfileList": [
        {
            "Path": "/",
            "InstanceProfileName": "web",
            "InstanceProfileId": "AIPAEXAMPLEID1234567",
            "Arn": "arn:aws:iam::111122223333:instance-profile/web",
            "CreateDate": WHEN,
            "Roles": [ROLE],
        }
    ],
    "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": POLICY}],
    "AttachedManagedPolicies": [
        {"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    ],
}
AUTHORIZATION_DETAILS = {
    "UserDetailList": [
        {
            "Path": "/",
            "UserName": "alice",
            "UserId": "AIDAEXAMPLEID1234567",
            "Arn": "arn:aws:iam::111122223333:user/alice",
            "CreateDate": WHEN,
            "UserPolicyList": [{"PolicyName": "p1", "PolicyDocument": POLICY}],
            "GroupList": ["admins", "devs"],
            "AttachedManagedPolicies": [],
            "Tags": TAGS,
        }
    ],
    "GroupDetailList": [
        {
            "Path": "/",
            "GroupName": "admins",
            "GroupId": "AGPAEXAMPLEID1234567",
            "Arn": "arn:aws:iam::111122223333:group/admins",
            "CreateDate": WHEN,
            "GroupPolicyList": [],
            "AttachedManagedPolicies": [
                {"PolicyName": "Admin", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
            ],
        }
    ],
    "RoleDetailList": [ROLE_DETAIL],
    "Policies": [
        {
            "PolicyName": "read",
            "PolicyId": "ANPAEXAMPLEID1234567",
            "Arn": "arn:aws:iam::111122223333:policy/read",
            "Path": "/",
            "DefaultVersionId": "v2",
            "AttachmentCount": 3,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
            "CreateDate": WHEN,
            "UpdateDate": LATER,
            "PolicyVersionList": [
                {"Document": POLICY, "VersionId": "v2", "IsDefaultVersion": True, "CreateDate": LATER},
                {"Document": TRUST, "VersionId": "v1", "IsDefaultVersion": False, "CreateDate": WHEN},
            ],
        }
    ],
    "IsTruncated": True,
    "Marker": "bWFya2Vy+/=",
}
STATEMENT = {
    "SourcePolicyId": "inline",
    "SourcePolicyType": "role",
    "StartPosition": {"Line": 1, "Column": 40},
    "EndPosition": {"Line": 1, "Column": 120},
}
SIMULATION = {
    "EvaluationResults": [
        {
            "EvalActionName": "s3:GetObject",
            "EvalResourceName": "arn:aws:s3:::bucket/key",
            "EvalDecision": "allowed",
            "MatchedStatements": [STATEMENT],
            "MissingContextValues": ["aws:SourceIp"],
            "OrganizationsDecisionDetail": {"AllowedByOrganizations": True},
            "PermissionsBoundaryDecisionDetail": {"AllowedByPermissionsBoundary": False},
            "EvalDecisionDetails": {"IAM Policy": "allowed", "Permissions Boundary Policy": "implicitDeny"},
            "ResourceSpecificResults": [
                {
                    "EvalResourceName": "arn:aws:s3:::bucket/key",
                    "EvalResourceDecision": "allowed",
                    "MatchedStatements": [STATEMENT],
                }
            ],
        }
    ],
    "IsTruncated": False,
}

RESULTS: list[tuple[str, str, dict[str, Any]]] = [
    ("iam", "CreateRole", {"Role": ROLE}),
    ("iam", "GetRole", {"Role": {k: v for k, v in ROLE.items() if k != "Tags"}}),
    (
        "iam",
        "ListRoles",
        {"Roles": [ROLE, ROLE | {"RoleName": "second", "Tags": []}], "IsTruncated": True, "Marker": "m+/="},
    ),
    ("iam", "ListRoles", {"Roles": [], "IsTruncated": False}),
    ("iam", "GetRolePolicy", {"RoleName": "deploy", "PolicyName": "inline", "PolicyDocument": POLICY}),
    ("iam", "GetAccountAuthorizationDetails", AUTHORIZATION_DETAILS),
    ("iam", "GetAccountSummary", {"SummaryMap": {"Users": 3, "Roles": 7, "AccountMFAEnabled": 0}}),
    ("iam", "SimulatePrincipalPolicy", SIMULATION),
    (
        "iam",
        "CreateAccessKey",
        {
            "AccessKey": {
                "UserName": "alice",
                "AccessKeyId": "AKIAEXAMPLEKEYID1234",
                "Status": "Active",
                "SecretAccessKey": "s/+=",
                "CreateDate": WHEN,
            }
        },
    ),
    (
        "sts",
        "AssumeRole",
        {
            "Credentials": CREDENTIALS,
            "AssumedRoleUser": {
                "AssumedRoleId": "AROAEXAMPLEID1234567:ci",
                "Arn": "arn:aws:sts::111122223333:assumed-role/deploy/ci",
            },
            "PackedPolicySize": 6,
            "SourceIdentity": "alice",
        },
    ),
    ("sts", "GetSessionToken", {"Credentials": CREDENTIALS}),
    (
        "sts",
        "GetCallerIdentity",
        {"UserId": "AIDAEXAMPLEID1234567", "Account": "111122223333", "Arn": "arn:aws:iam::111122223333:user/alice"},
    ),
    (
        "sts",
        "GetFederationToken",
        {
            "Credentials": CREDENTIALS,
            "FederatedUser": {
                "FederatedUserId": "111122223333:bob",
                "Arn": "arn:aws:sts::111122223333:federated-user/bob",
            },
        },
    ),
]


def _through_botocore_client_handlers(op: Any, parsed: dict[str, Any]) -> dict[str, Any]:
    """What a boto3 client hands its caller: IAM's after-call handler json-decodes policy documents."""
    parsed = copy.deepcopy(parsed)
    if op.service_model.service_name == "iam":
        json_decode_policies(parsed, op)
    return parsed


@pytest.mark.parametrize(
    ("service", "name", "result"), RESULTS, ids=[f"{r[0]}.{r[1]}.{i}" for i, r in enumerate(RESULTS)]
)
def test_result_parses_in_botocore_as_the_same_dict(service: str, name: str, result: dict[str, Any]) -> None:
    op = operation(service, name)
    status, headers, body = query_response(op, result, "c6104cbe-af31-11e0-8154-cbc7ccf896c7")
    assert status == 200
    assert dict(headers) == {"Content-Type": "text/xml", "x-amzn-RequestId": "c6104cbe-af31-11e0-8154-cbc7ccf896c7"}
    parsed = botocore_parse("query", op, body)
    assert _through_botocore_client_handlers(op, parsed) == _through_botocore_client_handlers(op, result)


def test_response_metadata_carries_the_request_id() -> None:
    op = operation("sts", "GetCallerIdentity")
    body = serialize_query_result(op, {"UserId": "u", "Account": "1", "Arn": "a"}, "rid-1")
    parser_output = botocore_parse("query", op, body, headers={})
    assert "ResponseMetadata" not in parser_output
    raw = botocore.parsers.create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": 200}, op.output_shape
    )
    assert raw["ResponseMetadata"]["RequestId"] == "rid-1"


def test_policy_documents_are_percent_encoded_on_the_wire() -> None:
    op = operation("iam", "GetRolePolicy")
    parsed = botocore_parse(
        "query", op, serialize_query_result(op, {"RoleName": "r", "PolicyName": "p", "PolicyDocument": POLICY}, "r")
    )
    assert parsed["PolicyDocument"].startswith("%7B%22Version%22%3A%222012-10-17%22")
    assert _through_botocore_client_handlers(op, parsed)["PolicyDocument"] == json.loads(POLICY)


def test_carriage_returns_survive_xml_line_end_normalisation() -> None:
    op = operation("iam", "GetRole")
    role = {k: v for k, v in ROLE.items() if k != "AssumeRolePolicyDocument"} | {"Description": "a\r\nb\rc"}
    assert (
        botocore_parse("query", op, serialize_query_result(op, {"Role": role}, "r"))["Role"]["Description"]
        == "a\r\nb\rc"
    )


def test_operations_without_output_have_only_response_metadata() -> None:
    op = operation("iam", "DeleteRole")
    body = serialize_query_result(op, {}, "rid")
    assert body == (
        b'<DeleteRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        b"<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteRoleResponse>"
    )
    assert botocore_parse("query", op, body) == {}


def test_results_that_do_not_fit_the_shape_are_refused() -> None:
    op = operation("iam", "GetRole")
    with pytest.raises(ValueError, match="Bogus"):
        serialize_query_result(op, {"Role": ROLE | {"Bogus": 1}}, "r")
    with pytest.raises(TypeError):
        serialize_query_result(op, {"Role": ROLE | {"MaxSessionDuration": "3600"}}, "r")
    with pytest.raises(TypeError):
        serialize_query_result(op, {"Role": ROLE | {"CreateDate": "2026-01-01"}}, "r")


def test_naive_datetimes_are_utc_and_milliseconds_are_kept() -> None:
    op = operation("sts", "GetSessionToken")
    naive = CREDENTIALS | {"Expiration": datetime(2026, 1, 1, 0, 0, 0, 120999)}
    body = serialize_query_result(op, {"Credentials": naive}, "r")
    assert b"<Expiration>2026-01-01T00:00:00.120Z</Expiration>" in body


@pytest.mark.parametrize(
    ("service", "name", "result"),
    [
        ("iam", "CreateRole", {"Role": ROLE}),
        ("sts", "AssumeRole", RESULTS[9][2]),
        ("iam", "GetAccountSummary", RESULTS[6][2]),
    ],
    ids=["iam-CreateRole", "sts-AssumeRole", "iam-GetAccountSummary"],
)
def test_golden_bodies(service: str, name: str, result: dict[str, Any]) -> None:
    body = serialize_query_result(operation(service, name), result, "c6104cbe-af31-11e0-8154-cbc7ccf896c7")
    golden(f"{service}-{name}.xml", body.decode("utf-8") + "\n")
