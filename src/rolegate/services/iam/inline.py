"""Inline policies of users, groups and roles: put, get, delete, list, with IAM's aggregate size quotas.

IAM limits the total size of an owner's inline policies (counted without whitespace), not each document, so
a put is checked against the sum of the owner's other inline policies plus the new one.
"""

from __future__ import annotations

from typing import Any

from rolegate.policy import PolicyKind
from rolegate.services.context import CallContext
from rolegate.services.iam.attachments import OWNERS, Entity, OwnerKind, modifiable
from rolegate.services.iam.common import account_of, checked_document, encode_document, paginate, policy_size
from rolegate.services.iam.errors import LimitExceeded, NoSuchEntity
from rolegate.services.registry import Handler, operation
from rolegate.store.records import InlinePolicy

INLINE_SIZE_QUOTAS = {"user": 2048, "group": 5120, "role": 10240}


def _owned(call: CallContext, owner: OwnerKind, entity: Entity) -> list[InlinePolicy]:
    return call.tx.find(InlinePolicy, account_id=account_of(call), owner_kind=owner.kind, owner_name=entity.name)


def _inline(call: CallContext, owner: OwnerKind, entity: Entity, name: str) -> InlinePolicy:
    found = call.tx.get(InlinePolicy, account_of(call), owner.kind, entity.name, name)
    if found is None:
        raise NoSuchEntity(f"The {owner.kind} policy with name {name} cannot be found.")
    return found


def _check_aggregate_size(call: CallContext, owner: OwnerKind, entity: Entity, name: str, document: str) -> None:
    quota = INLINE_SIZE_QUOTAS[owner.kind]
    others = sum(policy_size(p.document) for p in _owned(call, owner, entity) if p.name != name)
    if others + policy_size(document) > quota:
        raise LimitExceeded(f"Maximum policy size of {quota} bytes exceeded for {owner.kind} {entity.name}")


def _put(owner: OwnerKind) -> Handler:
    def put(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = modifiable(owner.lookup(call, params[owner.name_param]))
        name = params["PolicyName"]
        document = checked_document(params["PolicyDocument"], PolicyKind.IDENTITY)
        _check_aggregate_size(call, owner, entity, name, document)
        call.tx.put(InlinePolicy(account_of(call), owner.kind, entity.name, name, document))
        return {}

    return put


def _get(owner: OwnerKind) -> Handler:
    def get(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = owner.lookup(call, params[owner.name_param])
        policy = _inline(call, owner, entity, params["PolicyName"])
        return {
            owner.name_param: entity.name,
            "PolicyName": policy.name,
            "PolicyDocument": encode_document(policy.document),
        }

    return get


def _delete(owner: OwnerKind) -> Handler:
    def delete(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = modifiable(owner.lookup(call, params[owner.name_param]))
        policy = _inline(call, owner, entity, params["PolicyName"])
        call.tx.delete(InlinePolicy, policy.account_id, policy.owner_kind, policy.owner_name, policy.name)
        return {}

    return delete


def _list(owner: OwnerKind) -> Handler:
    def list_names(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = owner.lookup(call, params[owner.name_param])
        names = sorted(p.name for p in _owned(call, owner, entity))
        return paginate(names, params, "PolicyNames", str)

    return list_names


for _owner in OWNERS:
    operation("iam", f"Put{_owner.title}Policy", resource=_owner.resource)(_put(_owner))
    operation("iam", f"Get{_owner.title}Policy", resource=_owner.resource)(_get(_owner))
    operation("iam", f"Delete{_owner.title}Policy", resource=_owner.resource)(_delete(_owner))
    operation("iam", f"List{_owner.title}Policies", resource=_owner.resource)(_list(_owner))
