"""Organization lookups the authorizer needs: an account's path from the root and its SCP/RCP levels."""

from __future__ import annotations

from rolegate.store.interface import Transaction
from rolegate.store.records import Account, Organization, OrganizationalUnit, OrgPolicy, OrgPolicyAttachment

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"


def organization_of(tx: Transaction, account_id: str) -> Organization | None:
    """The organization an account manages or belongs to (found through the root at the top of its path)."""
    managed = tx.find(Organization, management_account_id=account_id)
    if managed:
        return managed[0]
    chain = path_from_root(tx, account_id)
    if not chain or not chain[0].startswith("r-"):
        return None
    return next((org for org in tx.find(Organization) if org.root_id == chain[0]), None)


def path_from_root(tx: Transaction, account_id: str) -> list[str]:
    """Target ids from the root down to the account itself: [r-…, ou-…, …, account]."""
    account = tx.get(Account, account_id)
    if account is None or not account.parent_id:
        return []
    chain = [account_id]
    parent = account.parent_id
    for _ in range(10):  # AWS allows five OU levels; the bound guards against cycles
        chain.append(parent)
        if parent.startswith("r-"):
            break
        ou = tx.get(OrganizationalUnit, parent)
        if ou is None:
            break
        parent = ou.parent_id
    return list(reversed(chain))


def org_paths(tx: Transaction, account_id: str) -> tuple[str, str] | None:
    """(org id, aws:PrincipalOrgPaths value `o-x/r-y/ou-z/`) for a member or management account."""
    org = organization_of(tx, account_id)
    if org is None:
        return None
    levels = [t for t in path_from_root(tx, account_id) if not t.isdigit()]
    return org.org_id, "/".join([org.org_id, *levels]) + "/"


def policy_levels(tx: Transaction, account_id: str, policy_type: str) -> tuple[list[list[tuple[str, str]]], str]:
    """Per level of the account's path, the (policy id, content) of attached policies of the type; and the
    management account id (exempt). Empty when the account is outside an organization or the type is off."""
    org = organization_of(tx, account_id)
    if org is None or policy_type not in org.enabled_policy_types:
        return [], ""
    levels: list[list[tuple[str, str]]] = []
    for target in path_from_root(tx, account_id):
        level: list[tuple[str, str]] = []
        for attachment in tx.find(OrgPolicyAttachment, target_id=target):
            policy = tx.get(OrgPolicy, attachment.policy_id)
            if policy is not None and policy.policy_type == policy_type:
                level.append((policy.name, policy.content))
        levels.append(level)
    return levels, org.management_account_id
