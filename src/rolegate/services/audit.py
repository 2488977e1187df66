"""The audit trail: every call with who, what, the decision and the deciding gate; denials keep the engine's
explanation so `rolegate explain ID` can show it. Secrets never enter the trail."""

from __future__ import annotations

import json
from typing import Any

from rolegate.policy import Decision, Result, explanation
from rolegate.services.context import CallContext
from rolegate.store.codec import one_shot
from rolegate.store.interface import Transaction
from rolegate.store.records import AuditEvent

SECRET_PARAMS = frozenset(
    {
        "SecretAccessKey",
        "SessionToken",
        "TokenCode",
        "AuthenticationCode1",
        "AuthenticationCode2",
        "Password",
        "OldPassword",
        "NewPassword",
        "SAMLAssertion",
        "WebIdentityToken",
        "SSECustomerKey",
        "CopySourceSSECustomerKey",
    }
)
MAX_PARAMS_CHARS = 8192
JSON_ENCODER = json.JSONEncoder(default=str)  # json.dumps(value, default=str), without a new encoder per call


_encode_params = one_shot(JSON_ENCODER)  # request parameters come from the wire codecs, never cyclic


def scrub(params: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k in SECRET_PARAMS else v) for k, v in params.items()}


def params_text(params: dict[str, Any]) -> str:
    """The request parameters as recorded: JSON with secrets masked, cut to MAX_PARAMS_CHARS. A streamed
    body (PutObject, UploadPart) is recorded as its size: its bytes are the object's, not the call's."""
    shown = params if SECRET_PARAMS.isdisjoint(params) else scrub(params)
    if "Body" in shown and not isinstance(shown["Body"], str | int | float | bool | type(None) | list | dict):
        shown = {**shown, "Body": f"<{_size(shown['Body'])} bytes>"}
    return _encode_params(shown)[:MAX_PARAMS_CHARS]


def _size(body: Any) -> str:
    if isinstance(body, bytes | bytearray):
        return str(len(body))
    length = getattr(body, "decoded_length", None)
    return str(length) if isinstance(length, int) else "streamed"


def shown_decisions(decisions: list[Decision]) -> tuple[Decision | None, Decision | None]:
    """(the denial, the decision the event shows): the last decision that was not Allowed, else the last one."""
    for decision in reversed(decisions):
        if decision.result is not Result.ALLOWED:
            return decision, decision
    return None, decisions[-1] if decisions else None


def record_call(call: CallContext, params: dict[str, Any], error: Exception | None) -> AuditEvent:
    """Build the audit event; the denial (if any) is the last decision that was not Allowed."""
    denied, shown = shown_decisions(call.decisions)
    caller = call.caller
    return AuditEvent(
        event_id=call.request_id,
        time=call.now,
        request_id=call.request_id,
        service=call.service,
        operation=call.operation,
        account_id=caller.account_id,
        principal_arn=caller.arn,
        source_ip=call.source_ip,
        user_agent=call.user_agent[:512],
        decision=shown.result.value if shown else "NotEvaluated",
        gate=shown.gate.value if shown else "",
        error_code=getattr(error, "code", "InternalFailure") if error is not None else "",
        error_message=(getattr(error, "message", "") if error is not None else "")[:1024],
        resource=shown.context.resource if shown else "",
        action=shown.context.action if shown else "",
        request_parameters=params_text(params),
        explanation=JSON_ENCODER.encode(explanation(denied)) if denied else "",
    )


def recorded_denial(tx: Transaction, event_id: str, account_id: str) -> AuditEvent | None:
    """A denial recorded in the trail, shown only to callers of the denied request's account."""
    event = tx.get(AuditEvent, event_id)
    if event is None or not event.explanation or event.account_id != account_id:
        return None
    return event
