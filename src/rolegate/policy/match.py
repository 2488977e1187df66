"""One compiled statement against one request: a fast yes/no, and a detailed per-element analysis.

Both paths use the same element functions, so the explanation can never disagree with the decision.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rolegate.policy.compile import ArnPatterns, CompiledStatement, PrincipalPatterns, StatementRef
from rolegate.policy.conditions import is_true
from rolegate.policy.context import Principal, PrincipalKind, RequestContext


class PrincipalMatch(enum.Enum):
    """How a resource-policy statement names the caller (evaluation.md §2 rows)."""

    NONE = "none"
    DIRECT = "direct"  # the exact user / session / federated user, `*`, a service or a web identity
    ENTITY = "entity"  # the role behind a session, or the user who federated
    ACCOUNT = "account"  # the caller's account: delegation to its identity policies


def principal_match(patterns: PrincipalPatterns, principal: Principal) -> PrincipalMatch:
    if patterns.wildcard:
        return PrincipalMatch.DIRECT
    kind = principal.kind
    aws = patterns.aws
    if kind is PrincipalKind.SERVICE:
        return PrincipalMatch.DIRECT if principal.service in patterns.service else PrincipalMatch.NONE
    if kind is PrincipalKind.WEB_IDENTITY:
        return PrincipalMatch.DIRECT if principal.provider in patterns.federated else PrincipalMatch.NONE
    if kind is PrincipalKind.ANONYMOUS:
        return PrincipalMatch.NONE
    if principal.arn in aws or (kind is PrincipalKind.USER and principal.unique_id in aws):
        return PrincipalMatch.DIRECT
    if principal.canonical_id and principal.canonical_id in patterns.canonical:
        # An S3 canonical user id names the caller's account, exactly like the account principal.
        return PrincipalMatch.DIRECT if kind is PrincipalKind.ROOT else PrincipalMatch.ACCOUNT
    if kind is PrincipalKind.ROOT:
        return PrincipalMatch.DIRECT if principal.account_arn in aws else PrincipalMatch.NONE
    if principal.entity_arn and principal.entity_arn in aws:
        return PrincipalMatch.ENTITY
    if kind is PrincipalKind.ROLE_SESSION and principal.unique_id and principal.unique_id in aws:
        return PrincipalMatch.ENTITY
    if principal.account_arn in aws:
        return PrincipalMatch.ACCOUNT
    return PrincipalMatch.NONE


def _identities(principal: Principal) -> list[set[str]]:
    """Each identity the caller holds, as the set of spellings that name it (NotPrincipal needs all)."""
    kind = principal.kind
    if kind is PrincipalKind.SERVICE:
        return [{principal.service}]
    if kind is PrincipalKind.WEB_IDENTITY:
        return [{principal.provider}]
    if kind is PrincipalKind.ANONYMOUS:
        return [set()]
    identities = [{principal.account_arn}]
    if kind is PrincipalKind.ROLE_SESSION:
        identities.append({principal.entity_arn, principal.unique_id} - {""})
        identities.append({principal.arn})
    elif kind is not PrincipalKind.ROOT:
        identities.append({principal.arn, principal.unique_id} - {""})
    return identities


def excluded_by_not_principal(patterns: PrincipalPatterns, principal: Principal) -> bool:
    """True when NotPrincipal lists every identity of the caller, so the statement does not apply."""
    if patterns.wildcard:
        return True
    listed = patterns.aws | patterns.service | patterns.federated
    return all(identity & listed for identity in _identities(principal))


def principal_found(stmt: CompiledStatement, principal: Principal, has_boundary: bool) -> PrincipalMatch:
    """Principal element verdict alone (the decision's fast path); statements without one match as DIRECT."""
    if stmt.principal is not None:
        return principal_match(stmt.principal, principal)
    if stmt.not_principal is not None:
        if stmt.deny and has_boundary:
            return PrincipalMatch.DIRECT
        if excluded_by_not_principal(stmt.not_principal, principal):
            return PrincipalMatch.NONE
    return PrincipalMatch.DIRECT


def principal_outcome(stmt: CompiledStatement, principal: Principal, has_boundary: bool) -> tuple[PrincipalMatch, str]:
    """`principal_found` with its reason code."""
    found = principal_found(stmt, principal, has_boundary)
    if stmt.principal is not None:
        if found is not PrincipalMatch.NONE:
            return found, "principal_matched"
        accounts = stmt.principal.accounts()
        reason = "account_mismatch" if accounts and principal.account not in accounts else "principal_mismatch"
        return found, reason
    if stmt.not_principal is not None:
        if stmt.deny and has_boundary:
            return found, "not_principal_deny_with_boundary"
        if found is PrincipalMatch.NONE:
            return found, "principal_excluded_by_not_principal"
        return found, "principal_not_excluded"
    return found, "no_principal_element"


def _templated_resource(patterns: ArnPatterns, ctx: RequestContext) -> tuple[bool, bool]:
    if patterns.fixed and patterns.match_fixed(ctx.resource):
        return True, False
    return patterns.match_templates(ctx.resource, ctx.keys)


def resource_outcome(stmt: CompiledStatement, ctx: RequestContext) -> tuple[bool, str]:
    if stmt.resources is not None:
        matched, unresolved = _templated_resource(stmt.resources, ctx)
        if matched:
            return True, "resource_matched"
        return False, "unresolved_variable" if unresolved else "resource_mismatch"
    if stmt.not_resources is not None:
        matched, unresolved = _templated_resource(stmt.not_resources, ctx)
        if matched:
            return False, "resource_excluded_by_not_resource"
        return True, "resource_not_excluded"
    return True, "no_resource_element"


def applies(
    stmt: CompiledStatement, ctx: RequestContext, has_boundary: bool, check_principal: bool
) -> PrincipalMatch | None:
    """Fast path for a candidate statement (action and fixed resources already matched)."""
    found = PrincipalMatch.DIRECT
    if stmt.unconditional:
        return found
    if check_principal:
        found = principal_found(stmt, ctx.principal, has_boundary)
        if found is PrincipalMatch.NONE:
            return None
    if stmt.needs_resource_check and not resource_outcome(stmt, ctx)[0]:
        return None
    keys = ctx.keys
    for clause in stmt.conditions:
        if not clause.check(keys):
            return None
    return found


@dataclass(frozen=True, slots=True)
class ElementCheck:
    """One element's verdict: `element` names it (`Action`, `Condition.StringEquals.aws:SourceIp`, ...)."""

    element: str
    matched: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"element": self.element, "matched": self.matched, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class StatementMatch:
    ref: StatementRef
    effect: str
    applies: bool
    principal: PrincipalMatch
    checks: tuple[ElementCheck, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "statement": self.ref.to_json(),
            "effect": self.effect,
            "applies": self.applies,
            "principalMatch": self.principal.value,
            "checks": [c.to_json() for c in self.checks],
        }


def analyse(stmt: CompiledStatement, ctx: RequestContext, has_boundary: bool, check_principal: bool) -> StatementMatch:
    """Detailed path: every element is checked and recorded, nothing short-circuits."""
    checks: list[ElementCheck] = []
    found = PrincipalMatch.DIRECT
    if check_principal:
        found, reason = principal_outcome(stmt, ctx.principal, has_boundary)
        name = "NotPrincipal" if stmt.not_principal is not None else "Principal"
        checks.append(ElementCheck(name, found is not PrincipalMatch.NONE, reason))
    action_ok = stmt.action_matches(ctx.action_lower)
    name = "Action" if stmt.actions is not None else "NotAction"
    checks.append(ElementCheck(name, action_ok, _action_reason(stmt, action_ok)))
    resource_ok, reason = resource_outcome(stmt, ctx)
    checks.append(ElementCheck("NotResource" if stmt.not_resources else "Resource", resource_ok, reason))
    conditions_ok = _condition_checks(stmt, ctx.keys, checks)
    ok = found is not PrincipalMatch.NONE and action_ok and resource_ok and conditions_ok
    effect = "Deny" if stmt.deny else "Allow"
    return StatementMatch(stmt.ref, effect, ok, found if ok else PrincipalMatch.NONE, tuple(checks))


def _action_reason(stmt: CompiledStatement, matched: bool) -> str:
    if stmt.actions is not None:
        return "action_matched" if matched else "action_mismatch"
    return "action_not_excluded" if matched else "action_excluded_by_not_action"


def _condition_checks(stmt: CompiledStatement, keys: Mapping[str, tuple[str, ...]], checks: list[ElementCheck]) -> bool:
    ok = True
    for clause in stmt.conditions:
        result, reason = clause.evaluate(keys)
        element = f"Condition.{clause.clause.operator}.{clause.clause.key}"
        checks.append(ElementCheck(element, result and is_true(reason), reason.value))
        ok = ok and result
    return ok
