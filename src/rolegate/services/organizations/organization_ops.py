"""The organization itself: CreateOrganization, DescribeOrganization, DeleteOrganization, ListRoots."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.organization import organization_of
from rolegate.services.organizations import meta
from rolegate.services.organizations.catalog import ensure_managed_policies
from rolegate.services.organizations.common import caller_org, management_org, page, unique_id
from rolegate.services.organizations.errors import AlreadyInOrganizationException, OrganizationNotEmptyException
from rolegate.services.organizations.shapes import organization_out, root_out
from rolegate.services.organizations.tree import all_accounts, all_targets, all_units, anywhere
from rolegate.services.registry import operation
from rolegate.store.records import Account, Organization, OrganizationalUnit, OrgPolicy, OrgPolicyAttachment

ALREADY_MEMBER = "The AWS account is already a member of an organization."
NOT_EMPTY = "To delete an organization you must first remove all member accounts (except the master)."


@operation("organizations", "CreateOrganization", resource=anywhere)
def create_organization(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """The calling (standalone) account becomes the management account, directly under the new root."""
    tx, account_id = call.tx, call.caller.account_id
    if organization_of(tx, account_id) is not None:
        raise AlreadyInOrganizationException(ALREADY_MEMBER)
    taken_orgs = {o.org_id for o in tx.find(Organization)}
    org_id = unique_id(lambda: "o-" + call.ids.token(10), taken_orgs.__contains__)
    taken_roots = {o.root_id for o in tx.find(Organization)}
    root_id = unique_id(lambda: "r-" + call.ids.token(4), taken_roots.__contains__)
    account = tx.get(Account, account_id) or Account(account_id, account_id, f"{account_id}@example.com")
    org = Organization(org_id, account_id, account.email, root_id, feature_set=str(params.get("FeatureSet") or "ALL"))
    tx.insert(org)
    tx.put(replace(account, parent_id=root_id, joined_at=call.now))  # JoinedTimestamp: when it joined
    ensure_managed_policies(tx)
    return {"Organization": organization_out(org)}


@operation("organizations", "DescribeOrganization", resource=anywhere)
def describe_organization(call: CallContext, _params: dict[str, Any]) -> dict[str, Any]:
    """Open to every account of the organization, not only the management account."""
    return {"Organization": organization_out(caller_org(call))}


@operation("organizations", "DeleteOrganization", resource=anywhere)
def delete_organization(call: CallContext, _params: dict[str, Any]) -> dict[str, Any]:
    """Only an organization whose sole account is the management account; its OUs and policies go too."""
    tx = call.tx
    org = management_org(call)
    if any(a.account_id != org.management_account_id for a in all_accounts(tx, org)):
        raise OrganizationNotEmptyException(NOT_EMPTY)
    for target in all_targets(tx, org):
        tx.delete_where(OrgPolicyAttachment, target_id=target)
        meta.drop(tx, meta.TAGS, target)
    for ou in all_units(tx, org):
        tx.delete(OrganizationalUnit, ou.ou_id)
    _delete_policies(call, org)
    _delete_requests(call, org)
    management = tx.get(Account, org.management_account_id)
    if management is not None:
        tx.put(replace(management, parent_id=""))
    tx.delete(Organization, org.org_id)
    return {}


def _delete_policies(call: CallContext, org: Organization) -> None:
    for policy_id, owner in meta.all_of(call.tx, meta.POLICY_OWNER):
        if owner == org.org_id:
            call.tx.delete_where(OrgPolicyAttachment, policy_id=policy_id)
            call.tx.delete(OrgPolicy, policy_id)
            meta.drop(call.tx, meta.POLICY_OWNER, policy_id)
            meta.drop(call.tx, meta.TAGS, policy_id)


def _delete_requests(call: CallContext, org: Organization) -> None:
    for request_id, request in meta.all_of(call.tx, meta.CREATE_ACCOUNT):
        if isinstance(request, dict) and request.get("org") == org.org_id:
            meta.drop(call.tx, meta.CREATE_ACCOUNT, request_id)


@operation("organizations", "ListRoots", resource=anywhere)
def list_roots(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    return page([org], params, "Roots", root_out)
