"""IAM groups: create, read (with members), rename, delete, list, and user membership."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.iam.common import (
    account_of,
    get_group,
    get_user,
    group_out,
    group_resource,
    listing_resource,
    paginate,
    user_out,
    user_resource,
    with_path_prefix,
)
from rolegate.services.iam.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded
from rolegate.services.iam.users import move_owner_policies
from rolegate.services.registry import operation
from rolegate.store.interface import Conflict
from rolegate.store.records import Attachment, Group, GroupMember, InlinePolicy, User

GROUPS_QUOTA = 300
GROUPS_PER_USER_QUOTA = 10


@operation("iam", "CreateGroup", resource=group_resource)
def create_group(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    account, name = account_of(call), params["GroupName"]
    if call.tx.get(Group, account, name) is not None:
        raise EntityAlreadyExists(f"Group with name {name} already exists.")
    if call.tx.count(Group, account_id=account) >= GROUPS_QUOTA:
        raise LimitExceeded(f"Cannot exceed quota for GroupsPerAccount: {GROUPS_QUOTA}")
    group = Group(account, name, call.ids.unique_id("AGPA"), params.get("Path", "/"), call.now)
    try:
        call.tx.insert(group)
    except Conflict as error:
        raise EntityAlreadyExists(f"Group with name {name} already exists.") from error
    return {"Group": group_out(group)}


def _members(call: CallContext, group: Group) -> list[User]:
    memberships = call.tx.find(GroupMember, account_id=group.account_id, group_name=group.name)
    users = (call.tx.get(User, group.account_id, m.user_name) for m in memberships)
    return sorted((u for u in users if u is not None), key=lambda u: u.name.lower())


@operation("iam", "GetGroup", resource=group_resource)
def get_group_op(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    group = get_group(call, params["GroupName"])
    return {"Group": group_out(group), **paginate(_members(call, group), params, "Users", user_out)}


@operation("iam", "ListGroups", resource=listing_resource("group"))
def list_groups(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    groups = with_path_prefix(call.tx.find(Group, account_id=account_of(call)), params, lambda g: g.path)
    return paginate(groups, params, "Groups", group_out)


def groups_of(call: CallContext, user: User) -> list[Group]:
    memberships = call.tx.find(GroupMember, account_id=user.account_id, user_name=user.name)
    groups = (call.tx.get(Group, user.account_id, m.group_name) for m in memberships)
    return sorted((g for g in groups if g is not None), key=lambda g: g.name.lower())


@operation("iam", "ListGroupsForUser", resource=user_resource)
def list_groups_for_user(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    user = get_user(call, params["UserName"])
    return paginate(groups_of(call, user), params, "Groups", group_out)


@operation("iam", "UpdateGroup", resource=group_resource)
def update_group(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    group = get_group(call, params["GroupName"])
    new_name = params.get("NewGroupName", group.name)
    taken = call.tx.get(Group, group.account_id, new_name)
    if taken is not None and taken.group_id != group.group_id:
        raise EntityAlreadyExists(f"Group with name {new_name} already exists.")
    updated = replace(group, name=new_name, path=params.get("NewPath", group.path))
    if updated.name != group.name:
        call.tx.delete(Group, group.account_id, group.name)
        for member in call.tx.find(GroupMember, account_id=group.account_id, group_name=group.name):
            call.tx.delete(GroupMember, group.account_id, group.name, member.user_name)
            call.tx.put(replace(member, group_name=new_name))
        move_owner_policies(call, "group", group.name, new_name)
    call.tx.put(updated)
    return {}


@operation("iam", "DeleteGroup", resource=group_resource)
def delete_group(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    group = get_group(call, params["GroupName"])
    account = group.account_id
    if call.tx.count(GroupMember, account_id=account, group_name=group.name):
        raise DeleteConflict("Cannot delete entity, must remove users from group first.")
    if call.tx.count(InlinePolicy, account_id=account, owner_kind="group", owner_name=group.name):
        raise DeleteConflict("Cannot delete entity, must delete policies first.")
    if call.tx.count(Attachment, account_id=account, owner_kind="group", owner_name=group.name):
        raise DeleteConflict("Cannot delete entity, must detach all policies first.")
    call.tx.delete(Group, account, group.name)
    return {}


@operation("iam", "AddUserToGroup", resource=group_resource)
def add_user_to_group(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    group = get_group(call, params["GroupName"])
    user = get_user(call, params["UserName"])
    account = group.account_id
    if call.tx.get(GroupMember, account, group.name, user.name) is not None:
        return {}
    if call.tx.count(GroupMember, account_id=account, user_name=user.name) >= GROUPS_PER_USER_QUOTA:
        raise LimitExceeded(f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER_QUOTA}")
    call.tx.insert(GroupMember(account, group.name, user.name))
    return {}


@operation("iam", "RemoveUserFromGroup", resource=group_resource)
def remove_user_from_group(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Removing a user that is not a member succeeds without change, as IAM does."""
    group = get_group(call, params["GroupName"])
    user = get_user(call, params["UserName"])
    call.tx.delete(GroupMember, group.account_id, group.name, user.name)
    return {}
