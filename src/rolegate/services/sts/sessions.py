"""Issuing temporary credentials: the Session record, its sealed secret, its token, and the Credentials shape."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from rolegate.policy import PolicyKind, validate_policy
from rolegate.services.context import CallContext
from rolegate.services.identity import mint_session_token
from rolegate.services.sts.errors import MalformedPolicyDocument, PackedPolicyTooLarge
from rolegate.store.records import Session

SESSION_POLICY_LIMIT = 2048
# AWS packs session policies, managed-policy ARNs and tags into an opaque binary; rolegate approximates the
# packed size by their compact text against this budget, reported as a percentage like AWS's PackedPolicySize.
PACKED_BUDGET = 2048


def checked_session_policy(document: str | None) -> str:
    if not document:
        return ""
    errors = validate_policy(document, PolicyKind.SESSION)
    if errors:
        raise MalformedPolicyDocument(errors[0].message)
    return document


def packed_size_percent(policy: str, policy_arns: list[str], tags: list[tuple[str, str]]) -> int:
    compact = json.dumps(json.loads(policy), separators=(",", ":")) if policy else ""
    size = len(compact) + sum(len(a) for a in policy_arns) + sum(len(k) + len(v) for k, v in tags)
    percent = -(-size * 100 // PACKED_BUDGET)
    if percent > 100:
        raise PackedPolicyTooLarge(
            f"Packed size of session policies and tags combined exceeds 100% of limit ({percent}% of limit)."
        )
    return percent


def issue(call: CallContext, kind: str, duration: int, **fields: Any) -> tuple[Session, dict[str, Any]]:
    """Create and store a session; return it and the `Credentials` result member."""
    access_key_id = call.ids.access_key_id(temporary=True)
    secret = call.ids.secret_access_key()
    session = Session(
        access_key_id=access_key_id,
        account_id=fields.pop("account_id", call.caller.account_id),
        kind=kind,
        sealed_secret=call.sealer.seal(secret, f"session:{access_key_id}"),
        issued=call.now.replace(microsecond=0),
        expires=call.now.replace(microsecond=0) + timedelta(seconds=duration),
        source_ip=call.source_ip,
        **fields,
    )
    call.tx.insert(session)
    credentials = {
        "AccessKeyId": access_key_id,
        "SecretAccessKey": secret,
        "SessionToken": mint_session_token(call.sealer, session),
        "Expiration": session.expires,
    }
    return session, credentials
