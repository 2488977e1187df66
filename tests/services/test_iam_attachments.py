"""Managed-policy attachments: attach/detach/list for users, groups and roles, quotas and IAM's wording,
ListEntitiesForPolicy, the iam:PolicyARN condition key, and detaching taking effect on a live session."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from services_support import DEV, PROD, World, allow, doc

from rolegate.errors import AccessDenied
from rolegate.services.context import Caller
from rolegate.services.iam.errors import (
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    PolicyNotAttachable,
    UnmodifiableEntity,
)
from rolegate.store.records import Group, User

ROLE_TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}, "Action": "sts:AssumeRole"})
KINDS = [("User", "UserName", "user"), ("Group", "GroupName", "group"), ("Role", "RoleName", "role")]
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
POLICY = doc(allow("s3:GetObject", "arn:aws:s3:::bucket/*"))


def _owner(world: World, kind: str, name: str = "owner", path: str = "/") -> None:
    if kind == "User":
        world.user(DEV, name, path=path)
    elif kind == "Group":
        with world.services.store.transaction() as tx:
            tx.insert(Group(DEV, name, world.services.ids.unique_id("AGPA"), path, world.clock.now()))
    else:
        world.role(DEV, name, ROLE_TRUST, path=path)


def _policy(world: World, caller: Caller, name: str, path: str = "/") -> str:
    result = world.call(caller, "iam", "CreatePolicy", PolicyName=name, PolicyDocument=POLICY, Path=path)
    return str(result["Policy"]["Arn"])


@pytest.mark.parametrize(("kind", "param", "_lower"), KINDS)
def test_attach_list_detach(world: World, kind: str, param: str, _lower: str) -> None:
    root = world.account(DEV)
    _owner(world, kind, "Owner")
    mine = _policy(world, root, "mine", "/team/")
    owner: dict[str, Any] = {param: "owner"}
    world.call(root, "iam", f"Attach{kind}Policy", **owner, PolicyArn=mine)
    world.call(root, "iam", f"Attach{kind}Policy", **owner, PolicyArn=mine)  # attaching twice is harmless
    world.call(root, "iam", f"Attach{kind}Policy", **owner, PolicyArn=READ_ONLY)
    listed = world.call(root, "iam", f"ListAttached{kind}Policies", **owner)
    assert listed == {
        "AttachedPolicies": [
            {"PolicyName": "mine", "PolicyArn": mine},
            {"PolicyName": "ReadOnlyAccess", "PolicyArn": READ_ONLY},
        ],
        "IsTruncated": False,
    }
    only_team = world.call(root, "iam", f"ListAttached{kind}Policies", **owner, PathPrefix="/team/")
    assert only_team["AttachedPolicies"] == [{"PolicyName": "mine", "PolicyArn": mine}]
    assert world.call(root, "iam", "GetPolicy", PolicyArn=mine)["Policy"]["AttachmentCount"] == 1
    world.call(root, "iam", f"Detach{kind}Policy", **owner, PolicyArn=mine)
    remaining = world.call(root, "iam", f"ListAttached{kind}Policies", **owner)["AttachedPolicies"]
    assert remaining == [{"PolicyName": "ReadOnlyAccess", "PolicyArn": READ_ONLY}]
    assert world.call(root, "iam", "GetPolicy", PolicyArn=mine)["Policy"]["AttachmentCount"] == 0


@pytest.mark.parametrize(("kind", "param", "lower"), KINDS)
def test_attach_errors(world: World, kind: str, param: str, lower: str) -> None:
    root = world.account(DEV)
    _owner(world, kind)
    owner: dict[str, Any] = {param: "owner"}
    missing = f"arn:aws:iam::{DEV}:policy/missing"
    with pytest.raises(NoSuchEntity) as no_policy:
        world.call(root, "iam", f"Attach{kind}Policy", **owner, PolicyArn=missing)
    assert no_policy.value.message == f"Policy {missing} does not exist or is not attachable."
    with pytest.raises(NoSuchEntity) as no_owner:
        world.call(root, "iam", f"Attach{kind}Policy", **{param: "ghost"}, PolicyArn=READ_ONLY)
    assert no_owner.value.message == f"The {lower} with name ghost cannot be found."
    with pytest.raises(InvalidInput) as invalid:
        world.call(root, "iam", f"Attach{kind}Policy", **owner, PolicyArn="arn:aws:s3:::not-a-policy")
    assert invalid.value.message == "ARN arn:aws:s3:::not-a-policy is not valid."
    service_role = "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"
    with pytest.raises(PolicyNotAttachable) as not_attachable:
        world.call(root, "iam", f"Attach{kind}Policy", **owner, PolicyArn=service_role)
    assert not_attachable.value.message == "Cannot attach a Service Role Policy to a Customer Role."
    with pytest.raises(NoSuchEntity) as not_attached:
        world.call(root, "iam", f"Detach{kind}Policy", **owner, PolicyArn=READ_ONLY)
    assert not_attached.value.message == f"Policy {READ_ONLY} was not found."


def test_another_accounts_policy_cannot_be_attached(world: World) -> None:
    prod = world.account(PROD)
    foreign = _policy(world, prod, "foreign")
    root = world.account(DEV)
    world.role(DEV, "r", ROLE_TRUST)
    with pytest.raises(NoSuchEntity) as error:
        world.call(root, "iam", "AttachRolePolicy", RoleName="r", PolicyArn=foreign)
    assert error.value.message == f"Policy {foreign} does not exist or is not attachable."


@pytest.mark.parametrize(("kind", "param", "_lower"), KINDS)
def test_ten_managed_policies_per_owner(world: World, kind: str, param: str, _lower: str) -> None:
    root = world.account(DEV)
    _owner(world, kind)
    owner: dict[str, Any] = {param: "owner"}
    arns = [_policy(world, root, f"p{n}") for n in range(11)]
    for arn in arns[:10]:
        world.call(root, "iam", f"Attach{kind}Policy", **owner, PolicyArn=arn)
    world.call(root, "iam", f"Attach{kind}Policy", **owner, PolicyArn=arns[0])  # already attached: no new slot
    with pytest.raises(LimitExceeded) as error:
        world.call(root, "iam", f"Attach{kind}Policy", **owner, PolicyArn=arns[10])
    assert error.value.message == f"Cannot exceed quota for PoliciesPer{kind}: 10"
    page = world.call(root, "iam", f"ListAttached{kind}Policies", **owner, MaxItems=4)
    assert len(page["AttachedPolicies"]) == 4 and page["IsTruncated"] is True


def test_service_linked_roles_cannot_be_attached_to(world: World) -> None:
    root = world.account(DEV)
    world.role(DEV, "AWSServiceRoleForX", ROLE_TRUST, path="/aws-service-role/x.amazonaws.com/")
    with pytest.raises(UnmodifiableEntity):
        world.call(root, "iam", "AttachRolePolicy", RoleName="AWSServiceRoleForX", PolicyArn=READ_ONLY)


def test_list_entities_for_policy(world: World) -> None:
    root = world.account(DEV)
    arn = _policy(world, root, "shared")
    _owner(world, "User", "alice", "/eng/")
    _owner(world, "User", "bob")
    _owner(world, "Group", "devs", "/eng/")
    _owner(world, "Role", "worker")
    for kind, param, name in (
        ("User", "UserName", "alice"),
        ("Group", "GroupName", "devs"),
        ("Role", "RoleName", "worker"),
    ):
        world.call(root, "iam", f"Attach{kind}Policy", **{param: name}, PolicyArn=arn)
    with world.services.store.transaction() as tx:
        bob = tx.get(User, DEV, "bob")
        assert bob is not None
        tx.put(replace(bob, permissions_boundary=arn))
    everything = world.call(root, "iam", "ListEntitiesForPolicy", PolicyArn=arn)
    assert [u["UserName"] for u in everything["PolicyUsers"]] == ["alice", "bob"]
    assert everything["PolicyUsers"][0]["UserId"].startswith("AIDA")
    assert [g["GroupName"] for g in everything["PolicyGroups"]] == ["devs"]
    assert [(r["RoleName"], r["RoleId"][:4]) for r in everything["PolicyRoles"]] == [("worker", "AROA")]
    assert everything["IsTruncated"] is False

    def users(**params: Any) -> list[str]:
        result = world.call(root, "iam", "ListEntitiesForPolicy", PolicyArn=arn, **params)
        return [u["UserName"] for u in result["PolicyUsers"]] + [g["GroupName"] for g in result["PolicyGroups"]]

    assert users(PolicyUsageFilter="PermissionsPolicy") == ["alice", "devs"]
    assert users(PolicyUsageFilter="PermissionsBoundary") == ["bob"]
    assert users(PathPrefix="/eng/") == ["alice", "devs"]
    assert users(EntityFilter="Group") == ["devs"]
    role_only = world.call(root, "iam", "ListEntitiesForPolicy", PolicyArn=arn, EntityFilter="Role")
    assert (role_only["PolicyUsers"], role_only["PolicyGroups"], len(role_only["PolicyRoles"])) == ([], [], 1)


def test_list_entities_for_policy_pages_and_errors(world: World) -> None:
    root = world.account(DEV)
    arn = _policy(world, root, "shared")
    for kind, name in (("User", "alice"), ("Group", "devs"), ("Role", "worker"), ("Role", "other")):
        _owner(world, kind, name)
        world.call(root, "iam", f"Attach{kind}Policy", **{f"{kind}Name": name}, PolicyArn=arn)

    def names(result: dict[str, Any]) -> list[str]:
        return [
            e.get("UserName") or e.get("GroupName") or e["RoleName"]
            for key in ("PolicyUsers", "PolicyGroups", "PolicyRoles")
            for e in result[key]
        ]

    page = world.call(root, "iam", "ListEntitiesForPolicy", PolicyArn=arn, MaxItems=2)
    assert (names(page), page["IsTruncated"]) == (["devs", "other"], True)
    rest = world.call(root, "iam", "ListEntitiesForPolicy", PolicyArn=arn, MaxItems=2, Marker=page["Marker"])
    assert (names(rest), rest["IsTruncated"]) == (["alice", "worker"], False)
    with pytest.raises(NoSuchEntity) as missing:
        world.call(root, "iam", "ListEntitiesForPolicy", PolicyArn=f"arn:aws:iam::{DEV}:policy/none")
    assert missing.value.message == f"Policy arn:aws:iam::{DEV}:policy/none was not found."


def test_list_entities_for_an_aws_managed_policy_shows_this_account_only(world: World) -> None:
    root = world.account(DEV)
    _owner(world, "Role", "worker")
    world.call(root, "iam", "AttachRolePolicy", RoleName="worker", PolicyArn=READ_ONLY)
    prod = world.account(PROD)
    world.role(PROD, "elsewhere", ROLE_TRUST)
    world.call(prod, "iam", "AttachRolePolicy", RoleName="elsewhere", PolicyArn=READ_ONLY)
    roles = world.call(root, "iam", "ListEntitiesForPolicy", PolicyArn=READ_ONLY)["PolicyRoles"]
    assert [r["RoleName"] for r in roles] == ["worker"]


def test_policy_arn_condition_key_limits_what_may_be_attached(world: World) -> None:
    root = world.account(DEV)
    allowed = _policy(world, root, "allowed")
    other = _policy(world, root, "other")
    world.role(DEV, "r", ROLE_TRUST)
    admin = world.user(
        DEV,
        "admin",
        doc(
            allow(
                ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
                "*",
                Condition={"ArnEquals": {"iam:PolicyARN": allowed}},
            )
        ),
    )
    world.call(admin, "iam", "AttachRolePolicy", RoleName="r", PolicyArn=allowed)
    with pytest.raises(AccessDenied) as denied:
        world.call(admin, "iam", "AttachRolePolicy", RoleName="r", PolicyArn=other)
    assert denied.value.message == (
        f"User: arn:aws:iam::{DEV}:user/admin is not authorized to perform: iam:AttachRolePolicy on resource: "
        f"arn:aws:iam::{DEV}:role/r because no identity-based policy allows the iam:AttachRolePolicy action"
    )
    world.call(admin, "iam", "DetachRolePolicy", RoleName="r", PolicyArn=allowed)


def test_detaching_the_role_policy_denies_the_sessions_next_call(world: World) -> None:
    root = world.account(DEV)
    grant = world.call(root, "iam", "CreatePolicy", PolicyName="lister", PolicyDocument=doc(allow("iam:ListPolicies")))
    arn = grant["Policy"]["Arn"]
    world.role(DEV, "worker", ROLE_TRUST)
    world.call(root, "iam", "AttachRolePolicy", RoleName="worker", PolicyArn=arn)
    alice = world.user(DEV, "alice", doc(allow("sts:AssumeRole", f"arn:aws:iam::{DEV}:role/worker")))
    creds = world.call(alice, "sts", "AssumeRole", RoleArn=f"arn:aws:iam::{DEV}:role/worker", RoleSessionName="s")
    session = world.session_caller(creds["Credentials"])
    world.call(session, "iam", "ListPolicies", Scope="Local")
    world.call(root, "iam", "DetachRolePolicy", RoleName="worker", PolicyArn=arn)
    with pytest.raises(AccessDenied):
        world.call(session, "iam", "ListPolicies", Scope="Local")
    world.call(
        root, "iam", "AttachRolePolicy", RoleName="worker", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    )
    world.call(session, "iam", "ListPolicies", Scope="Local")


def test_attachments_are_authorized_on_the_owner(world: World) -> None:
    world.account(DEV)
    world.role(DEV, "mine", ROLE_TRUST)
    world.role(DEV, "theirs", ROLE_TRUST)
    alice = world.user(
        DEV,
        "alice",
        doc(allow(["iam:AttachRolePolicy", "iam:ListAttachedRolePolicies"], f"arn:aws:iam::{DEV}:role/mine")),
    )
    world.call(alice, "iam", "AttachRolePolicy", RoleName="mine", PolicyArn=READ_ONLY)
    assert len(world.call(alice, "iam", "ListAttachedRolePolicies", RoleName="mine")["AttachedPolicies"]) == 1
    for operation in ("AttachRolePolicy", "DetachRolePolicy"):
        with pytest.raises(AccessDenied):
            world.call(alice, "iam", operation, RoleName="theirs", PolicyArn=READ_ONLY)
    with pytest.raises(AccessDenied):
        world.call(alice, "iam", "ListAttachedRolePolicies", RoleName="theirs")
