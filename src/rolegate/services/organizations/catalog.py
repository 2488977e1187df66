"""The policy types rolegate enforces (SCP, RCP), their AWS managed full-access policies, and default
attachments.

AWS behaviour followed here: with all features, a new organization has no policy type enabled; enabling a
type on the root attaches its full-access policy (FullAWSAccess / RCPFullAWSAccess) to the root, every OU
and every account, and while the type stays enabled every new OU and account gets it too. Disabling the
type detaches every policy of that type from every target. The managed policies are shared by all
organizations (their ids and ARNs carry no organization), so their records are created once.
"""

from __future__ import annotations

import json

from rolegate.policy import PolicyKind
from rolegate.services.organization import RCP, SCP
from rolegate.store.interface import Transaction
from rolegate.store.records import Organization, OrgPolicy, OrgPolicyAttachment

KINDS: dict[str, PolicyKind] = {SCP: PolicyKind.SCP, RCP: PolicyKind.RCP}
ATTACHMENT_LIMIT = 5  # SCPs (and RCPs) attached to one root, OU or account


def _document(**extra: str) -> str:
    statement = {"Effect": "Allow", **extra, "Action": "*", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, indent=4)


FULL_ACCESS: dict[str, OrgPolicy] = {
    SCP: OrgPolicy(
        "p-FullAWSAccess", SCP, "FullAWSAccess", "Allows access to every operation", _document(), aws_managed=True
    ),
    RCP: OrgPolicy(
        "p-RCPFullAWSAccess",
        RCP,
        "RCPFullAWSAccess",
        "Allows access to every operation",
        _document(Principal="*"),
        aws_managed=True,
    ),
}
NON_DETACHABLE = frozenset({FULL_ACCESS[RCP].policy_id})


def ensure_managed_policies(tx: Transaction) -> None:
    for policy in FULL_ACCESS.values():
        if tx.get(OrgPolicy, policy.policy_id) is None:
            tx.put(policy)


def attach_defaults(tx: Transaction, org: Organization, target_id: str) -> None:
    """Give a new OU or account the full-access policy of every enabled type."""
    for policy_type in org.enabled_policy_types:
        default = FULL_ACCESS.get(policy_type)
        if default is not None:
            tx.put(OrgPolicyAttachment(default.policy_id, target_id))


def attached(tx: Transaction, target_id: str, policy_type: str) -> list[OrgPolicy]:
    """Policies of one type attached directly to a target."""
    found = (tx.get(OrgPolicy, a.policy_id) for a in tx.find(OrgPolicyAttachment, target_id=target_id))
    return [p for p in found if p is not None and p.policy_type == policy_type]
