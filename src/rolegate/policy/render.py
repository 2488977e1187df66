"""Policy -> JSON value, the inverse of parsing: `render_policy(parse_policy(doc).policy) == doc`."""

from __future__ import annotations

from typing import Any

from rolegate.policy.document import ConditionClause, Policy, PrincipalSpec, Statement, Strings


def _strings(value: Strings) -> str | list[str]:
    return value.items[0] if value.single else list(value.items)


def _principal(spec: PrincipalSpec) -> Any:
    if spec.wildcard:
        return "*"
    return {name: _strings(values) for name, values in spec.entries}


def _conditions(operators: tuple[str, ...], clauses: tuple[ConditionClause, ...]) -> dict[str, Any]:
    block: dict[str, dict[str, Any]] = {name: {} for name in operators}
    for clause in clauses:
        value: Any = clause.values[0] if clause.single else list(clause.values)
        block.setdefault(clause.operator, {})[clause.key] = value
    return block


def render_statement(statement: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if statement.sid is not None:
        out["Sid"] = statement.sid
    out["Effect"] = statement.effect.value
    for name, spec in (("Principal", statement.principal), ("NotPrincipal", statement.not_principal)):
        if spec is not None:
            out[name] = _principal(spec)
    for name, strings in (
        ("Action", statement.action),
        ("NotAction", statement.not_action),
        ("Resource", statement.resource),
        ("NotResource", statement.not_resource),
    ):
        if strings is not None:
            out[name] = _strings(strings)
    if statement.condition_operators or statement.conditions:
        out["Condition"] = _conditions(statement.condition_operators, statement.conditions)
    return out


def render_policy(policy: Policy) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if policy.version is not None:
        out["Version"] = policy.version
    if policy.policy_id is not None:
        out["Id"] = policy.policy_id
    statements = [render_statement(s) for s in policy.statements]
    out["Statement"] = statements if policy.statement_is_list else statements[0] if statements else []
    return out
