"""Managed-policy attachments of users, groups and roles, and the entities a policy is used by.

Attach and detach authorize in the handler so the request can carry `iam:PolicyARN`, the condition key IAM
offers for limiting which policies an administrator may attach; the resource is the owner's ARN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.iam.common import (
    account_of,
    get_group,
    get_role,
    get_user,
    group_resource,
    paginate,
    role_resource,
    user_resource,
    with_path_prefix,
)
from rolegate.services.iam.errors import LimitExceeded, NoSuchEntity, PolicyNotAttachable, UnmodifiableEntity
from rolegate.services.iam.managed import found_policy, policy_operation, policy_view, valid_policy_arn
from rolegate.services.registry import Handler, ResourceFn, operation
from rolegate.store.records import Attachment, Group, Role, User

ATTACHED_POLICIES_QUOTA = 10
Entity = User | Group | Role


@dataclass(frozen=True, slots=True)
class OwnerKind:
    """What differs between users, groups and roles for attachments (and inline policies)."""

    kind: str
    title: str
    name_param: str
    lookup: Callable[[CallContext, str], Entity]
    resource: ResourceFn


OWNERS = (
    OwnerKind("user", "User", "UserName", get_user, user_resource),
    OwnerKind("group", "Group", "GroupName", get_group, group_resource),
    OwnerKind("role", "Role", "RoleName", get_role, role_resource),
)


def modifiable(entity: Entity) -> Entity:
    """Service-linked roles belong to their service; their policies cannot be changed."""
    if isinstance(entity, Role) and entity.path.startswith("/aws-service-role/"):
        raise UnmodifiableEntity(
            f"Cannot perform the operation on the protected role '{entity.name}' - this role is only modifiable by AWS"
        )
    return entity


def _authorize(call: CallContext, owner: OwnerKind, params: dict[str, Any]) -> None:
    keys = {"iam:PolicyARN": params["PolicyArn"]}
    call.authorizer.check(call, f"iam:{call.operation}", owner.resource(call, params), keys=keys)


def _attach(owner: OwnerKind) -> Handler:
    def attach(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        _authorize(call, owner, params)
        entity = modifiable(owner.lookup(call, params[owner.name_param]))
        arn = valid_policy_arn(params["PolicyArn"])
        view = policy_view(call, arn)
        if view is None:
            raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
        if not view.attachable:
            raise PolicyNotAttachable("Cannot attach a Service Role Policy to a Customer Role.")
        account = account_of(call)
        if call.tx.get(Attachment, account, owner.kind, entity.name, arn) is not None:
            return {}
        owned = call.tx.count(Attachment, account_id=account, owner_kind=owner.kind, owner_name=entity.name)
        if owned >= ATTACHED_POLICIES_QUOTA:
            raise LimitExceeded(f"Cannot exceed quota for PoliciesPer{owner.title}: {ATTACHED_POLICIES_QUOTA}")
        call.tx.insert(Attachment(account, owner.kind, entity.name, arn))
        return {}

    return attach


def _detach(owner: OwnerKind) -> Handler:
    def detach(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        _authorize(call, owner, params)
        entity = modifiable(owner.lookup(call, params[owner.name_param]))
        arn = valid_policy_arn(params["PolicyArn"])
        if not call.tx.delete(Attachment, account_of(call), owner.kind, entity.name, arn):
            raise NoSuchEntity(f"Policy {arn} was not found.")
        return {}

    return detach


def attached_policy_out(call: CallContext, arn: str) -> dict[str, str]:
    view = policy_view(call, arn)
    return {"PolicyName": view.name if view else arn.rsplit("/", 1)[-1], "PolicyArn": arn}


def _policy_path(call: CallContext, arn: str) -> str:
    view = policy_view(call, arn)
    return view.path if view else "/"


def _list_attached(owner: OwnerKind) -> Handler:
    def list_attached(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = owner.lookup(call, params[owner.name_param])
        found = call.tx.find(Attachment, account_id=account_of(call), owner_kind=owner.kind, owner_name=entity.name)
        arns = with_path_prefix([a.policy_arn for a in found], params, lambda arn: _policy_path(call, arn))
        return paginate(arns, params, "AttachedPolicies", lambda arn: attached_policy_out(call, arn))

    return list_attached


for _owner in OWNERS:
    operation("iam", f"Attach{_owner.title}Policy", auth="handler")(_attach(_owner))
    operation("iam", f"Detach{_owner.title}Policy", auth="handler")(_detach(_owner))
    operation("iam", f"ListAttached{_owner.title}Policies", resource=_owner.resource)(_list_attached(_owner))


ENTITY_OUT: dict[str, Callable[[Any], dict[str, str]]] = {
    "user": lambda u: {"UserName": u.name, "UserId": u.user_id},
    "group": lambda g: {"GroupName": g.name, "GroupId": g.group_id},
    "role": lambda r: {"RoleName": r.name, "RoleId": r.role_id},
}
ENTITY_FILTERS = {"User": "user", "Group": "group", "Role": "role"}
RESULT_KEYS = {"user": "PolicyUsers", "group": "PolicyGroups", "role": "PolicyRoles"}


def _entity(call: CallContext, kind: str, name: str) -> Entity | None:
    account = account_of(call)
    if kind == "user":
        return call.tx.get(User, account, name)
    if kind == "group":
        return call.tx.get(Group, account, name)
    return call.tx.get(Role, account, name)


def _entities_using(call: CallContext, arn: str, usage: str | None) -> list[tuple[str, Entity]]:
    """(kind, entity) with the policy attached (PermissionsPolicy) or as boundary (PermissionsBoundary)."""
    account = account_of(call)
    found: dict[tuple[str, str], Entity] = {}
    if usage in (None, "PermissionsPolicy"):
        for attachment in call.tx.find(Attachment, policy_arn=arn):
            entity = _entity(call, attachment.owner_kind, attachment.owner_name)
            if entity is not None and attachment.account_id == account:
                found[(attachment.owner_kind, entity.name.lower())] = entity
    if usage in (None, "PermissionsBoundary"):
        bounded: list[tuple[str, User | Role]] = [("user", u) for u in call.tx.find(User, account_id=account)]
        bounded += [("role", r) for r in call.tx.find(Role, account_id=account)]
        for kind, entity in bounded:
            if entity.permissions_boundary == arn:
                found[(kind, entity.name.lower())] = entity
    return [(kind, found[(kind, name)]) for kind, name in sorted(found)]


@policy_operation("ListEntitiesForPolicy")
def list_entities_for_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    view = found_policy(call, params["PolicyArn"])
    entities = _entities_using(call, view.arn, params.get("PolicyUsageFilter"))
    entity_filter = params.get("EntityFilter")
    if entity_filter is not None:
        entities = [(k, e) for k, e in entities if ENTITY_FILTERS.get(entity_filter) == k]
    entities = with_path_prefix(entities, params, lambda item: item[1].path)
    page = paginate(entities, params, "Entities", lambda item: item)
    result: dict[str, Any] = {key: [] for key in RESULT_KEYS.values()}
    for kind, entity in page.pop("Entities"):
        result[RESULT_KEYS[kind]].append(ENTITY_OUT[kind](entity))
    return {**result, **page}
