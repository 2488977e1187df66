"""Revoking a role's active sessions the way the IAM console does: an inline role policy named
`AWSRevokeOlderSessions` that denies everything to sessions whose token was issued before now.

Session credentials keep authenticating; every authorization of an older session then meets an explicit
Deny (the condition reads `aws:TokenIssueTime`, which long-term keys do not carry), while sessions issued
from now on are unaffected. Putting the policy again moves the cut-off forward. This is a plain function
for the CLI, not an API operation (AWS has none either: the console calls PutRolePolicy).
"""

from __future__ import annotations

import json
from datetime import datetime

from rolegate.services.context import CallContext
from rolegate.services.iam.errors import NoSuchEntity
from rolegate.store.interface import Transaction
from rolegate.store.records import InlinePolicy, Role

REVOKE_POLICY_NAME = "AWSRevokeOlderSessions"


def revocation_policy(cutoff: datetime) -> str:
    stamp = cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
    statement = {
        "Effect": "Deny",
        "Action": ["*"],
        "Resource": ["*"],
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": stamp}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def revoke_sessions(tx: Transaction, account_id: str, role_name: str, now: datetime) -> str:
    """Deny every session of the role issued before `now`; returns the policy document written."""
    role = tx.get(Role, account_id, role_name)
    if role is None:
        raise NoSuchEntity(f"The role with name {role_name} cannot be found.")
    document = revocation_policy(now)
    tx.put(InlinePolicy(account_id, "role", role.name, REVOKE_POLICY_NAME, document))
    return document


def revoke_older_sessions(call: CallContext, role_name: str) -> str:
    """`revoke_sessions` for a role of the caller's account, at the call's time."""
    return revoke_sessions(call.tx, call.caller.account_id, role_name, call.now)
