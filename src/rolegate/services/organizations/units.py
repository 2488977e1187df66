"""Organizational units and the tree around them: CreateOrganizationalUnit, DescribeOrganizationalUnit,
UpdateOrganizationalUnit, DeleteOrganizationalUnit, ListOrganizationalUnitsForParent, ListParents,
ListChildren.

OU ids are `ou-<root id without r->-<8 characters>`, as AWS makes them. OU names are unique among the
children of one parent; OUs nest at most five levels below the root; an OU must be empty to be deleted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.organizations import meta
from rolegate.services.organizations.catalog import attach_defaults
from rolegate.services.organizations.common import management_org, page, unique_id
from rolegate.services.organizations.errors import (
    ChildNotFoundException,
    ConstraintViolationException,
    DuplicateOrganizationalUnitException,
    OrganizationalUnitNotEmptyException,
    OrganizationalUnitNotFoundException,
    ParentNotFoundException,
)
from rolegate.services.organizations.shapes import ou_out
from rolegate.services.organizations.tags import checked_request_tags
from rolegate.services.organizations.tree import (
    ACCOUNT,
    OU,
    all_units,
    belongs,
    chain_of,
    child_accounts,
    child_units,
    is_container,
    kind_of,
    ou_arn,
    parent_type,
    resource_of,
)
from rolegate.services.registry import operation
from rolegate.store.records import Account, Organization, OrganizationalUnit, OrgPolicyAttachment

MAX_OU_DEPTH = 5
MAX_OUS = 1000
OU_NOT_FOUND = "You specified an organizational unit that doesn't exist."
PARENT_NOT_FOUND = "We can't find a root or OU with the ParentId that you specified."
DUPLICATE_OU = "An OU with the same name already exists."


def get_unit(call: CallContext, org: Organization, ou_id: str) -> OrganizationalUnit:
    ou = call.tx.get(OrganizationalUnit, ou_id)
    if ou is None or not belongs(call.tx, org, ou_id):
        raise OrganizationalUnitNotFoundException(OU_NOT_FOUND)
    return ou


def _check_unique_name(call: CallContext, parent_id: str, name: str, ou_id: str = "") -> None:
    if any(ou.name == name and ou.ou_id != ou_id for ou in child_units(call.tx, parent_id)):
        raise DuplicateOrganizationalUnitException(DUPLICATE_OU)


def _check_limits(call: CallContext, org: Organization, parent_id: str) -> None:
    if len(chain_of(call.tx, parent_id)) > MAX_OU_DEPTH:
        raise ConstraintViolationException(
            "You attempted to create an OU tree that is too many levels deep.", "OU_DEPTH_LIMIT_EXCEEDED"
        )
    if len(all_units(call.tx, org)) >= MAX_OUS:
        raise ConstraintViolationException(
            "You attempted to exceed the number of OUs that you can have in an organization.",
            "OU_NUMBER_LIMIT_EXCEEDED",
        )


@operation("organizations", "CreateOrganizationalUnit", resource=resource_of("ParentId"))
def create_organizational_unit(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    parent_id, name = params["ParentId"], params["Name"]
    if not is_container(call.tx, org, parent_id):
        raise ParentNotFoundException(PARENT_NOT_FOUND)
    _check_unique_name(call, parent_id, name)
    _check_limits(call, org, parent_id)
    prefix = f"ou-{org.root_id.removeprefix('r-')}-"
    ou_id = unique_id(lambda: prefix + call.ids.token(8), lambda c: call.tx.get(OrganizationalUnit, c) is not None)
    tags = checked_request_tags(call, ou_arn(org, ou_id), params.get("Tags", []))
    ou = OrganizationalUnit(ou_id, parent_id, name)
    call.tx.insert(ou)
    meta.set_tags(call.tx, ou_id, tags)
    attach_defaults(call.tx, org, ou_id)
    return {"OrganizationalUnit": ou_out(call.tx, org, ou)}


@operation("organizations", "DescribeOrganizationalUnit", resource=resource_of("OrganizationalUnitId"))
def describe_organizational_unit(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    return {"OrganizationalUnit": ou_out(call.tx, org, get_unit(call, org, params["OrganizationalUnitId"]))}


@operation("organizations", "UpdateOrganizationalUnit", resource=resource_of("OrganizationalUnitId"))
def update_organizational_unit(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    ou = get_unit(call, org, params["OrganizationalUnitId"])
    if params.get("Name"):
        _check_unique_name(call, ou.parent_id, params["Name"], ou.ou_id)
        ou = replace(ou, name=params["Name"])
        call.tx.put(ou)
    return {"OrganizationalUnit": ou_out(call.tx, org, ou)}


@operation("organizations", "DeleteOrganizationalUnit", resource=resource_of("OrganizationalUnitId"))
def delete_organizational_unit(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    ou = get_unit(call, org, params["OrganizationalUnitId"])
    if child_units(call.tx, ou.ou_id) or child_accounts(call.tx, ou.ou_id):
        raise OrganizationalUnitNotEmptyException(
            "The specified OU is not empty. Move all accounts to another root or to other OUs, "
            "remove all child OUs, and try the operation again."
        )
    call.tx.delete_where(OrgPolicyAttachment, target_id=ou.ou_id)
    meta.drop(call.tx, meta.TAGS, ou.ou_id)
    call.tx.delete(OrganizationalUnit, ou.ou_id)
    return {}


@operation("organizations", "ListOrganizationalUnitsForParent", resource=resource_of("ParentId"))
def list_organizational_units_for_parent(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    parent_id = params["ParentId"]
    if not is_container(call.tx, org, parent_id):
        raise ParentNotFoundException(PARENT_NOT_FOUND)
    units = child_units(call.tx, parent_id)
    return page(units, params, "OrganizationalUnits", lambda ou: ou_out(call.tx, org, ou))


@operation("organizations", "ListParents", resource=resource_of("ChildId"))
def list_parents(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    child_id = params["ChildId"]
    parent = _parent_of(call, org, child_id)
    return page([parent], params, "Parents", lambda p: {"Id": p, "Type": parent_type(p)})


def _parent_of(call: CallContext, org: Organization, child_id: str) -> str:
    kind = kind_of(child_id)
    child: Account | OrganizationalUnit | None = None
    if kind == ACCOUNT:
        child = call.tx.get(Account, child_id)
    elif kind == OU:
        child = call.tx.get(OrganizationalUnit, child_id)
    if child is None or not belongs(call.tx, org, child_id):
        raise ChildNotFoundException(
            "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified."
        )
    return child.parent_id


@operation("organizations", "ListChildren", resource=resource_of("ParentId"))
def list_children(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    parent_id = params["ParentId"]
    if not is_container(call.tx, org, parent_id):
        raise ParentNotFoundException(PARENT_NOT_FOUND)
    if params["ChildType"] == "ACCOUNT":
        ids = [a.account_id for a in child_accounts(call.tx, parent_id)]
    else:
        ids = [ou.ou_id for ou in child_units(call.tx, parent_id)]
    return page(ids, params, "Children", lambda i: {"Id": i, "Type": params["ChildType"]})
