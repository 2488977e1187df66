"""The organization as a tree: which root/OU/account ids belong to it, parents and children, paths, ARNs,
and the resource functions that turn request ids into the ARNs IAM authorizes.

Resource ARNs follow the Service Authorization Reference: `organization/o-…`, `root/o-…/r-…`,
`ou/o-…/ou-…`, `account/o-…/<id>` and `policy/o-…/<type>/p-…` under the management account, and
`arn:aws:organizations::aws:policy/<type>/p-…` for AWS managed policies. Actions without a resource type
(ListAccounts, CreatePolicy, ...) are authorized on `*`, as AWS does; so is every call from an account
outside any organization (the handler then answers AWSOrganizationsNotInUseException).
"""

from __future__ import annotations

from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.organization import organization_of, path_from_root
from rolegate.services.registry import ResourceFn
from rolegate.store.interface import Transaction
from rolegate.store.records import Account, Organization, OrganizationalUnit, OrgPolicy

MAX_DEPTH = 10  # AWS allows five OU levels; the bound only guards against a corrupt cycle
ROOT, OU, ACCOUNT = "ROOT", "ORGANIZATIONAL_UNIT", "ACCOUNT"


def kind_of(entity_id: str) -> str:
    if entity_id.startswith("r-"):
        return ROOT
    if entity_id.startswith("ou-"):
        return OU
    return ACCOUNT


# -- membership and structure ----------------------------------------------------------------------------


def ou_chain(tx: Transaction, ou_id: str) -> list[str]:
    """[root, ou, …, ou_id] for an existing OU; [] when it does not exist."""
    chain: list[str] = []
    current = ou_id
    for _ in range(MAX_DEPTH):
        ou = tx.get(OrganizationalUnit, current)
        if ou is None:
            return []
        chain.append(current)
        if ou.parent_id.startswith("r-"):
            return [ou.parent_id, *reversed(chain)]
        current = ou.parent_id
    return []


def chain_of(tx: Transaction, entity_id: str) -> list[str]:
    """Ids from the root down to the entity itself (root, OU or account); [] when it is unknown."""
    kind = kind_of(entity_id)
    if kind == ROOT:
        return [entity_id]
    if kind == OU:
        return ou_chain(tx, entity_id)
    return path_from_root(tx, entity_id)


def belongs(tx: Transaction, org: Organization, entity_id: str) -> bool:
    chain = chain_of(tx, entity_id)
    return bool(chain) and chain[0] == org.root_id


def is_container(tx: Transaction, org: Organization, entity_id: str) -> bool:
    """A root or OU of this organization (a parent that can hold accounts and OUs)."""
    return kind_of(entity_id) != ACCOUNT and belongs(tx, org, entity_id)


def child_accounts(tx: Transaction, parent_id: str) -> list[Account]:
    return tx.find(Account, parent_id=parent_id)


def child_units(tx: Transaction, parent_id: str) -> list[OrganizationalUnit]:
    return tx.find(OrganizationalUnit, parent_id=parent_id)


def all_units(tx: Transaction, org: Organization) -> list[OrganizationalUnit]:
    """Every OU, breadth first from the root."""
    found: list[OrganizationalUnit] = []
    frontier = [org.root_id]
    for _ in range(MAX_DEPTH):
        level = [ou for parent in frontier for ou in child_units(tx, parent)]
        found.extend(level)
        frontier = [ou.ou_id for ou in level]
        if not frontier:
            break
    return found


def all_accounts(tx: Transaction, org: Organization) -> list[Account]:
    """Every account, oldest first (the management account joined when the organization was created)."""
    parents = [org.root_id, *(ou.ou_id for ou in all_units(tx, org))]
    accounts = [account for parent in parents for account in child_accounts(tx, parent)]
    return sorted(accounts, key=lambda a: (a.joined_at.isoformat() if a.joined_at else "", a.account_id))


def all_targets(tx: Transaction, org: Organization) -> list[str]:
    units = [ou.ou_id for ou in all_units(tx, org)]
    return [org.root_id, *units, *(a.account_id for a in all_accounts(tx, org))]


def path_text(tx: Transaction, org: Organization, entity_id: str) -> str:
    """`o-…/r-…/ou-…/` (accounts end with their own id), the shape of Account.Paths and OU.Path."""
    return "/".join([org.org_id, *chain_of(tx, entity_id)]) + "/"


def parent_type(parent_id: str) -> str:
    return ROOT if parent_id.startswith("r-") else OU


# -- ARNs ------------------------------------------------------------------------------------------------


def _base(org: Organization) -> str:
    return f"arn:aws:organizations::{org.management_account_id}"


def org_arn(org: Organization) -> str:
    return f"{_base(org)}:organization/{org.org_id}"


def root_arn(org: Organization, root_id: str = "") -> str:
    return f"{_base(org)}:root/{org.org_id}/{root_id or org.root_id}"


def ou_arn(org: Organization, ou_id: str) -> str:
    return f"{_base(org)}:ou/{org.org_id}/{ou_id}"


def account_arn(org: Organization, account_id: str) -> str:
    return f"{_base(org)}:account/{org.org_id}/{account_id}"


def policy_arn(org: Organization, policy_id: str, policy_type: str, aws_managed: bool) -> str:
    if aws_managed:
        return f"arn:aws:organizations::aws:policy/{policy_type.lower()}/{policy_id}"
    return f"{_base(org)}:policy/{org.org_id}/{policy_type.lower()}/{policy_id}"


def entity_arn(tx: Transaction, org: Organization, entity_id: str) -> str:
    """The ARN of a root, OU, account or policy id as given in a request (it need not exist)."""
    if entity_id.startswith("p-"):
        policy = tx.get(OrgPolicy, entity_id)
        if policy is None:
            return policy_arn(org, entity_id, "SERVICE_CONTROL_POLICY", False)
        return policy_arn(org, entity_id, policy.policy_type, policy.aws_managed)
    kind = kind_of(entity_id)
    if kind == ROOT:
        return root_arn(org, entity_id)
    if kind == OU:
        return ou_arn(org, entity_id)
    return account_arn(org, entity_id)


# -- resource functions for @operation -------------------------------------------------------------------


def anywhere(_call: CallContext, _params: dict[str, Any]) -> str:
    """Actions with no resource type in the Service Authorization Reference."""
    return "*"


def resource_of(param: str) -> ResourceFn:
    """Authorize on the ARN of the id in `param` (root, OU, account or policy)."""

    def resource(call: CallContext, params: dict[str, Any]) -> str:
        org = organization_of(call.tx, call.caller.account_id)
        value = str(params.get(param) or "")
        return entity_arn(call.tx, org, value) if org is not None and value else "*"

    return resource
