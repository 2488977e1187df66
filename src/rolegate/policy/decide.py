"""The AWS decision over the gates (evaluation.md §1-§3), returning a `Decision` that carries its reasons.

Order of the labels: an explicit Deny anywhere wins and is reported for the first gate holding one, in the
order rcp, scp, resource/trust, identity, boundary, session. Otherwise the first gate that is in force and
does not allow decides the implicit deny. The per-statement analysis of every gate is computed on first
access, from the same matchers as the decision, so fast decisions do not pay for explanations.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rolegate.policy.compile import StatementRef
from rolegate.policy.context import PrincipalKind, RequestContext
from rolegate.policy.gates import Gate, GateAnalysis, PolicySet, Scan, analyse_gate, scan
from rolegate.policy.match import PrincipalMatch

ASSUME_ROLE_ACTIONS = frozenset({"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity"})
IAM_KINDS = frozenset({PrincipalKind.USER, PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER})


class Result(enum.Enum):
    ALLOWED = "Allowed"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True)
class Decision:
    """The outcome, the deciding gate and statements, a stable reason code, and (lazily) every gate's analysis."""

    result: Result
    gate: Gate
    statements: tuple[StatementRef, ...]
    reason: str
    context: RequestContext = field(repr=False, compare=False)
    policies: PolicySet = field(repr=False, compare=False)
    errors: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.result is Result.ALLOWED

    @cached_property
    def analysis(self) -> tuple[GateAnalysis, ...]:
        return analyse_all(self.context, self.policies)

    def to_json(self) -> dict[str, Any]:
        return {
            "decision": self.result.value,
            "gate": self.gate.value,
            "reason": self.reason,
            "statements": [s.to_json() for s in self.statements],
        }


def resource_policy_required(ctx: RequestContext, resource_gate: Gate, has_resource_policy: bool) -> bool:
    """Role trust policies and KMS key policies must allow even in the same account (evaluation.md §2).

    A trust gate is closed even when no trust policy was handed in; a KMS key policy binds when given."""
    if resource_gate is Gate.TRUST or ctx.action_lower in ASSUME_ROLE_ACTIONS:
        return True
    return has_resource_policy and ctx.resource.split(":", 3)[2:3] == ["kms"]


DIRECT_ONLY = frozenset({PrincipalMatch.DIRECT})
ENTITY_ONLY = frozenset({PrincipalMatch.ENTITY})
DENY_ORDER = (Gate.RCP, Gate.SCP, None, Gate.IDENTITY, Gate.BOUNDARY, Gate.SESSION)  # None: the resource gate


def _allow_refs(scan_result: Scan, kinds: frozenset[PrincipalMatch] | None = None) -> tuple[StatementRef, ...]:
    allows = scan_result.allows
    if not allows:
        return ()
    if kinds is None:
        return tuple([s.ref for s, _ in allows])
    return tuple([s.ref for s, m in allows if m in kinds])


def authorize(ctx: RequestContext, policies: PolicySet) -> Decision:
    """Decide one request. Never raises for policy content: statement failures are recorded as errors."""
    principal = ctx.principal
    has_boundary = policies.boundary is not None
    resource_gate = policies.resource_gate
    if policies.resource is None and ctx.action_lower in ASSUME_ROLE_ACTIONS:
        resource_gate = Gate.TRUST  # a role with no trust policy in hand still has its trust gate closed
    rcp_levels = [scan(level, ctx, has_boundary) for level in policies.rcps] if policies.rcp_in_force(ctx) else None
    scp_levels = [scan(level, ctx, has_boundary) for level in policies.scps] if policies.scp_in_force(ctx) else None
    resource = scan((policies.resource,), ctx, has_boundary, True) if policies.resource is not None else Scan()
    identity = scan(policies.identity, ctx, has_boundary)
    boundary = scan((policies.boundary,), ctx, has_boundary) if policies.boundary is not None else None
    session = scan(policies.session, ctx, has_boundary) if policies.session else None
    by_gate = (rcp_levels or (), scp_levels or (), (resource,), (identity,), _some(boundary), _some(session))
    errors: list[str] = []
    denied = False
    for parts in by_gate:
        for part in parts:
            if part.errors:
                errors.extend(part.errors)
            denied = denied or bool(part.denies)

    def decision(result: Result, gate: Gate, refs: tuple[StatementRef, ...], reason: str) -> Decision:
        return Decision(result, gate, refs, reason, ctx, policies, tuple(errors))

    if denied:
        gate, refs = _first_explicit_deny(by_gate, resource_gate)
        return decision(Result.EXPLICIT_DENY, gate, refs, "explicit_deny")

    deny = Result.IMPLICIT_DENY
    if principal.kind is PrincipalKind.ROOT and ctx.action_lower in ASSUME_ROLE_ACTIONS:
        return decision(deny, Gate.TRUST, (), "root_cannot_assume_role")
    if rcp_levels is not None and not all(level.allows for level in rcp_levels):
        return decision(deny, Gate.RCP, (), "no_allow_at_every_rcp_level")
    if scp_levels is not None and not all(level.allows for level in scp_levels):
        return decision(deny, Gate.SCP, (), "no_allow_at_every_scp_level")

    if principal.kind is PrincipalKind.ROOT:
        direct = _allow_refs(resource, DIRECT_ONLY)
        if direct and not ctx.cross_account:
            return decision(Result.ALLOWED, resource_gate, direct, "allowed_by_resource_policy")
        if not ctx.cross_account and resource_gate is not Gate.TRUST:
            return decision(Result.ALLOWED, Gate.ROOT, (), "root_user")
        if resource.allows:
            return decision(Result.ALLOWED, resource_gate, _allow_refs(resource), "allowed_by_resource_policy")
        return decision(deny, resource_gate, (), "no_resource_policy_allow")

    if principal.kind not in IAM_KINDS:
        if resource.allows:
            return decision(Result.ALLOWED, resource_gate, _allow_refs(resource), "allowed_by_resource_policy")
        return decision(deny, resource_gate, (), "no_resource_policy_allow")

    has_resource_policy = policies.resource is not None
    return _decide_iam_principal(
        ctx, resource_gate, has_resource_policy, resource, identity, boundary, session, decision
    )


def _some(part: Scan | None) -> tuple[Scan, ...]:
    return () if part is None else (part,)


def _first_explicit_deny(
    by_gate: tuple[Sequence[Scan], ...], resource_gate: Gate
) -> tuple[Gate, tuple[StatementRef, ...]]:
    """The first gate, in evaluation order, holding an applicable Deny, with every such statement of it."""
    for gate, parts in zip(DENY_ORDER, by_gate, strict=True):
        refs = tuple(s.ref for part in parts for s in part.denies)
        if refs:
            return gate or resource_gate, refs
    raise AssertionError("called without an applicable Deny")


def _decide_iam_principal(
    ctx: RequestContext,
    resource_gate: Gate,
    has_resource_policy: bool,
    resource: Scan,
    identity: Scan,
    boundary: Scan | None,
    session: Scan | None,
    decision: Callable[[Result, Gate, tuple[StatementRef, ...], str], Decision],
) -> Decision:
    deny = Result.IMPLICIT_DENY
    principal = ctx.principal
    direct = _allow_refs(resource, DIRECT_ONLY)
    entity = _allow_refs(resource, ENTITY_ONLY)
    identity_refs = _allow_refs(identity)
    cross_account = ctx.cross_account
    if cross_account:
        if not resource.allows:
            return decision(deny, resource_gate, (), "cross_account_resource_side_does_not_allow")
        if not identity_refs:
            return decision(deny, Gate.IDENTITY, (), "cross_account_identity_side_does_not_allow")
    else:
        if direct:
            return decision(Result.ALLOWED, resource_gate, direct, "allowed_by_resource_policy_naming_caller")
        if resource_policy_required(ctx, resource_gate, has_resource_policy) and not resource.allows:
            return decision(deny, resource_gate, (), "trust_policy_does_not_allow")
        if not identity_refs and not entity:
            return decision(deny, Gate.IDENTITY, (), "no_identity_policy_allow")
    if boundary is not None and not boundary.allows:
        return decision(deny, Gate.BOUNDARY, (), "permissions_boundary_does_not_allow")
    if principal.is_session:
        if session is not None and not session.allows:
            return decision(deny, Gate.SESSION, (), "session_policy_does_not_allow")
        if session is None and principal.kind is PrincipalKind.FEDERATED_USER:
            return decision(deny, Gate.SESSION, (), "federated_user_without_session_policy")
    if cross_account:
        return decision(Result.ALLOWED, Gate.IDENTITY, identity_refs + _allow_refs(resource), "allowed_cross_account")
    if identity_refs:
        return decision(Result.ALLOWED, Gate.IDENTITY, identity_refs, "allowed_by_identity_policy")
    return decision(Result.ALLOWED, resource_gate, entity, "allowed_by_resource_policy_naming_entity")


def analyse_all(ctx: RequestContext, policies: PolicySet) -> tuple[GateAnalysis, ...]:
    has_boundary = policies.boundary is not None
    gates: list[GateAnalysis] = []
    if policies.rcps:
        gates.append(analyse_gate(Gate.RCP, policies.rcps, ctx, policies.rcp_in_force(ctx), has_boundary))
    if policies.scps:
        gates.append(analyse_gate(Gate.SCP, policies.scps, ctx, policies.scp_in_force(ctx), has_boundary))
    if policies.resource is not None:
        gates.append(analyse_gate(policies.resource_gate, ((policies.resource,),), ctx, True, has_boundary))
    gates.append(analyse_gate(Gate.IDENTITY, (policies.identity,), ctx, True, has_boundary))
    if policies.boundary is not None:
        gates.append(analyse_gate(Gate.BOUNDARY, ((policies.boundary,),), ctx, True, has_boundary))
    if policies.session:
        gates.append(analyse_gate(Gate.SESSION, (policies.session,), ctx, True, has_boundary))
    return tuple(gates)
