"""IAM roles: create, read, update, delete, list, trust policy, tags, permissions boundary."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.iam.common import (
    account_of,
    get_role,
    listing_resource,
    paginate,
    role_out,
    role_resource,
    tags_page,
    validate_tags,
    with_path_prefix,
    without_tags,
)
from rolegate.services.iam.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded
from rolegate.services.iam.managed import existing_policy_arn
from rolegate.services.iam.trust import checked_trust_policy
from rolegate.services.registry import operation
from rolegate.store.interface import Conflict
from rolegate.store.records import Attachment, InlinePolicy, Role

ROLES_QUOTA = 1000


@operation("iam", "CreateRole", resource=role_resource)
def create_role(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    account = account_of(call)
    name = params["RoleName"]
    if call.tx.get(Role, account, name) is not None:
        raise EntityAlreadyExists(f"Role with name {name} already exists.")
    if call.tx.count(Role, account_id=account) >= ROLES_QUOTA:
        raise LimitExceeded(f"Cannot exceed quota for RolesPerAccount: {ROLES_QUOTA}")
    boundary = params.get("PermissionsBoundary", "")
    if boundary:
        existing_policy_arn(call, boundary)
    role = Role(
        account_id=account,
        name=name,
        role_id=call.ids.unique_id("AROA"),
        path=params.get("Path", "/"),
        created=call.now,
        trust_policy=checked_trust_policy(call, params["AssumeRolePolicyDocument"]),
        description=params.get("Description", ""),
        max_session_duration=int(params.get("MaxSessionDuration", 3600)),
        permissions_boundary=boundary,
        tags=validate_tags(params.get("Tags", [])),
    )
    try:
        call.tx.insert(role)
    except Conflict as error:
        raise EntityAlreadyExists(f"Role with name {name} already exists.") from error
    return {"Role": role_out(role)}


@operation("iam", "GetRole", resource=role_resource)
def get_role_op(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"Role": role_out(get_role(call, params["RoleName"]))}


@operation("iam", "ListRoles", resource=listing_resource("role"))
def list_roles(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    roles = with_path_prefix(call.tx.find(Role, account_id=account_of(call)), params, lambda r: r.path)
    return paginate(roles, params, "Roles", role_out)


@operation("iam", "DeleteRole", resource=role_resource)
def delete_role(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    role = get_role(call, params["RoleName"])
    account = account_of(call)
    if call.tx.count(InlinePolicy, account_id=account, owner_kind="role", owner_name=role.name):
        raise DeleteConflict("Cannot delete entity, must delete policies first.")
    if call.tx.count(Attachment, account_id=account, owner_kind="role", owner_name=role.name):
        raise DeleteConflict("Cannot delete entity, must detach all policies first.")
    call.tx.delete(Role, account, role.name)
    return {}


@operation("iam", "UpdateRole", resource=role_resource)
def update_role(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    role = get_role(call, params["RoleName"])
    changes: dict[str, Any] = {}
    if "Description" in params:
        changes["description"] = params["Description"]
    if "MaxSessionDuration" in params:
        changes["max_session_duration"] = int(params["MaxSessionDuration"])
    call.tx.put(replace(role, **changes))
    return {}


@operation("iam", "UpdateRoleDescription", resource=role_resource)
def update_role_description(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    role = replace(get_role(call, params["RoleName"]), description=params["Description"])
    call.tx.put(role)
    return {"Role": role_out(role)}


@operation("iam", "UpdateAssumeRolePolicy", resource=role_resource)
def update_assume_role_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    role = get_role(call, params["RoleName"])
    call.tx.put(replace(role, trust_policy=checked_trust_policy(call, params["PolicyDocument"])))
    return {}


@operation("iam", "TagRole", resource=role_resource)
def tag_role(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    role = get_role(call, params["RoleName"])
    call.tx.put(replace(role, tags=validate_tags(params["Tags"], role.tags)))
    return {}


@operation("iam", "UntagRole", resource=role_resource)
def untag_role(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    role = get_role(call, params["RoleName"])
    call.tx.put(replace(role, tags=without_tags(role.tags, params["TagKeys"])))
    return {}


@operation("iam", "ListRoleTags", resource=role_resource)
def list_role_tags(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    role = get_role(call, params["RoleName"])
    return tags_page(role.tags, params)


@operation("iam", "PutRolePermissionsBoundary", resource=role_resource)
def put_role_permissions_boundary(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    role = get_role(call, params["RoleName"])
    existing_policy_arn(call, params["PermissionsBoundary"])
    call.tx.put(replace(role, permissions_boundary=params["PermissionsBoundary"]))
    return {}


@operation("iam", "DeleteRolePermissionsBoundary", resource=role_resource)
def delete_role_permissions_boundary(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    role = get_role(call, params["RoleName"])
    call.tx.put(replace(role, permissions_boundary=""))
    return {}
