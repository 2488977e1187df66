"""Trust-policy checks at write time: validity for the trust kind, size quota, and that named principals exist."""

from __future__ import annotations

import json

from rolegate.policy import PolicyKind
from rolegate.policy.parse import SYNTAX, load_json
from rolegate.services.context import CallContext
from rolegate.services.iam.common import checked_document, policy_size
from rolegate.services.iam.errors import LimitExceeded, MalformedPolicyDocument
from rolegate.store.records import Account, Role, User

TRUST_POLICY_QUOTA = 2048
# CreateRole and UpdateAssumeRolePolicy word text that is not JSON at all differently from the permission-policy
# operations ("Syntax errors in policy."); this is what `--assume-role-policy-document trust.json` without
# `file://` answers.
INVALID_JSON = "This policy contains invalid Json"


def checked_trust_policy(call: CallContext, document: str) -> str:
    error = load_json(document)[1]
    if error is not None and error.message == SYNTAX:
        raise MalformedPolicyDocument(INVALID_JSON)
    checked_document(document, PolicyKind.TRUST)
    if policy_size(document) > TRUST_POLICY_QUOTA:
        raise LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_QUOTA}")
    for arn in _aws_principals(document):
        if not principal_exists(call, arn):
            raise MalformedPolicyDocument(f'Invalid principal in policy: "AWS":"{arn}"')
    return document


def _aws_principals(document: str) -> list[str]:
    data = json.loads(document)
    statements = data["Statement"] if isinstance(data["Statement"], list) else [data["Statement"]]
    found: list[str] = []
    for statement in statements:
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            values = principal.get("AWS", [])
            found.extend([values] if isinstance(values, str) else values)
    return found


def principal_exists(call: CallContext, arn: str) -> bool:
    """IAM resolves user and role principals when it stores a trust policy (S3 when it stores a bucket
    policy); unknown ones are rejected.

    Accounts that rolegate does not host are taken on trust (they are outside this world)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam":
        return True
    account, resource = parts[4], parts[5]
    if call.tx.get(Account, account) is None:
        return True
    name = resource.rsplit("/", 1)[-1]
    if resource.startswith("user/"):
        return call.tx.get(User, account, name) is not None
    if resource.startswith("role/"):
        return call.tx.get(Role, account, name) is not None
    return True
