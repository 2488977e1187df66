"""Shared IAM service helpers: lookups with AWS's NoSuchEntity wording, policy-document checks, tags,
pagination with Marker/MaxItems, and the response shapes of users, roles, groups and policies."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from rolegate.errors import ValidationError
from rolegate.policy import PolicyKind, validate_policy
from rolegate.policy.parse import load_json
from rolegate.policy.validate import SIZE_LIMITS
from rolegate.services.context import CallContext
from rolegate.services.iam.errors import InvalidInput, LimitExceeded, MalformedPolicyDocument, NoSuchEntity
from rolegate.services.identity import role_arn, user_arn
from rolegate.store.records import Group, Role, Tags, User

T = TypeVar("T")
MAX_TAGS = 50
DEFAULT_MAX_ITEMS = 100


def account_of(call: CallContext) -> str:
    return call.caller.account_id


def get_role(call: CallContext, name: str) -> Role:
    role = call.tx.get(Role, account_of(call), name)
    if role is None:
        raise NoSuchEntity(f"The role with name {name} cannot be found.")
    return role


def get_user(call: CallContext, name: str) -> User:
    user = call.tx.get(User, account_of(call), name)
    if user is None:
        raise NoSuchEntity(f"The user with name {name} cannot be found.")
    return user


def get_group(call: CallContext, name: str) -> Group:
    group = call.tx.get(Group, account_of(call), name)
    if group is None:
        raise NoSuchEntity(f"The group with name {name} cannot be found.")
    return group


def role_resource(call: CallContext, params: dict[str, Any]) -> str:
    """The role's ARN (with its path) for authorization; a path-less ARN when the role does not exist yet."""
    name = str(params.get("RoleName", ""))
    role = call.tx.get(Role, account_of(call), name)
    if role is not None:
        return role_arn(role)
    path = str(params.get("Path", "/"))
    return f"arn:aws:iam::{account_of(call)}:role{path}{name}"


def user_resource(call: CallContext, params: dict[str, Any]) -> str:
    name = str(params.get("UserName") or call.caller.user_name)
    user = call.tx.get(User, account_of(call), name)
    if user is not None:
        return user_arn(user)
    path = str(params.get("Path", "/"))
    return f"arn:aws:iam::{account_of(call)}:user{path}{name}"


def group_resource(call: CallContext, params: dict[str, Any]) -> str:
    name = str(params.get("GroupName", ""))
    group = call.tx.get(Group, account_of(call), name)
    path = group.path if group is not None else str(params.get("Path", "/"))
    return f"arn:aws:iam::{account_of(call)}:group{path}{name}"


def listing_resource(kind: str) -> Callable[[CallContext, dict[str, Any]], str]:
    """ListRoles/ListUsers/ListGroups are authorized on the path they list, as IAM reports them:
    `arn:aws:iam::<account>:role/` (plus PathPrefix), so `role/*` in a policy covers listing roles."""

    def resource(call: CallContext, params: dict[str, Any]) -> str:
        return f"arn:aws:iam::{account_of(call)}:{kind}{params.get('PathPrefix') or '/'}"

    return resource


def account_resource(call: CallContext, _params: dict[str, Any]) -> str:
    """Account-wide IAM actions (ListPolicies, GetAccountSummary, ...) are authorized on `*`."""
    return "*"


def checked_document(document: str, kind: PolicyKind, size_limit: int | None = None) -> str:
    """Validate a policy document for its kind; MalformedPolicyDocument with the engine's first message.

    Size is checked separately by callers where AWS reports LimitExceeded instead."""
    errors = [e for e in validate_policy(document, kind) if e.message != SIZE_LIMITS[kind][1]]
    if errors:
        raise MalformedPolicyDocument(errors[0].message)
    return document


def policy_size(document: str) -> int:
    """Characters without whitespace outside strings, as IAM counts them."""
    data, error = load_json(document)
    if error is not None:
        return len(document)
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False))


def encode_document(document: str) -> str:
    """Policy documents go into results as plain JSON text; percent-encoding them, as IAM does on the wire,
    is the query codec's job (it knows the `policyDocumentType` shape), so this is the identity."""
    return document


def validate_tags(tags: Sequence[dict[str, str]], existing: Tags = ()) -> Tags:
    merged = dict(existing)
    lowered = {k.lower(): k for k in merged}
    for tag in tags:
        key, value = tag["Key"], tag.get("Value", "")
        if key.lower().startswith("aws:"):
            raise InvalidInput("User is not authorized to perform: tag keys beginning with 'aws:' are reserved.")
        previous = lowered.get(key.lower())
        if previous is not None and previous != key:
            merged.pop(previous)
        merged[key] = value
        lowered[key.lower()] = key
    if len(merged) > MAX_TAGS:
        raise LimitExceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    return tuple(merged.items())


def tags_out(tags: Tags) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def without_tags(tags: Tags, keys: Sequence[str]) -> Tags:
    """Tags minus the given keys (IAM tag keys compare case-insensitively)."""
    doomed = {k.lower() for k in keys}
    return tuple((k, v) for k, v in tags if k.lower() not in doomed)


def tags_page(tags: Tags, params: dict[str, Any]) -> dict[str, Any]:
    """A List*Tags result: the entity's tags, paginated with Marker/MaxItems."""
    return paginate(list(tags), params, "Tags", lambda kv: {"Key": kv[0], "Value": kv[1]})


def paginate(items: Sequence[T], params: dict[str, Any], key: str, render: Callable[[T], Any]) -> dict[str, Any]:
    """Marker/MaxItems pagination; the marker is an opaque offset."""
    max_items = int(params.get("MaxItems") or DEFAULT_MAX_ITEMS)
    start = 0
    marker = params.get("Marker")
    if marker:
        try:
            start = int(base64.urlsafe_b64decode(str(marker).encode()).decode())
        except (ValueError, UnicodeDecodeError) as error:
            raise ValidationError("Invalid Marker.") from error
    page = items[start : start + max_items]
    result: dict[str, Any] = {key: [render(item) for item in page], "IsTruncated": start + max_items < len(items)}
    if result["IsTruncated"]:
        result["Marker"] = base64.urlsafe_b64encode(str(start + max_items).encode()).decode()
    return result


def with_path_prefix(items: Sequence[T], params: dict[str, Any], path_of: Callable[[T], str]) -> list[T]:
    prefix = str(params.get("PathPrefix") or "/")
    return [item for item in items if path_of(item).startswith(prefix)]


def role_out(role: Role) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": role_arn(role),
        "CreateDate": role.created,
        "AssumeRolePolicyDocument": encode_document(role.trust_policy),
        "MaxSessionDuration": role.max_session_duration,
        "RoleLastUsed": {},
    }
    if role.description:
        out["Description"] = role.description
    if role.permissions_boundary:
        out["PermissionsBoundary"] = boundary_out(role.permissions_boundary)
    if role.tags:
        out["Tags"] = tags_out(role.tags)
    if role.last_used is not None:
        out["RoleLastUsed"] = {"LastUsedDate": role.last_used, "Region": role.last_used_region}
    return out


def user_out(user: User) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.user_id,
        "Arn": user_arn(user),
        "CreateDate": user.created,
    }
    if user.permissions_boundary:
        out["PermissionsBoundary"] = boundary_out(user.permissions_boundary)
    if user.tags:
        out["Tags"] = tags_out(user.tags)
    return out


def group_out(group: Group) -> dict[str, Any]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.group_id,
        "Arn": f"arn:aws:iam::{group.account_id}:group{group.path}{group.name}",
        "CreateDate": group.created,
    }


def boundary_out(arn: str) -> dict[str, str]:
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}
