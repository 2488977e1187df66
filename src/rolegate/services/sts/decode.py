"""DecodeAuthorizationMessage: rolegate's encoded authorization message is the id of a denied request (the
request id every AccessDenied carries), and decoding it returns AWS's decoded-message JSON built from the
audit trail, with the engine's full explanation alongside under "explanation"."""

from __future__ import annotations

import json
from typing import Any

from rolegate.services.audit import recorded_denial
from rolegate.services.context import CallContext
from rolegate.services.registry import operation
from rolegate.services.sts.errors import InvalidAuthorizationMessage
from rolegate.store.records import AuditEvent

INVALID = "The encoded message is not a denial recorded for this account."


@operation("sts", "DecodeAuthorizationMessage", resource=lambda _call, _params: "*", reads_audit=True)
def decode_authorization_message(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    event = recorded_denial(call.tx, params["EncodedMessage"].strip(), call.caller.account_id)
    if event is None:
        raise InvalidAuthorizationMessage(INVALID)
    return {"DecodedMessage": json.dumps(decoded_message(event), separators=(",", ":"))}


def decoded_message(event: AuditEvent) -> dict[str, Any]:
    """The shape AWS documents for decoded messages, filled from the recorded decision."""
    explained: dict[str, Any] = json.loads(event.explanation)
    deciding = [
        {"statementId": s.get("sid") or "", "policy": s.get("policy", ""), "index": s.get("index", 0)}
        for s in explained.get("statements", [])
    ]
    failures = [
        {
            "gate": gate["gate"],
            "statement": match["statement"],
            "checks": [c for c in match["checks"] if not c["matched"]],
        }
        for gate in explained.get("gates", [])
        for policy in gate.get("policies", [])
        for match in policy.get("statements", [])
        if not match.get("applies")
    ]
    return {
        "allowed": False,
        "explicitDeny": explained.get("decision") == "ExplicitDeny",
        "matchedStatements": {"items": deciding},
        "failures": {"items": failures},
        "context": {
            "principal": {"arn": event.principal_arn},
            "action": event.action,
            "resource": event.resource,
            "requestId": event.request_id,
            "time": event.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "explanation": explained,
    }
