"""Account-wide IAM: the account alias, GetAccountSummary's counts and quotas, and
GetAccountAuthorizationDetails (content, filter, pagination across lists, wire round trip)."""

from __future__ import annotations

import json
from typing import Any

import botocore.handlers
import botocore.parsers
import pytest
from services_support import DEV, NOW, PROD, World, allow, doc

from rolegate.errors import AccessDenied, ValidationError
from rolegate.protocol.models import operation_model, service_model
from rolegate.protocol.query import serialize_query_result
from rolegate.services.context import Caller
from rolegate.services.iam.errors import EntityAlreadyExists, NoSuchEntity

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}, "Action": "sts:AssumeRole"})
POLICY = doc(allow("s3:GetObject", "arn:aws:s3:::bucket/*"))


def _wire(operation: str, result: dict[str, Any]) -> dict[str, Any]:
    """What boto3 would hand its caller for this result: serialized, parsed and policy-decoded by botocore."""
    model = operation_model("iam", operation)
    assert model is not None
    body = serialize_query_result(model, result, "req")
    parsed: dict[str, Any] = botocore.parsers.create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": 200}, model.output_shape
    )
    botocore.handlers.json_decode_policies(parsed, model)
    parsed.pop("ResponseMetadata")
    return parsed


def test_alias_lifecycle(world: World) -> None:
    root = world.account(DEV)
    assert world.call(root, "iam", "ListAccountAliases") == {"AccountAliases": [], "IsTruncated": False}
    world.call(root, "iam", "CreateAccountAlias", AccountAlias="dev-team")
    world.call(root, "iam", "CreateAccountAlias", AccountAlias="dev-team")
    assert world.call(root, "iam", "ListAccountAliases")["AccountAliases"] == ["dev-team"]
    world.call(root, "iam", "CreateAccountAlias", AccountAlias="dev-renamed")
    assert world.call(root, "iam", "ListAccountAliases")["AccountAliases"] == ["dev-renamed"]
    with pytest.raises(NoSuchEntity) as wrong:
        world.call(root, "iam", "DeleteAccountAlias", AccountAlias="dev-team")
    assert wrong.value.message == "The account alias dev-team cannot be found."
    world.call(root, "iam", "DeleteAccountAlias", AccountAlias="dev-renamed")
    assert world.call(root, "iam", "ListAccountAliases")["AccountAliases"] == []


def test_alias_is_globally_unique(world: World) -> None:
    dev, prod = world.account(DEV), world.account(PROD)
    world.call(dev, "iam", "CreateAccountAlias", AccountAlias="shared")
    with pytest.raises(EntityAlreadyExists) as taken:
        world.call(prod, "iam", "CreateAccountAlias", AccountAlias="shared")
    assert taken.value.message == "The account alias shared already exists." and taken.value.http_status == 409
    world.call(dev, "iam", "DeleteAccountAlias", AccountAlias="shared")
    world.call(prod, "iam", "CreateAccountAlias", AccountAlias="shared")


def test_alias_cannot_be_all_digits(world: World) -> None:
    root = world.account(DEV)
    with pytest.raises(ValidationError):
        world.call(root, "iam", "CreateAccountAlias", AccountAlias="123456")


def test_alias_needs_permission(world: World) -> None:
    world.account(DEV)
    alice = world.user(DEV, "alice", doc(allow("iam:ListAccountAliases")))
    assert world.call(alice, "iam", "ListAccountAliases")["AccountAliases"] == []
    with pytest.raises(AccessDenied) as denied:
        world.call(alice, "iam", "CreateAccountAlias", AccountAlias="mine")
    assert "iam:CreateAccountAlias on resource: *" in denied.value.message


def test_summary_keys_are_the_models(world: World) -> None:
    root = world.account(DEV)
    summary = world.call(root, "iam", "GetAccountSummary")["SummaryMap"]
    enum = service_model("iam").shape_for("summaryKeyType").enum
    assert set(summary) == set(enum)
    assert _wire("GetAccountSummary", {"SummaryMap": summary})["SummaryMap"] == summary


def test_summary_counts_and_quotas(world: World) -> None:
    root = world.account(DEV)
    world.user(DEV, "alice", groups=("devs",))
    world.call(root, "iam", "CreateUser", UserName="bob")
    world.role(DEV, "worker", TRUST)
    policy = world.call(root, "iam", "CreatePolicy", PolicyName="p", PolicyDocument=POLICY)["Policy"]
    world.call(root, "iam", "AttachUserPolicy", UserName="bob", PolicyArn=policy["Arn"])
    world.call(root, "iam", "AttachRolePolicy", RoleName="worker", PolicyArn=READ_ONLY)
    world.call(root, "iam", "CreateVirtualMFADevice", VirtualMFADeviceName="spare")
    summary = world.call(root, "iam", "GetAccountSummary")["SummaryMap"]
    assert {k: summary[k] for k in ("Users", "Groups", "Roles", "Policies", "PolicyVersionsInUse")} == {
        "Users": 2,
        "Groups": 1,
        "Roles": 1,
        "Policies": 1,
        "PolicyVersionsInUse": 2,
    }
    assert (summary["MFADevices"], summary["MFADevicesInUse"], summary["AccountMFAEnabled"]) == (1, 0, 0)
    assert summary["AccountAccessKeysPresent"] == 1
    assert {k: summary[k] for k in ("UsersQuota", "GroupsQuota", "RolesQuota", "PoliciesQuota")} == {
        "UsersQuota": 5000,
        "GroupsQuota": 300,
        "RolesQuota": 1000,
        "PoliciesQuota": 1500,
    }
    quotas = ("UserPolicySizeQuota", "GroupPolicySizeQuota", "RolePolicySizeQuota", "PolicySizeQuota")
    assert [summary[k] for k in quotas] == [2048, 5120, 10240, 6144]
    assert summary["AssumeRolePolicySizeQuota"] == 2048 and summary["VersionsPerPolicyQuota"] == 5
    assert (summary["AccessKeysPerUserQuota"], summary["GroupsPerUserQuota"]) == (2, 10)
    attached = ("AttachedPoliciesPerUserQuota", "AttachedPoliciesPerGroupQuota", "AttachedPoliciesPerRoleQuota")
    assert [summary[k] for k in attached] == [10, 10, 10]


def test_summary_is_per_account(world: World) -> None:
    world.account(DEV)
    prod = world.account(PROD)
    world.user(DEV, "alice")
    assert world.call(prod, "iam", "GetAccountSummary")["SummaryMap"]["Users"] == 0


def _populate(world: World, root: Caller) -> str:
    world.call(root, "iam", "CreateUser", UserName="alice", Tags=[{"Key": "k", "Value": "v"}])
    world.call(root, "iam", "CreateGroup", GroupName="devs")
    world.call(root, "iam", "AddUserToGroup", GroupName="devs", UserName="alice")
    world.call(root, "iam", "PutUserPolicy", UserName="alice", PolicyName="own", PolicyDocument=POLICY)
    world.call(root, "iam", "PutGroupPolicy", GroupName="devs", PolicyName="shared", PolicyDocument=POLICY)
    world.role(DEV, "worker", TRUST, POLICY, description="not in RoleDetail")
    arn: str = world.call(root, "iam", "CreatePolicy", PolicyName="custom", PolicyDocument=POLICY)["Policy"]["Arn"]
    world.call(root, "iam", "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=doc(allow("s3:*")), SetAsDefault=True)
    world.call(root, "iam", "AttachGroupPolicy", GroupName="devs", PolicyArn=arn)
    world.call(root, "iam", "AttachRolePolicy", RoleName="worker", PolicyArn=READ_ONLY)
    return arn


def test_authorization_details(world: World) -> None:
    root = world.account(DEV)
    arn = _populate(world, root)
    details = world.call(root, "iam", "GetAccountAuthorizationDetails")
    assert details["IsTruncated"] is False
    (user,) = details["UserDetailList"]
    assert (
        user["UserName"] == "alice" and user["GroupList"] == ["devs"] and user["Tags"] == [{"Key": "k", "Value": "v"}]
    )
    assert user["UserPolicyList"] == [{"PolicyName": "own", "PolicyDocument": POLICY}]
    assert user["AttachedManagedPolicies"] == []
    (group,) = details["GroupDetailList"]
    assert group["GroupPolicyList"] == [{"PolicyName": "shared", "PolicyDocument": POLICY}]
    assert group["AttachedManagedPolicies"] == [{"PolicyName": "custom", "PolicyArn": arn}]
    (role,) = details["RoleDetailList"]
    assert role["RoleName"] == "worker" and role["AssumeRolePolicyDocument"] == TRUST
    assert role["InstanceProfileList"] == [] and "Description" not in role
    assert role["RolePolicyList"] == [{"PolicyName": "inline0", "PolicyDocument": POLICY}]
    assert role["AttachedManagedPolicies"] == [{"PolicyName": "ReadOnlyAccess", "PolicyArn": READ_ONLY}]
    policies = {p["Arn"]: p for p in details["Policies"]}
    assert set(policies) == {arn, READ_ONLY}
    custom = policies[arn]
    assert (custom["DefaultVersionId"], custom["AttachmentCount"], custom["IsAttachable"]) == ("v2", 1, True)
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in custom["PolicyVersionList"]] == [
        ("v2", True),
        ("v1", False),
    ]
    assert custom["PolicyVersionList"][1] == {
        "VersionId": "v1",
        "IsDefaultVersion": False,
        "CreateDate": NOW,
        "Document": POLICY,
    }
    assert [v["VersionId"] for v in policies[READ_ONLY]["PolicyVersionList"]] == [
        policies[READ_ONLY]["DefaultVersionId"]
    ]


def test_authorization_details_through_botocore(world: World) -> None:
    root = world.account(DEV)
    arn = _populate(world, root)
    parsed = _wire("GetAccountAuthorizationDetails", world.call(root, "iam", "GetAccountAuthorizationDetails"))
    assert parsed["UserDetailList"][0]["UserPolicyList"][0]["PolicyDocument"] == json.loads(POLICY)
    assert parsed["RoleDetailList"][0]["AssumeRolePolicyDocument"] == json.loads(TRUST)
    custom = next(p for p in parsed["Policies"] if p["Arn"] == arn)
    assert custom["PolicyVersionList"][0]["Document"] == json.loads(doc(allow("s3:*")))


def test_authorization_details_filter(world: World) -> None:
    root = world.account(DEV)
    arn = _populate(world, root)
    only = world.call(root, "iam", "GetAccountAuthorizationDetails", Filter=["Role", "LocalManagedPolicy"])
    assert only["UserDetailList"] == [] and only["GroupDetailList"] == []
    assert [r["RoleName"] for r in only["RoleDetailList"]] == ["worker"]
    assert [p["Arn"] for p in only["Policies"]] == [arn]
    aws = world.call(root, "iam", "GetAccountAuthorizationDetails", Filter=["AWSManagedPolicy"])
    assert [p["Arn"] for p in aws["Policies"]] == [READ_ONLY]


def test_authorization_details_pages_across_lists(world: World) -> None:
    root = world.account(DEV)
    _populate(world, root)
    seen: list[tuple[str, int]] = []
    params: dict[str, Any] = {"MaxItems": 2}
    while True:
        page = world.call(root, "iam", "GetAccountAuthorizationDetails", **params)
        lists = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
        seen.extend((name, len(page[name])) for name in lists if page[name])
        if not page["IsTruncated"]:
            break
        params["Marker"] = page["Marker"]
    assert seen == [
        ("UserDetailList", 1),
        ("GroupDetailList", 1),
        ("RoleDetailList", 1),
        ("Policies", 1),
        ("Policies", 1),
    ]


def test_authorization_details_needs_permission(world: World) -> None:
    world.account(DEV)
    alice = world.user(DEV, "alice")
    with pytest.raises(AccessDenied):
        world.call(alice, "iam", "GetAccountAuthorizationDetails")
    with pytest.raises(AccessDenied):
        world.call(alice, "iam", "GetAccountSummary")
    reader = world.user(DEV, "reader", doc(allow(["iam:GetAccountSummary", "iam:GetAccountAuthorizationDetails"])))
    assert world.call(reader, "iam", "GetAccountSummary")["SummaryMap"]["Users"] == 2
    assert len(world.call(reader, "iam", "GetAccountAuthorizationDetails")["UserDetailList"]) == 2
