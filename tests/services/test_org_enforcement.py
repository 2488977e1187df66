"""SCPs and RCPs enforced by the engine end to end: a management-account IAM user assumes
OrganizationAccountAccessRole in a member account (the root user cannot assume roles), and that session's
calls are limited by the SCPs on its account's path; the management account never is. RCPs limit calls on a
member account's resources. Organizations calls themselves are authorized by IAM on the AWS ARNs."""

from __future__ import annotations

from typing import Any

import pytest
from services_support import MGMT, World, allow
from test_organizations import ADMIN_ROLE, RCP, Org, doc, new_org

from rolegate.errors import AccessDenied
from rolegate.services.context import Caller
from rolegate.services.registry import load_all, lookup

load_all()
CREATE_OPERATIONS = [name for name in ("CreateUser", "CreateRole") if lookup("iam", name) is not None]
DENY_CREATE = doc({"Effect": "Deny", "Action": ["iam:CreateUser", "iam:CreateRole"], "Resource": "*"})
TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MGMT}:root"}, "Action": "sts:AssumeRole"})


def _create(world: World, caller: Caller, operation: str, name: str) -> dict[str, Any]:
    if operation == "CreateUser":
        return world.call(caller, "iam", "CreateUser", UserName=name)
    return world.call(caller, "iam", "CreateRole", RoleName=name, AssumeRolePolicyDocument=TRUST)


def _resource(account: str, operation: str, name: str) -> str:
    return f"arn:aws:iam::{account}:{'user' if operation == 'CreateUser' else 'role'}/{name}"


def _member_session(org: Org, member: str) -> tuple[Caller, Caller]:
    """(management IAM admin user, session of OrganizationAccountAccessRole in the member account)."""
    world = org.world
    admin = world.user(MGMT, "admin", doc(allow("*")))
    role_arn = f"arn:aws:iam::{member}:role/{ADMIN_ROLE}"
    credentials = world.call(admin, "sts", "AssumeRole", RoleArn=role_arn, RoleSessionName="ops")["Credentials"]
    return admin, world.session_caller(credentials)


def _org_with_member(world: World) -> tuple[Org, str, str]:
    org = new_org(world)
    member = org.account("dev")
    unit = org.unit("Workloads")
    org.call("MoveAccount", AccountId=member, SourceParentId=org.root_id, DestinationParentId=unit)
    return org, member, unit


@pytest.mark.parametrize("operation", CREATE_OPERATIONS)
def test_scp_deny_on_an_ou_binds_member_sessions_but_not_the_management_account(world: World, operation: str) -> None:
    org, member, unit = _org_with_member(world)
    admin, session = _member_session(org, member)
    assert session.arn == f"arn:aws:sts::{member}:assumed-role/{ADMIN_ROLE}/ops"
    org.enable()
    deny = org.policy("DenyIdentityCreation", DENY_CREATE)
    org.call("AttachPolicy", PolicyId=deny, TargetId=unit)
    org.call("AttachPolicy", PolicyId=deny, TargetId=org.root_id)
    with pytest.raises(AccessDenied) as denied:
        _create(world, session, operation, "intruder")
    action = f"iam:{operation}"
    assert denied.value.message == (
        f"User: {session.arn} is not authorized to perform: {action} on resource: "
        f"{_resource(member, operation, 'intruder')} with an explicit deny in a service control policy"
    )
    _create(world, admin, operation, "allowed")  # the management account is never bound by SCPs
    org.call("DetachPolicy", PolicyId=deny, TargetId=unit)
    org.call("DetachPolicy", PolicyId=deny, TargetId=org.root_id)
    _create(world, session, operation, "now-allowed")


def test_scps_apply_only_once_enabled_and_stop_when_disabled(world: World) -> None:
    org, member, unit = _org_with_member(world)
    _, session = _member_session(org, member)
    operation = CREATE_OPERATIONS[-1]
    org.enable()
    org.call("AttachPolicy", PolicyId=org.policy("Deny", DENY_CREATE), TargetId=unit)
    with pytest.raises(AccessDenied, match="explicit deny in a service control policy"):
        _create(world, session, operation, "first")
    org.call("DisablePolicyType", RootId=org.root_id, PolicyType="SERVICE_CONTROL_POLICY")
    _create(world, session, operation, "second")


def test_an_allow_list_scp_without_full_access_implicitly_denies_the_rest(world: World) -> None:
    org, member, _ = _org_with_member(world)
    _, session = _member_session(org, member)
    org.enable()
    read_only = org.policy(
        "ReadOnlyIam", doc({"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"})
    )
    org.call("AttachPolicy", PolicyId=read_only, TargetId=member)
    org.call("DetachPolicy", PolicyId="p-FullAWSAccess", TargetId=member)
    operation = CREATE_OPERATIONS[-1]
    with pytest.raises(AccessDenied) as denied:
        _create(world, session, operation, "x")
    assert denied.value.message.endswith(f"because no service control policy allows the iam:{operation} action")
    assert world.call(session, "iam", "ListRoles")["Roles"]


def test_every_level_of_the_path_must_allow(world: World) -> None:
    org, member, unit = _org_with_member(world)
    _, session = _member_session(org, member)
    org.enable()
    s3_only = org.policy("S3Only", doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    org.call("AttachPolicy", PolicyId=s3_only, TargetId=unit)
    org.call("DetachPolicy", PolicyId="p-FullAWSAccess", TargetId=unit)
    with pytest.raises(AccessDenied, match="because no service control policy allows the iam:ListRoles action"):
        world.call(session, "iam", "ListRoles")


def test_rcp_deny_protects_a_member_accounts_resources(world: World) -> None:
    org, member, unit = _org_with_member(world)
    admin, _ = _member_session(org, member)
    org.enable(RCP)
    no_assume = org.policy(
        "NoAssumeFromOutside",
        doc({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"}),
        RCP,
    )
    org.call("AttachPolicy", PolicyId=no_assume, TargetId=unit)
    role_arn = f"arn:aws:iam::{member}:role/{ADMIN_ROLE}"
    with pytest.raises(AccessDenied) as denied:
        world.call(admin, "sts", "AssumeRole", RoleArn=role_arn, RoleSessionName="again")
    assert denied.value.message == (
        f"User: {admin.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn} "
        "with an explicit deny in a resource control policy"
    )
    world.role(MGMT, "Local", TRUST)
    local = f"arn:aws:iam::{MGMT}:role/Local"
    world.call(admin, "sts", "AssumeRole", RoleArn=local, RoleSessionName="s")  # the management account is exempt


def test_organizations_calls_are_authorized_on_the_aws_arns(world: World) -> None:
    org = new_org(world)
    unit = org.unit("Workloads")
    org.enable()
    policy = org.policy("DenyS3", doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}))
    policy_arn = f"arn:aws:organizations::{MGMT}:policy/{org.org_id}/service_control_policy/{policy}"
    unit_arn = f"arn:aws:organizations::{MGMT}:ou/{org.org_id}/{unit}"
    nobody = world.user(MGMT, "nobody")
    with pytest.raises(AccessDenied, match=r"organizations:ListAccounts on resource: \* because no identity"):
        world.call(nobody, "organizations", "ListAccounts")
    policy_only = world.user(MGMT, "policy-only", doc(allow("organizations:AttachPolicy", policy_arn)))
    with pytest.raises(AccessDenied) as denied:
        world.call(policy_only, "organizations", "AttachPolicy", PolicyId=policy, TargetId=unit)
    assert f"organizations:AttachPolicy on resource: {unit_arn}" in denied.value.message
    both = world.user(MGMT, "both", doc(allow("organizations:AttachPolicy", [policy_arn, unit_arn])))
    world.call(both, "organizations", "AttachPolicy", PolicyId=policy, TargetId=unit)
    reader = world.user(MGMT, "reader", doc(allow("organizations:DescribeOrganizationalUnit", unit_arn)))
    assert world.call(reader, "organizations", "DescribeOrganizationalUnit", OrganizationalUnitId=unit)
