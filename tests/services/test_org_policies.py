"""SCPs and RCPs as Organizations resources: enabling a type and its default full-access attachments,
create/describe/update/delete with the engine's validation, attach/detach rules and listings."""

from __future__ import annotations

import json
import re

import pytest
from services_support import MGMT, World
from test_organizations import RCP, SCP, Org, doc, new_org

from rolegate.services.organizations.errors import (
    ConstraintViolationException,
    DuplicatePolicyAttachmentException,
    DuplicatePolicyException,
    InvalidInputException,
    MalformedPolicyDocumentException,
    PolicyInUseException,
    PolicyNotAttachedException,
    PolicyNotFoundException,
    PolicyTypeAlreadyEnabledException,
    PolicyTypeNotAvailableForOrganizationException,
    PolicyTypeNotEnabledException,
    RootNotFoundException,
    TargetNotFoundException,
)

DENY_S3 = doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
FULL = "p-FullAWSAccess"
RCP_FULL = "p-RCPFullAWSAccess"


def _targets(org: Org, policy_id: str) -> list[str]:
    return [t["TargetId"] for t in org.call("ListTargetsForPolicy", PolicyId=policy_id)["Targets"]]


def _attached(org: Org, target: str, policy_type: str = SCP) -> list[str]:
    policies = org.call("ListPoliciesForTarget", TargetId=target, Filter=policy_type)["Policies"]
    return [p["Name"] for p in policies]


# -- policy types ----------------------------------------------------------------------------------------


def test_enabling_scps_attaches_full_aws_access_everywhere(world: World) -> None:
    org = new_org(world)
    member = org.account("dev")
    unit = org.unit("Workloads")
    assert _targets(org, FULL) == []
    root = org.enable()["Root"]
    assert root["PolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    assert org.call("ListRoots")["Roots"][0]["PolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    assert sorted(_targets(org, FULL)) == sorted([org.root_id, unit, member, MGMT])
    later_unit, later_account = org.unit("Later"), org.account("later")
    assert _attached(org, later_unit) == ["FullAWSAccess"]
    assert _attached(org, later_account) == ["FullAWSAccess"]
    with pytest.raises(PolicyTypeAlreadyEnabledException):
        org.enable()
    with pytest.raises(RootNotFoundException):
        org.call("EnablePolicyType", RootId="r-zzzz", PolicyType=RCP)


def test_disabling_a_type_detaches_all_its_policies(world: World) -> None:
    org = new_org(world)
    unit = org.unit("Workloads")
    org.enable()
    org.enable(RCP)
    policy = org.policy("DenyS3", DENY_S3)
    org.call("AttachPolicy", PolicyId=policy, TargetId=unit)
    root = org.call("DisablePolicyType", RootId=org.root_id, PolicyType=SCP)["Root"]
    assert root["PolicyTypes"] == [{"Type": RCP, "Status": "ENABLED"}]
    assert _targets(org, FULL) == [] and _targets(org, policy) == []
    assert _attached(org, unit, RCP) == ["RCPFullAWSAccess"]
    with pytest.raises(PolicyTypeNotEnabledException):
        org.call("DisablePolicyType", RootId=org.root_id, PolicyType=SCP)


def test_policy_types_need_all_features_and_must_be_scp_or_rcp(world: World) -> None:
    org = new_org(world, FeatureSet="CONSOLIDATED_BILLING")
    with pytest.raises(PolicyTypeNotAvailableForOrganizationException):
        org.enable()
    with pytest.raises(PolicyTypeNotAvailableForOrganizationException):
        org.policy("DenyS3", DENY_S3)
    full = new_org(world, "333333333333")
    with pytest.raises(InvalidInputException) as error:
        full.enable("TAG_POLICY")
    assert error.value.reason == "INVALID_ENUM_POLICY_TYPE"
    assert full.call("ListPolicies", Filter="TAG_POLICY")["Policies"] == []


# -- the documents ---------------------------------------------------------------------------------------


def test_create_describe_update_delete(world: World) -> None:
    org = new_org(world)
    policy_id = org.policy("DenyS3", DENY_S3)
    assert re.fullmatch(r"p-[a-z0-9]{10}", policy_id)
    described = org.call("DescribePolicy", PolicyId=policy_id)["Policy"]
    assert described == {
        "PolicySummary": {
            "Id": policy_id,
            "Arn": f"arn:aws:organizations::{MGMT}:policy/{org.org_id}/service_control_policy/{policy_id}",
            "Name": "DenyS3",
            "Description": "DenyS3 policy",
            "Type": SCP,
            "AwsManaged": False,
        },
        "Content": DENY_S3,
    }
    new_content = doc({"Effect": "Deny", "Action": "ec2:*", "Resource": "*"})
    updated = org.call("UpdatePolicy", PolicyId=policy_id, Name="DenyEc2", Description="", Content=new_content)
    assert updated["Policy"]["PolicySummary"]["Name"] == "DenyEc2"
    assert updated["Policy"]["PolicySummary"]["Description"] == ""
    assert updated["Policy"]["Content"] == new_content
    org.call("DeletePolicy", PolicyId=policy_id)
    with pytest.raises(PolicyNotFoundException):
        org.call("DescribePolicy", PolicyId=policy_id)


def test_list_policies_puts_the_aws_managed_policy_first(world: World) -> None:
    org = new_org(world)
    org.policy("Zeta", DENY_S3)
    org.policy("Alpha", DENY_S3)
    rcp = org.policy("NoAssume", _rcp_deny(), RCP)
    policies = org.call("ListPolicies", Filter=SCP)["Policies"]
    assert [p["Name"] for p in policies] == ["FullAWSAccess", "Alpha", "Zeta"]
    assert policies[0] == {
        "Id": FULL,
        "Arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
        "Name": "FullAWSAccess",
        "Description": "Allows access to every operation",
        "Type": SCP,
        "AwsManaged": True,
    }
    rcps = org.call("ListPolicies", Filter=RCP)["Policies"]
    assert [p["Id"] for p in rcps] == [RCP_FULL, rcp]
    full = org.call("DescribePolicy", PolicyId=FULL)["Policy"]
    assert json.loads(full["Content"])["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


def _rcp_deny() -> str:
    return doc({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"})


@pytest.mark.parametrize(
    ("policy_type", "content"),
    [
        (SCP, "{not json"),
        (SCP, doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"})),
        (SCP, doc({"Effect": "Maybe", "Action": "s3:*", "Resource": "*"})),
        (RCP, doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})),
    ],
)
def test_malformed_content_is_refused(world: World, policy_type: str, content: str) -> None:
    org = new_org(world)
    with pytest.raises(MalformedPolicyDocumentException, match="does not meet the requirements"):
        org.policy("Bad", content, policy_type)


def test_content_size_names_and_immutable_policies(world: World) -> None:
    org = new_org(world)
    padded = doc({"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::" + "x" * 5100})
    with pytest.raises(ConstraintViolationException) as too_big:
        org.policy("Big", padded)
    assert too_big.value.reason == "POLICY_CONTENT_LIMIT_EXCEEDED"
    spaced = json.dumps(json.loads(DENY_S3), indent=1200)
    with pytest.raises(ConstraintViolationException):
        org.policy("Spaced", spaced)  # the API counts whitespace too
    org.policy("DenyS3", DENY_S3)
    with pytest.raises(DuplicatePolicyException):
        org.policy("DenyS3", DENY_S3)
    with pytest.raises(DuplicatePolicyException):
        org.policy("FullAWSAccess", DENY_S3)
    for operation, extra in (("UpdatePolicy", {"Name": "Mine"}), ("DeletePolicy", {})):
        with pytest.raises(InvalidInputException) as immutable:
            org.call(operation, PolicyId=FULL, **extra)
        assert immutable.value.reason == "IMMUTABLE_POLICY"
    with pytest.raises(PolicyNotFoundException):
        org.call("DescribePolicy", PolicyId="p-0123456789")


# -- attach and detach -----------------------------------------------------------------------------------


def test_attach_needs_an_enabled_type_an_existing_target_and_no_duplicate(world: World) -> None:
    org = new_org(world)
    unit = org.unit("Workloads")
    policy = org.policy("DenyS3", DENY_S3)
    with pytest.raises(PolicyTypeNotEnabledException):
        org.call("AttachPolicy", PolicyId=policy, TargetId=unit)
    org.enable()
    with pytest.raises(TargetNotFoundException):
        org.call("AttachPolicy", PolicyId=policy, TargetId="123456789012")
    with pytest.raises(PolicyNotFoundException):
        org.call("AttachPolicy", PolicyId="p-0123456789", TargetId=unit)
    org.call("AttachPolicy", PolicyId=policy, TargetId=unit)
    with pytest.raises(DuplicatePolicyAttachmentException):
        org.call("AttachPolicy", PolicyId=policy, TargetId=unit)
    assert _attached(org, unit) == ["FullAWSAccess", "DenyS3"]
    assert _targets(org, policy) == [unit]
    with pytest.raises(TargetNotFoundException):
        org.call("ListPoliciesForTarget", TargetId="123456789012", Filter=SCP)


def test_at_most_five_scps_per_target(world: World) -> None:
    org = new_org(world)
    unit = org.unit("Workloads")
    org.enable()
    for number in range(4):
        org.call("AttachPolicy", PolicyId=org.policy(f"P{number}", DENY_S3), TargetId=unit)
    sixth = org.policy("P5", DENY_S3)
    with pytest.raises(ConstraintViolationException) as error:
        org.call("AttachPolicy", PolicyId=sixth, TargetId=unit)
    assert error.value.reason == "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"


def test_detach_rules(world: World) -> None:
    org = new_org(world)
    member = org.account("dev")
    org.enable()
    org.enable(RCP)
    with pytest.raises(ConstraintViolationException) as last:
        org.call("DetachPolicy", PolicyId=FULL, TargetId=member)
    assert last.value.reason == "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
    with pytest.raises(InvalidInputException) as fixed:
        org.call("DetachPolicy", PolicyId=RCP_FULL, TargetId=member)
    assert fixed.value.reason == "NON_DETACHABLE_POLICY"
    policy = org.policy("DenyS3", DENY_S3)
    with pytest.raises(PolicyNotAttachedException):
        org.call("DetachPolicy", PolicyId=policy, TargetId=member)
    org.call("AttachPolicy", PolicyId=policy, TargetId=member)
    with pytest.raises(PolicyInUseException):
        org.call("DeletePolicy", PolicyId=policy)
    org.call("DetachPolicy", PolicyId=FULL, TargetId=member)
    assert _attached(org, member) == ["DenyS3"]
    org.call("AttachPolicy", PolicyId=FULL, TargetId=member)
    org.call("DetachPolicy", PolicyId=policy, TargetId=member)
    org.call("DeletePolicy", PolicyId=policy)
    assert _attached(org, member) == ["FullAWSAccess"]
