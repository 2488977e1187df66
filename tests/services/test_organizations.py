"""AWS Organizations through the service path: the organization's lifecycle, member accounts and what they
start with, OUs and the tree, tags, paging, isolation between two organizations, and error codes checked
against botocore's model. Every result is also written with rolegate's JSON codec and read back by
botocore's parser, so the shapes are the ones boto3 expects.

The helpers at the top are shared by the other test_org_*.py files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import botocore.parsers
import botocore.session
import pytest
from services_support import DEV, MGMT, PROD, World

from rolegate.protocol.json import serialize_json_result
from rolegate.protocol.models import operation_model
from rolegate.services.context import Caller
from rolegate.services.organizations.errors import (
    MODELED,
    AccessDeniedException,
    AccountNotFoundException,
    AlreadyInOrganizationException,
    AWSOrganizationsNotInUseException,
    ChildNotFoundException,
    ConstraintViolationException,
    CreateAccountStatusNotFoundException,
    DestinationParentNotFoundException,
    DuplicateAccountException,
    DuplicateOrganizationalUnitException,
    InvalidInputException,
    OrganizationalUnitNotEmptyException,
    OrganizationalUnitNotFoundException,
    OrganizationNotEmptyException,
    ParentNotFoundException,
    PolicyNotFoundException,
    SourceParentNotFoundException,
    TargetNotFoundException,
)
from rolegate.store.records import AccessKey, Account, Attachment, InlinePolicy, Role

SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
ADMIN_ROLE = "OrganizationAccountAccessRole"


@dataclass(frozen=True)
class Org:
    world: World
    root: Caller
    org_id: str
    root_id: str

    @property
    def management(self) -> str:
        return self.root.account_id

    def call(self, operation: str, caller: Caller | None = None, **params: Any) -> dict[str, Any]:
        return wire(self.world, caller or self.root, operation, **params)

    def account(self, name: str, **params: Any) -> str:
        status = self.call("CreateAccount", AccountName=name, Email=f"{name}@example.com", **params)
        return str(status["CreateAccountStatus"]["AccountId"])

    def unit(self, name: str, parent: str = "") -> str:
        created = self.call("CreateOrganizationalUnit", ParentId=parent or self.root_id, Name=name)
        return str(created["OrganizationalUnit"]["Id"])

    def enable(self, policy_type: str = SCP) -> dict[str, Any]:
        return self.call("EnablePolicyType", RootId=self.root_id, PolicyType=policy_type)

    def policy(self, name: str, document: str, policy_type: str = SCP) -> str:
        created = self.call("CreatePolicy", Name=name, Description=f"{name} policy", Type=policy_type, Content=document)
        return str(created["Policy"]["PolicySummary"]["Id"])


def wire(world: World, caller: Caller, operation: str, **params: Any) -> dict[str, Any]:
    """Call an Organizations operation and check the result survives rolegate's codec and botocore's parser."""
    result = world.call(caller, "organizations", operation, **params)
    model = operation_model("organizations", operation)
    assert model is not None
    body = serialize_json_result(model, result)
    if model.output_shape is not None:
        parsed = botocore.parsers.create_parser("json").parse(
            {"body": body, "headers": {}, "status_code": 200}, model.output_shape
        )
        parsed.pop("ResponseMetadata", None)
        assert parsed == result
    return result


def new_org(world: World, account: str = MGMT, **params: Any) -> Org:
    root = world.account(account)
    created = wire(world, root, "CreateOrganization", **params)["Organization"]
    roots = wire(world, root, "ListRoots")["Roots"]
    return Org(world, root, created["Id"], roots[0]["Id"])


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# -- errors against the model ----------------------------------------------------------------------------


def test_error_classes_match_the_model() -> None:
    model = botocore.session.get_session().get_service_model("organizations")
    for error in MODELED:
        shape = model.shape_for(error.__name__)
        assert shape.metadata.get("exception") is True, error.__name__
        assert error.code == shape.metadata.get("error", {}).get("code", shape.name)
        assert error.http_status == shape.metadata.get("error", {}).get("httpStatusCode", 400)
        assert error.sender_fault


def test_reasons_are_members_of_the_model_enums() -> None:
    model = botocore.session.get_session().get_service_model("organizations")
    assert "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED" in model.shape_for("ConstraintViolationExceptionReason").enum
    for reason in ("INVALID_NEXT_TOKEN", "IMMUTABLE_POLICY", "NON_DETACHABLE_POLICY", "INVALID_ENUM_POLICY_TYPE"):
        assert reason in model.shape_for("InvalidInputExceptionReason").enum
    error = ConstraintViolationException("m", "OU_DEPTH_LIMIT_EXCEEDED")
    assert error.extra == {"Reason": "OU_DEPTH_LIMIT_EXCEEDED"}


# -- the organization ------------------------------------------------------------------------------------


def test_create_describe_and_roots(world: World) -> None:
    org = new_org(world)
    described = org.call("DescribeOrganization")["Organization"]
    assert re.fullmatch(r"o-[a-z0-9]{10}", org.org_id)
    assert re.fullmatch(r"r-[a-z0-9]{4}", org.root_id)
    assert described == {
        "Id": org.org_id,
        "Arn": f"arn:aws:organizations::{MGMT}:organization/{org.org_id}",
        "FeatureSet": "ALL",
        "MasterAccountArn": f"arn:aws:organizations::{MGMT}:account/{org.org_id}/{MGMT}",
        "MasterAccountId": MGMT,
        "MasterAccountEmail": f"{MGMT}@example.com",
        "AvailablePolicyTypes": [],
    }
    roots = org.call("ListRoots")["Roots"]
    assert roots == [
        {
            "Id": org.root_id,
            "Arn": f"arn:aws:organizations::{MGMT}:root/{org.org_id}/{org.root_id}",
            "Name": "Root",
            "PolicyTypes": [],
        }
    ]
    parents = org.call("ListParents", ChildId=MGMT)["Parents"]
    assert parents == [{"Id": org.root_id, "Type": "ROOT"}]


def test_an_account_belongs_to_one_organization(world: World) -> None:
    org = new_org(world)
    with pytest.raises(AlreadyInOrganizationException, match="already a member of an organization"):
        org.call("CreateOrganization")
    member = org.account("dev")
    member_root = Caller("root", member, f"arn:aws:iam::{member}:root", member)
    with pytest.raises(AlreadyInOrganizationException):
        world.call(member_root, "organizations", "CreateOrganization")


def test_outside_an_organization_and_member_accounts(world: World) -> None:
    standalone = world.account(DEV)
    for operation in ("DescribeOrganization", "ListAccounts", "ListRoots"):
        with pytest.raises(AWSOrganizationsNotInUseException, match="Your account is not a member of an organization"):
            world.call(standalone, "organizations", operation)
    org = new_org(world)
    member = org.account("dev")
    member_root = Caller("root", member, f"arn:aws:iam::{member}:root", member)
    assert org.call("DescribeOrganization", member_root)["Organization"]["Id"] == org.org_id
    for operation, params in (("ListAccounts", {}), ("DescribeAccount", {"AccountId": member}), ("ListRoots", {})):
        with pytest.raises(AccessDeniedException, match="You don't have permissions to access this resource"):
            world.call(member_root, "organizations", operation, **params)


def test_consolidated_billing_feature_set(world: World) -> None:
    org = new_org(world, FeatureSet="CONSOLIDATED_BILLING")
    assert org.call("DescribeOrganization")["Organization"]["FeatureSet"] == "CONSOLIDATED_BILLING"


# -- member accounts -------------------------------------------------------------------------------------


def test_create_account_and_its_status(world: World) -> None:
    org = new_org(world)
    status = org.call("CreateAccount", AccountName="dev", Email="dev@example.com")["CreateAccountStatus"]
    assert re.fullmatch(r"car-[a-z0-9]{32}", status["Id"])
    assert status["State"] == "SUCCEEDED" and status["AccountName"] == "dev"
    assert re.fullmatch(r"\d{12}", status["AccountId"])
    assert status["RequestedTimestamp"] == status["CompletedTimestamp"] == world.clock.now()
    described = org.call("DescribeCreateAccountStatus", CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    assert described == status
    assert org.call("ListCreateAccountStatus")["CreateAccountStatuses"] == [status]
    assert org.call("ListCreateAccountStatus", States=["FAILED"])["CreateAccountStatuses"] == []
    with pytest.raises(CreateAccountStatusNotFoundException):
        org.call("DescribeCreateAccountStatus", CreateAccountRequestId="car-" + "0" * 32)
    account = org.call("DescribeAccount", AccountId=status["AccountId"])["Account"]
    assert account == {
        "Id": status["AccountId"],
        "Arn": f"arn:aws:organizations::{MGMT}:account/{org.org_id}/{status['AccountId']}",
        "Email": "dev@example.com",
        "Name": "dev",
        "Status": "ACTIVE",
        "State": "ACTIVE",
        "Paths": [f"{org.org_id}/{org.root_id}/{status['AccountId']}/"],
        "JoinedMethod": "CREATED",
        "JoinedTimestamp": world.clock.now(),
    }
    listed = org.call("ListAccounts")["Accounts"]
    assert sorted(a["Id"] for a in listed) == sorted([MGMT, status["AccountId"]])


def test_new_account_has_the_admin_role_trusting_the_management_account_and_no_root_key(world: World) -> None:
    org = new_org(world)
    member = org.account("dev")
    with world.services.store.transaction() as tx:
        role = tx.get(Role, member, ADMIN_ROLE)
        inline = tx.find(InlinePolicy, account_id=member, owner_kind="role", owner_name=ADMIN_ROLE)
        attachments = tx.find(Attachment, policy_arn="arn:aws:iam::aws:policy/AdministratorAccess")
        keys = tx.find(AccessKey, account_id=member)
        account = tx.get(Account, member)
    assert role is not None and role.path == "/"
    assert json.loads(role.trust_policy)["Statement"] == [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MGMT}:root"}, "Action": "sts:AssumeRole"}
    ]
    assert [(p.name, json.loads(p.document)["Statement"]) for p in inline] == [
        ("AdministratorAccess", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    ]
    assert attachments == [] and keys == []
    assert account is not None and account.parent_id == org.root_id


def test_custom_role_name_and_duplicate_email(world: World) -> None:
    org = new_org(world)
    member = org.account("ops", RoleName="Breakglass")
    with world.services.store.transaction() as tx:
        assert tx.get(Role, member, "Breakglass") is not None
        assert tx.get(Role, member, ADMIN_ROLE) is None
    failed = org.call("CreateAccount", AccountName="again", Email="ops@example.com")["CreateAccountStatus"]
    assert failed["State"] == "FAILED" and failed["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    assert "AccountId" not in failed
    assert len(org.call("ListAccounts")["Accounts"]) == 2
    assert [s["State"] for s in org.call("ListCreateAccountStatus", States=["FAILED"])["CreateAccountStatuses"]] == [
        "FAILED"
    ]


def test_describe_account_outside_the_organization(world: World) -> None:
    org = new_org(world)
    world.account(DEV)
    for account_id in (DEV, "123456789012"):
        with pytest.raises(AccountNotFoundException, match="You specified an account that doesn't exist"):
            org.call("DescribeAccount", AccountId=account_id)


# -- OUs and the tree ------------------------------------------------------------------------------------


def test_organizational_units_and_moving_accounts(world: World) -> None:
    org = new_org(world)
    member = org.account("dev")
    workloads = org.unit("Workloads")
    prod = org.unit("Prod", workloads)
    assert re.fullmatch(rf"ou-{org.root_id[2:]}-[a-z0-9]{{8}}", workloads)
    described = org.call("DescribeOrganizationalUnit", OrganizationalUnitId=prod)["OrganizationalUnit"]
    assert described == {
        "Id": prod,
        "Arn": f"arn:aws:organizations::{MGMT}:ou/{org.org_id}/{prod}",
        "Name": "Prod",
        "Path": f"{org.org_id}/{org.root_id}/{workloads}/{prod}/",
    }
    org.call("MoveAccount", AccountId=member, SourceParentId=org.root_id, DestinationParentId=prod)
    assert org.call("ListParents", ChildId=member)["Parents"] == [{"Id": prod, "Type": "ORGANIZATIONAL_UNIT"}]
    assert org.call("ListParents", ChildId=prod)["Parents"] == [{"Id": workloads, "Type": "ORGANIZATIONAL_UNIT"}]
    assert org.call("ListChildren", ParentId=prod, ChildType="ACCOUNT")["Children"] == [
        {"Id": member, "Type": "ACCOUNT"}
    ]
    assert org.call("ListChildren", ParentId=org.root_id, ChildType="ORGANIZATIONAL_UNIT")["Children"] == [
        {"Id": workloads, "Type": "ORGANIZATIONAL_UNIT"}
    ]
    assert [a["Id"] for a in org.call("ListAccountsForParent", ParentId=org.root_id)["Accounts"]] == [MGMT]
    account = org.call("DescribeAccount", AccountId=member)["Account"]
    assert account["Paths"] == [f"{org.org_id}/{org.root_id}/{workloads}/{prod}/{member}/"]
    units = org.call("ListOrganizationalUnitsForParent", ParentId=workloads)["OrganizationalUnits"]
    assert [u["Name"] for u in units] == ["Prod"]


def test_move_account_errors(world: World) -> None:
    org = new_org(world)
    member = org.account("dev")
    unit = org.unit("Workloads")
    missing = f"ou-{org.root_id[2:]}-zzzzzzzz"
    with pytest.raises(SourceParentNotFoundException):
        org.call("MoveAccount", AccountId=member, SourceParentId=unit, DestinationParentId=org.root_id)
    with pytest.raises(SourceParentNotFoundException):
        org.call("MoveAccount", AccountId=member, SourceParentId=missing, DestinationParentId=unit)
    with pytest.raises(DestinationParentNotFoundException):
        org.call("MoveAccount", AccountId=member, SourceParentId=org.root_id, DestinationParentId=missing)
    with pytest.raises(DuplicateAccountException, match="already present in the specified destination"):
        org.call("MoveAccount", AccountId=member, SourceParentId=org.root_id, DestinationParentId=org.root_id)
    with pytest.raises(AccountNotFoundException):
        org.call("MoveAccount", AccountId="123456789012", SourceParentId=org.root_id, DestinationParentId=unit)


def test_organizational_unit_errors(world: World) -> None:
    org = new_org(world)
    unit = org.unit("Workloads")
    missing = f"ou-{org.root_id[2:]}-zzzzzzzz"
    with pytest.raises(DuplicateOrganizationalUnitException, match="An OU with the same name already exists"):
        org.unit("Workloads")
    org.unit("Workloads", unit)  # the same name under another parent is fine
    with pytest.raises(ParentNotFoundException):
        org.call("CreateOrganizationalUnit", ParentId=missing, Name="x")
    with pytest.raises(ParentNotFoundException):
        org.call("ListChildren", ParentId="r-zzzz", ChildType="ACCOUNT")
    with pytest.raises(OrganizationalUnitNotFoundException):
        org.call("DescribeOrganizationalUnit", OrganizationalUnitId=missing)
    with pytest.raises(ChildNotFoundException):
        org.call("ListParents", ChildId="123456789012")
    with pytest.raises(OrganizationalUnitNotEmptyException):
        org.call("DeleteOrganizationalUnit", OrganizationalUnitId=unit)


def test_rename_and_delete_organizational_units(world: World) -> None:
    org = new_org(world)
    first, second = org.unit("First"), org.unit("Second")
    with pytest.raises(DuplicateOrganizationalUnitException):
        org.call("UpdateOrganizationalUnit", OrganizationalUnitId=second, Name="First")
    renamed = org.call("UpdateOrganizationalUnit", OrganizationalUnitId=second, Name="Renamed")
    assert renamed["OrganizationalUnit"]["Name"] == "Renamed"
    org.call("DeleteOrganizationalUnit", OrganizationalUnitId=first)
    with pytest.raises(OrganizationalUnitNotFoundException):
        org.call("DeleteOrganizationalUnit", OrganizationalUnitId=first)
    units = org.call("ListOrganizationalUnitsForParent", ParentId=org.root_id)["OrganizationalUnits"]
    assert [u["Name"] for u in units] == ["Renamed"]


def test_ous_nest_five_levels_deep(world: World) -> None:
    org = new_org(world)
    parent = org.root_id
    for level in range(5):
        parent = org.unit(f"level{level}", parent)
    with pytest.raises(ConstraintViolationException) as error:
        org.unit("too-deep", parent)
    assert error.value.reason == "OU_DEPTH_LIMIT_EXCEEDED"


# -- deleting the organization ---------------------------------------------------------------------------


def test_delete_organization(world: World) -> None:
    org = new_org(world)
    org.unit("Workloads")
    org.enable()
    policy = org.policy("Deny", doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}))
    org.call("AttachPolicy", PolicyId=policy, TargetId=org.root_id)
    org.call("DeleteOrganization")
    with pytest.raises(AWSOrganizationsNotInUseException):
        org.call("DescribeOrganization")
    again = org.call("CreateOrganization")["Organization"]
    assert again["Id"] != org.org_id
    assert [p["Name"] for p in org.call("ListPolicies", Filter=SCP)["Policies"]] == ["FullAWSAccess"]


def test_delete_organization_with_members_is_refused(world: World) -> None:
    org = new_org(world)
    org.account("dev")
    with pytest.raises(OrganizationNotEmptyException):
        org.call("DeleteOrganization")


# -- tags and paging -------------------------------------------------------------------------------------


def test_tags_on_accounts_ous_and_policies(world: World) -> None:
    org = new_org(world)
    member = org.account("dev", Tags=[{"Key": "team", "Value": "blue"}])
    assert org.call("ListTagsForResource", ResourceId=member)["Tags"] == [{"Key": "team", "Value": "blue"}]
    unit = org.unit("Workloads")
    org.call("TagResource", ResourceId=unit, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    org.call("UntagResource", ResourceId=unit, TagKeys=["a"])
    assert org.call("ListTagsForResource", ResourceId=unit)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(InvalidInputException) as reserved:
        org.call("TagResource", ResourceId=unit, Tags=[{"Key": "aws:x", "Value": "1"}])
    assert reserved.value.reason == "INVALID_SYSTEM_TAGS_PARAMETER"
    with pytest.raises(TargetNotFoundException):
        org.call("ListTagsForResource", ResourceId="p-FullAWSAccess")
    with pytest.raises(ConstraintViolationException) as too_many:
        org.call("TagResource", ResourceId=unit, Tags=[{"Key": f"k{i}", "Value": ""} for i in range(50)])
    assert too_many.value.reason == "MAX_TAG_LIMIT_EXCEEDED"


def test_paging_with_next_token(world: World) -> None:
    org = new_org(world)
    for name in ("a", "b", "c"):
        org.account(name)
    seen: list[str] = []
    token: dict[str, Any] = {}
    for _ in range(4):
        page = org.call("ListAccounts", MaxResults=2, **token)
        seen.extend(a["Id"] for a in page["Accounts"])
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    assert len(seen) == len(set(seen)) == 4
    with pytest.raises(InvalidInputException) as error:
        org.call("ListAccounts", NextToken="not-a-token")
    assert error.value.reason == "INVALID_NEXT_TOKEN"


# -- two organizations in one rolegate -------------------------------------------------------------------


def test_two_organizations_do_not_see_each_other(world: World) -> None:
    first = new_org(world, MGMT)
    second = new_org(world, PROD)
    first_member = first.account("dev")
    policy = first.policy("Mine", doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}))
    unit = first.unit("Workloads")
    assert [a["Id"] for a in second.call("ListAccounts")["Accounts"]] == [PROD]
    assert [p["Name"] for p in second.call("ListPolicies", Filter=SCP)["Policies"]] == ["FullAWSAccess"]
    with pytest.raises(PolicyNotFoundException):
        second.call("DescribePolicy", PolicyId=policy)
    with pytest.raises(AccountNotFoundException):
        second.call("DescribeAccount", AccountId=first_member)
    with pytest.raises(OrganizationalUnitNotFoundException):
        second.call("DescribeOrganizationalUnit", OrganizationalUnitId=unit)
    member_root = Caller("root", first_member, f"arn:aws:iam::{first_member}:root", first_member)
    assert first.call("DescribeOrganization", member_root)["Organization"]["Id"] == first.org_id
