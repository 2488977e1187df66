"""IAM users: create, read, rename, delete, list, tags and permissions boundary.

A user's name is the key of everything it owns (group memberships, inline policies, attachments, access
keys, MFA devices, GetSessionToken sessions), so a rename moves all of them in the same transaction.
Operations that default to "the caller" (GetUser, and the access-key and MFA calls through
`caller_user_name`) accept long-term user credentials and their sessions; the root user is "" and
other temporary principals must name the user, as AWS requires.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolegate.errors import ValidationError
from rolegate.services.context import CallContext
from rolegate.services.iam.common import (
    account_of,
    get_user,
    listing_resource,
    paginate,
    tags_page,
    user_out,
    user_resource,
    validate_tags,
    with_path_prefix,
    without_tags,
)
from rolegate.services.iam.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded
from rolegate.services.iam.managed import existing_policy_arn
from rolegate.services.registry import operation
from rolegate.store.interface import Conflict
from rolegate.store.records import (
    AccessKey,
    Account,
    Attachment,
    GroupMember,
    InlinePolicy,
    MfaDevice,
    Session,
    User,
)

USERS_QUOTA = 5000
NON_USER = "Must specify userName when calling with non-User credentials"


def caller_user_name(call: CallContext, params: dict[str, Any]) -> str:
    """`UserName` when given (as stored), else the calling user's name; "" stands for the root user."""
    if params.get("UserName"):
        return get_user(call, str(params["UserName"])).name
    caller = call.caller
    if caller.is_root:
        return ""
    if caller.kind in ("user", "user-session") and caller.user_name:
        return caller.user_name
    raise ValidationError(NON_USER)


def self_resource(call: CallContext, params: dict[str, Any]) -> str:
    """The named user's ARN, else the caller's own: the root ARN for root, the user ARN for a user."""
    if not params.get("UserName"):
        if call.caller.is_root:
            return f"arn:aws:iam::{account_of(call)}:root"
        if call.caller.kind not in ("user", "user-session"):
            raise ValidationError(NON_USER)
    return user_resource(call, params)


@operation("iam", "CreateUser", resource=user_resource)
def create_user(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    account, name = account_of(call), params["UserName"]
    if call.tx.get(User, account, name) is not None:
        raise EntityAlreadyExists(f"User with name {name} already exists.")
    if call.tx.count(User, account_id=account) >= USERS_QUOTA:
        raise LimitExceeded(f"Cannot exceed quota for UsersPerAccount: {USERS_QUOTA}")
    boundary = params.get("PermissionsBoundary", "")
    if boundary:
        existing_policy_arn(call, boundary)
    user = User(
        account_id=account,
        name=name,
        user_id=call.ids.unique_id("AIDA"),
        path=params.get("Path", "/"),
        created=call.now,
        permissions_boundary=boundary,
        tags=validate_tags(params.get("Tags", [])),
    )
    try:
        call.tx.insert(user)
    except Conflict as error:
        raise EntityAlreadyExists(f"User with name {name} already exists.") from error
    return {"User": user_out(user)}


@operation("iam", "GetUser", resource=self_resource)
def get_user_op(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    name = caller_user_name(call, params)
    if not name:
        return {"User": root_user_out(call)}
    return {"User": user_out(get_user(call, name))}


def root_user_out(call: CallContext) -> dict[str, Any]:
    """The root user as GetUser shows it: no name or path, the account id as its unique id."""
    account = call.tx.get(Account, account_of(call))
    created = account.joined_at if account is not None and account.joined_at is not None else call.now
    return {"UserId": account_of(call), "Arn": f"arn:aws:iam::{account_of(call)}:root", "CreateDate": created}


@operation("iam", "ListUsers", resource=listing_resource("user"))
def list_users(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    users = with_path_prefix(call.tx.find(User, account_id=account_of(call)), params, lambda u: u.path)
    return paginate(users, params, "Users", user_out)


@operation("iam", "UpdateUser", resource=user_resource)
def update_user(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    user = get_user(call, params["UserName"])
    new_name = params.get("NewUserName", user.name)
    taken = call.tx.get(User, user.account_id, new_name)
    if taken is not None and taken.user_id != user.user_id:
        raise EntityAlreadyExists(f"User with name {new_name} already exists.")
    updated = replace(user, name=new_name, path=params.get("NewPath", user.path))
    if updated.name != user.name:
        call.tx.delete(User, user.account_id, user.name)
        _move_owned(call, user.name, updated.name)
    call.tx.put(updated)
    return {}


def _move_owned(call: CallContext, old: str, new: str) -> None:
    """Re-key everything that names the user, so nothing is left pointing at the old name."""
    account = account_of(call)
    for member in call.tx.find(GroupMember, account_id=account, user_name=old):
        call.tx.delete(GroupMember, account, member.group_name, old)
        call.tx.put(replace(member, user_name=new))
    move_owner_policies(call, "user", old, new)
    for key in call.tx.find(AccessKey, account_id=account, user_name=old):
        call.tx.put(replace(key, user_name=new))
    for device in call.tx.find(MfaDevice, account_id=account, user_name=old):
        call.tx.put(replace(device, user_name=new))
    for session in call.tx.find(Session, account_id=account):
        if session.kind in ("user", "federated") and session.user_name == old:
            call.tx.put(replace(session, user_name=new))


def move_owner_policies(call: CallContext, kind: str, old: str, new: str) -> None:
    """Inline policies and attachments of a renamed user or group follow it to the new name."""
    account = account_of(call)
    for policy in call.tx.find(InlinePolicy, account_id=account, owner_kind=kind, owner_name=old):
        call.tx.delete(InlinePolicy, account, kind, old, policy.name)
        call.tx.put(replace(policy, owner_name=new))
    for attachment in call.tx.find(Attachment, account_id=account, owner_kind=kind, owner_name=old):
        call.tx.delete(Attachment, account, kind, old, attachment.policy_arn)
        call.tx.put(replace(attachment, owner_name=new))


@operation("iam", "DeleteUser", resource=user_resource)
def delete_user(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    user = get_user(call, params["UserName"])
    conflict = _delete_conflict(call, user)
    if conflict:
        raise DeleteConflict(f"Cannot delete entity, must {conflict} first.")
    call.tx.delete(User, user.account_id, user.name)
    return {}


def _delete_conflict(call: CallContext, user: User) -> str:
    """What still hangs off the user, in the order IAM's documentation lists what to remove."""
    account, name = user.account_id, user.name
    if call.tx.count(AccessKey, account_id=account, user_name=name):
        return "delete access keys"
    if any(d.enabled is not None for d in call.tx.find(MfaDevice, account_id=account, user_name=name)):
        return "delete MFA device"
    if call.tx.count(InlinePolicy, account_id=account, owner_kind="user", owner_name=name):
        return "delete policies"
    if call.tx.count(Attachment, account_id=account, owner_kind="user", owner_name=name):
        return "detach all policies"
    if call.tx.count(GroupMember, account_id=account, user_name=name):
        return "remove users from group"
    return ""


@operation("iam", "TagUser", resource=user_resource)
def tag_user(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    user = get_user(call, params["UserName"])
    call.tx.put(replace(user, tags=validate_tags(params["Tags"], user.tags)))
    return {}


@operation("iam", "UntagUser", resource=user_resource)
def untag_user(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    user = get_user(call, params["UserName"])
    call.tx.put(replace(user, tags=without_tags(user.tags, params["TagKeys"])))
    return {}


@operation("iam", "ListUserTags", resource=user_resource)
def list_user_tags(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    user = get_user(call, params["UserName"])
    return tags_page(user.tags, params)


@operation("iam", "PutUserPermissionsBoundary", resource=user_resource)
def put_user_permissions_boundary(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    user = get_user(call, params["UserName"])
    boundary = existing_policy_arn(call, params["PermissionsBoundary"])
    call.tx.put(replace(user, permissions_boundary=boundary))
    return {}


@operation("iam", "DeleteUserPermissionsBoundary", resource=user_resource)
def delete_user_permissions_boundary(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    user = get_user(call, params["UserName"])
    call.tx.put(replace(user, permissions_boundary=""))
    return {}
