"""IAM groups: create/get/list/update/delete, membership with its per-user quota, DeleteConflict, renames that
carry members and policies, and authorization on the group's ARN."""

from __future__ import annotations

import pytest
from services_support import DEV, NOW, World, allow, doc

from rolegate.errors import AccessDenied
from rolegate.services.context import Caller
from rolegate.services.iam import groups
from rolegate.services.iam.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def _users(world: World, root: Caller, *names: str) -> None:
    for name in names:
        world.call(root, "iam", "CreateUser", UserName=name)


def test_create_get_list_delete(world: World) -> None:
    root = world.account(DEV)
    group = world.call(root, "iam", "CreateGroup", GroupName="Admins", Path="/ops/")["Group"]
    assert group == {
        "Path": "/ops/",
        "GroupName": "Admins",
        "GroupId": group["GroupId"],
        "Arn": f"arn:aws:iam::{DEV}:group/ops/Admins",
        "CreateDate": NOW,
    }
    assert group["GroupId"].startswith("AGPA") and len(group["GroupId"]) == 21
    assert world.call(root, "iam", "GetGroup", GroupName="admins") == {
        "Group": group,
        "Users": [],
        "IsTruncated": False,
    }
    world.call(root, "iam", "CreateGroup", GroupName="devs")
    assert [g["GroupName"] for g in world.call(root, "iam", "ListGroups")["Groups"]] == ["Admins", "devs"]
    assert [g["GroupName"] for g in world.call(root, "iam", "ListGroups", PathPrefix="/ops/")["Groups"]] == ["Admins"]
    page = world.call(root, "iam", "ListGroups", MaxItems=1)
    assert page["IsTruncated"] is True
    assert world.call(root, "iam", "ListGroups", Marker=page["Marker"])["Groups"][0]["GroupName"] == "devs"
    world.call(root, "iam", "DeleteGroup", GroupName="ADMINS")
    with pytest.raises(NoSuchEntity) as missing:
        world.call(root, "iam", "GetGroup", GroupName="Admins")
    assert missing.value.message == "The group with name Admins cannot be found."


def test_duplicate_and_quota(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    root = world.account(DEV)
    world.call(root, "iam", "CreateGroup", GroupName="devs")
    with pytest.raises(EntityAlreadyExists) as exists:
        world.call(root, "iam", "CreateGroup", GroupName="DEVS")
    assert exists.value.message == "Group with name DEVS already exists."
    monkeypatch.setattr(groups, "GROUPS_QUOTA", 2)
    world.call(root, "iam", "CreateGroup", GroupName="ops")
    with pytest.raises(LimitExceeded) as limit:
        world.call(root, "iam", "CreateGroup", GroupName="third")
    assert limit.value.message == "Cannot exceed quota for GroupsPerAccount: 2"
    assert groups.GROUPS_PER_USER_QUOTA == 10


def test_membership(world: World) -> None:
    root = world.account(DEV)
    _users(world, root, "carol", "alice", "bob")
    world.call(root, "iam", "CreateGroup", GroupName="devs")
    for name in ("carol", "ALICE", "bob"):
        world.call(root, "iam", "AddUserToGroup", GroupName="devs", UserName=name)
    world.call(root, "iam", "AddUserToGroup", GroupName="devs", UserName="bob")
    first = world.call(root, "iam", "GetGroup", GroupName="devs", MaxItems=2)
    assert [u["UserName"] for u in first["Users"]] == ["alice", "bob"] and first["IsTruncated"] is True
    rest = world.call(root, "iam", "GetGroup", GroupName="devs", Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["carol"] and rest["Group"]["GroupName"] == "devs"
    assert [g["GroupName"] for g in world.call(root, "iam", "ListGroupsForUser", UserName="bob")["Groups"]] == ["devs"]
    world.call(root, "iam", "RemoveUserFromGroup", GroupName="devs", UserName="bob")
    world.call(root, "iam", "RemoveUserFromGroup", GroupName="devs", UserName="bob")
    assert world.call(root, "iam", "ListGroupsForUser", UserName="bob") == {"Groups": [], "IsTruncated": False}


def test_membership_needs_both_entities(world: World) -> None:
    root = world.account(DEV)
    _users(world, root, "alice")
    world.call(root, "iam", "CreateGroup", GroupName="devs")
    with pytest.raises(NoSuchEntity) as no_user:
        world.call(root, "iam", "AddUserToGroup", GroupName="devs", UserName="ghost")
    assert no_user.value.message == "The user with name ghost cannot be found."
    with pytest.raises(NoSuchEntity) as no_group:
        world.call(root, "iam", "AddUserToGroup", GroupName="ghosts", UserName="alice")
    assert no_group.value.message == "The group with name ghosts cannot be found."
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "RemoveUserFromGroup", GroupName="devs", UserName="ghost")
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "ListGroupsForUser", UserName="ghost")


def test_groups_per_user_quota(world: World) -> None:
    root = world.account(DEV)
    _users(world, root, "alice")
    for index in range(11):
        world.call(root, "iam", "CreateGroup", GroupName=f"g{index:02}")
    for index in range(10):
        world.call(root, "iam", "AddUserToGroup", GroupName=f"g{index:02}", UserName="alice")
    world.call(root, "iam", "AddUserToGroup", GroupName="g00", UserName="alice")
    with pytest.raises(LimitExceeded) as limit:
        world.call(root, "iam", "AddUserToGroup", GroupName="g10", UserName="alice")
    assert limit.value.message == "Cannot exceed quota for GroupsPerUser: 10" and limit.value.http_status == 409


def test_delete_conflicts(world: World) -> None:
    root = world.account(DEV)
    _users(world, root, "alice")
    world.call(root, "iam", "CreateGroup", GroupName="devs")
    world.call(root, "iam", "AddUserToGroup", GroupName="devs", UserName="alice")
    world.call(root, "iam", "PutGroupPolicy", GroupName="devs", PolicyName="p", PolicyDocument=doc(allow("s3:*")))
    world.call(root, "iam", "AttachGroupPolicy", GroupName="devs", PolicyArn=READ_ONLY)
    undo = [
        ("Cannot delete entity, must remove users from group first.", "RemoveUserFromGroup", {"UserName": "alice"}),
        ("Cannot delete entity, must delete policies first.", "DeleteGroupPolicy", {"PolicyName": "p"}),
        ("Cannot delete entity, must detach all policies first.", "DetachGroupPolicy", {"PolicyArn": READ_ONLY}),
    ]
    for message, operation, params in undo:
        with pytest.raises(DeleteConflict) as conflict:
            world.call(root, "iam", "DeleteGroup", GroupName="devs")
        assert conflict.value.message == message and conflict.value.http_status == 409
        world.call(root, "iam", operation, GroupName="devs", **params)
    world.call(root, "iam", "DeleteGroup", GroupName="devs")
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "DeleteGroup", GroupName="devs")


def test_rename_carries_members_and_policies(world: World) -> None:
    root = world.account(DEV)
    alice = world.user(DEV, "alice")
    world.call(root, "iam", "CreateGroup", GroupName="devs")
    world.call(root, "iam", "AddUserToGroup", GroupName="devs", UserName="alice")
    world.call(
        root, "iam", "PutGroupPolicy", GroupName="devs", PolicyName="p", PolicyDocument=doc(allow("iam:ListUsers"))
    )
    world.call(root, "iam", "AttachGroupPolicy", GroupName="devs", PolicyArn=READ_ONLY)
    world.call(root, "iam", "UpdateGroup", GroupName="devs", NewGroupName="builders", NewPath="/eng/")
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "GetGroup", GroupName="devs")
    got = world.call(root, "iam", "GetGroup", GroupName="builders")
    assert got["Group"]["Arn"] == f"arn:aws:iam::{DEV}:group/eng/builders"
    assert [u["UserName"] for u in got["Users"]] == ["alice"]
    assert world.call(root, "iam", "ListGroupPolicies", GroupName="builders")["PolicyNames"] == ["p"]
    attached = world.call(root, "iam", "ListAttachedGroupPolicies", GroupName="builders")["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [READ_ONLY]
    assert world.call(alice, "iam", "ListUsers")["Users"][0]["UserName"] == "alice"


def test_rename_conflict_and_path_only(world: World) -> None:
    root = world.account(DEV)
    world.call(root, "iam", "CreateGroup", GroupName="devs")
    world.call(root, "iam", "CreateGroup", GroupName="ops")
    with pytest.raises(EntityAlreadyExists) as taken:
        world.call(root, "iam", "UpdateGroup", GroupName="devs", NewGroupName="OPS")
    assert taken.value.message == "Group with name OPS already exists."
    world.call(root, "iam", "UpdateGroup", GroupName="devs", NewPath="/x/")
    assert world.call(root, "iam", "GetGroup", GroupName="devs")["Group"]["Path"] == "/x/"
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "UpdateGroup", GroupName="ghost", NewPath="/x/")


def test_authorization_on_the_group_arn(world: World) -> None:
    root = world.account(DEV)
    _users(world, root, "bob")
    world.call(root, "iam", "CreateGroup", GroupName="admins")
    world.call(root, "iam", "CreateGroup", GroupName="devs", Path="/team/")
    lead = world.user(DEV, "lead", doc(allow("iam:AddUserToGroup", f"arn:aws:iam::{DEV}:group/team/*")))
    world.call(lead, "iam", "AddUserToGroup", GroupName="devs", UserName="bob")
    with pytest.raises(AccessDenied) as denied:
        world.call(lead, "iam", "AddUserToGroup", GroupName="admins", UserName="bob")
    assert denied.value.message == (
        f"User: arn:aws:iam::{DEV}:user/lead is not authorized to perform: iam:AddUserToGroup on resource: "
        f"arn:aws:iam::{DEV}:group/admins because no identity-based policy allows the iam:AddUserToGroup action"
    )
    with pytest.raises(AccessDenied):
        world.call(lead, "iam", "CreateGroup", GroupName="x")
