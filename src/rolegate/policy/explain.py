"""Decision -> explanation data (which gate, which statement, which element failed and why), then renderers.

`explanation()` builds plain data; `render_text()` and `render_json()` are separate views over it, so the
console and the CLI can show the same facts differently.
"""

from __future__ import annotations

import json
from typing import Any

from rolegate.policy.decide import Decision, Result
from rolegate.policy.gates import Gate, GateAnalysis

GATE_TITLES = {
    Gate.RCP: "resource control policies (RCP)",
    Gate.SCP: "service control policies (SCP)",
    Gate.RESOURCE: "resource-based policy",
    Gate.TRUST: "role trust policy",
    Gate.IDENTITY: "identity-based policies",
    Gate.BOUNDARY: "permissions boundary",
    Gate.SESSION: "session policies",
    Gate.ROOT: "account root user",
}

REASON_TEXT = {
    "explicit_deny": "an explicit Deny statement applies",
    "root_cannot_assume_role": "roles may not be assumed by root accounts",
    "no_allow_at_every_rcp_level": "a level of the resource's organization path has no RCP that allows the action",
    "no_allow_at_every_scp_level": "a level of the principal's organization path has no SCP that allows the action",
    "no_resource_policy_allow": "no statement of the resource-based policy allows this principal",
    "cross_account_resource_side_does_not_allow": "cross-account: the resource's account does not allow the caller",
    "cross_account_identity_side_does_not_allow": "cross-account: no identity-based policy of the caller allows it",
    "trust_policy_does_not_allow": "the role's trust policy does not allow this principal",
    "no_identity_policy_allow": "no identity-based policy allows the action",
    "permissions_boundary_does_not_allow": "the permissions boundary does not allow the action",
    "session_policy_does_not_allow": "the session policies do not allow the action",
    "federated_user_without_session_policy": "a federated user session without a session policy has no permissions",
    "allowed_by_resource_policy": "the resource-based policy allows the caller",
    "allowed_by_resource_policy_naming_caller": "the resource-based policy names the caller directly",
    "allowed_by_resource_policy_naming_entity": "the resource-based policy names the caller's role or user",
    "allowed_by_identity_policy": "an identity-based policy allows the action",
    "allowed_cross_account": "both the caller's account and the resource's account allow it",
    "root_user": "the account root user is allowed unless denied",
}


def _gate_data(gate: GateAnalysis) -> dict[str, Any]:
    return {
        "gate": gate.gate.value,
        "inForce": gate.in_force,
        "allows": gate.allows,
        "levelAllows": list(gate.level_allows),
        "policies": [
            {"policy": p.policy, "level": p.level, "statements": [m.to_json() for m in p.statements]}
            for p in gate.policies
        ],
    }


def explanation(decision: Decision) -> dict[str, Any]:
    """The full explanation as JSON-ready data."""
    ctx = decision.context
    return {
        **decision.to_json(),
        "summary": REASON_TEXT.get(decision.reason, decision.reason),
        "request": {
            "principal": ctx.principal.arn or ctx.principal.service or ctx.principal.provider or "anonymous",
            "principalAccount": ctx.principal.account,
            "action": ctx.action,
            "resource": ctx.resource,
            "resourceAccount": ctx.resource_account,
            "crossAccount": ctx.cross_account,
        },
        "gates": [_gate_data(g) for g in decision.analysis],
        "errors": list(decision.errors),
    }


def render_json(decision: Decision) -> str:
    return json.dumps(explanation(decision), indent=2, sort_keys=False)


def _statement_line(match: dict[str, Any]) -> str:
    verdict = "applies" if match["applies"] else "does not apply"
    line = f"    {match['effect']:<5} {_ref(match['statement'])} {verdict}"
    failing = [c for c in match["checks"] if not c["matched"]]
    if failing:
        line += ": " + "; ".join(f"{c['element']} {c['reason']}" for c in failing)
    return line


def _ref(statement: dict[str, Any]) -> str:
    sid = statement.get("sid")
    return f"{statement['policy']}:{sid}" if sid else f"{statement['policy']}:Statement[{statement['index']}]"


def render_text(decision: Decision) -> str:
    """A short human explanation: verdict, deciding gate and statements, then each gate's statements."""
    return render_explanation(explanation(decision))


def render_explanation(data: dict[str, Any]) -> str:
    """The text view of `explanation()` data, also for explanations read back from the audit trail."""
    request = data["request"]
    gate_name = data["gate"]
    lines = [
        f"{data['decision']}: {request['principal']} -> {request['action']} on {request['resource']}",
        f"  deciding gate: {GATE_TITLES.get(Gate(gate_name), gate_name)} ({gate_name})",
        f"  reason: {REASON_TEXT.get(data['reason'], data['reason'])} [{data['reason']}]",
    ]
    if data["statements"]:
        lines.append("  deciding statements: " + ", ".join(_ref(s) for s in data["statements"]))
    if request["crossAccount"]:
        lines.append(
            f"  cross-account: caller in {request.get('principalAccount', '')}, "
            f"resource in {request['resourceAccount']}"
        )
    for gate in data["gates"]:
        statements = [m for p in gate["policies"] for m in p["statements"]]
        denies = any(m["applies"] and m["effect"] == "Deny" for m in statements)
        state = "denies" if denies else "allows" if gate["allows"] else "no allow"
        if not gate["inForce"]:
            state = "not in force"
        lines.append(f"  [{gate['gate']}] {state}")
        for number, allowed in enumerate(gate["levelAllows"]):
            if not allowed:
                lines.append(f"   level {number}: no policy at this level allows the request")
        for policy in gate["policies"]:
            level = f" (level {policy['level']})" if policy["level"] is not None else ""
            lines.append(f"   policy {policy['policy']}{level}")
            lines.extend(_statement_line(m) for m in policy["statements"])
    if data["errors"]:
        lines.append("  evaluation errors: " + "; ".join(data["errors"]))
    if data["decision"] == Result.IMPLICIT_DENY.value:
        lines.append(_implicit_deny_line(data))
    return "\n".join(lines)


def _implicit_deny_line(data: dict[str, Any]) -> str:
    deciding = next((g for g in data["gates"] if g["gate"] == data["gate"]), None)
    missing = [str(n) for n, ok in enumerate(deciding["levelAllows"]) if not ok] if deciding else []
    if missing:
        levels = ", ".join(missing)
        return f"  (an implicit deny: no policy at level {levels} of the deciding gate allows the request)"
    return "  (an implicit deny: nothing allowed the request in the deciding gate)"
