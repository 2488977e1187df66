"""The AWS decision over the gates (evaluation.md §1-§3), returning a `Decision` that carries its reasons.

Order of the labels: an explicit Deny anywhere wins and is reported for the first gate holding one, in the
order rcp, scp, resource/trust, identity, boundary, session. Otherwise the first gate that is in force and
does not allow decides the implicit deny. The per-statement analysis of every gate is computed on first
access, from the same matchers as the decision, so fast decisions do not pay for explanations. A request
whose outcome needed nothing but its principal, action, resource and resource account (no candidate
statement had a condition, principal element or templated resource to check) has it kept with the PolicySet.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from rolegate.policy.compile import StatementRef
from rolegate.policy.context import Principal, PrincipalKind, RequestContext
from rolegate.policy.gates import NO_SCAN, Gate, GateAnalysis, PolicySet, Scan, analyse_gate, scan
from rolegate.policy.match import PrincipalMatch

_SET = object.__setattr__
ASSUME_ROLE_ACTIONS = frozenset({"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity"})


class Result(enum.Enum):
    ALLOWED = "Allowed"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True, init=False)
class Decision:
    """The outcome, the deciding gate and statements, a stable reason code, and (lazily) every gate's analysis.

    A decision is made for every request, so `__init__` stores the fields as one instance dict instead of the
    frozen dataclass's object.__setattr__ per field (`analysis` is a cached_property: the instance has a dict).
    """

    result: Result
    gate: Gate
    statements: tuple[StatementRef, ...]
    reason: str
    context: RequestContext = field(repr=False, compare=False)
    policies: PolicySet = field(repr=False, compare=False)
    errors: tuple[str, ...] = ()

    def __init__(
        self,
        result: Result,
        gate: Gate,
        statements: tuple[StatementRef, ...],
        reason: str,
        context: RequestContext,
        policies: PolicySet,
        errors: tuple[str, ...] = (),
    ) -> None:
        _SET(
            self,
            "__dict__",
            {
                "result": result,
                "gate": gate,
                "statements": statements,
                "reason": reason,
                "context": context,
                "policies": policies,
                "errors": errors,
            },
        )

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


_STORED = ("result", "gate", "statements", "reason", "context", "policies", "errors")
if tuple(f.name for f in fields(Decision)) != _STORED:  # a field added later must be stored by __init__ too
    raise TypeError(f"Decision.__init__ stores {_STORED}, not every field")


def resource_policy_required(ctx: RequestContext, resource_gate: Gate, has_resource_policy: bool) -> bool:
    """Role trust policies and KMS key policies must allow even in the same account (evaluation.md §2).

    A trust gate is closed even when no trust policy was handed in; a KMS key policy binds when given."""
    if resource_gate is Gate.TRUST or ctx.action_lower in ASSUME_ROLE_ACTIONS:
        return True
    return has_resource_policy and ctx.resource.split(":", 3)[2:3] == ["kms"]


DENY_ORDER = (Gate.RCP, Gate.SCP, None, Gate.IDENTITY, Gate.BOUNDARY, Gate.SESSION)  # None: the resource gate


def _allow_refs(scan_result: Scan, kind: PrincipalMatch | None = None) -> tuple[StatementRef, ...]:
    allows = scan_result.allows
    if not allows:
        return ()
    if kind is None:
        return tuple([s.ref for s, _ in allows])
    return tuple([s.ref for s, m in allows if m is kind])


# A server keeps a PolicySet per caller and resource-side policies, so this bounds verdicts per caller.
VERDICTS_PER_POLICY_SET = 256


def authorize(ctx: RequestContext, policies: PolicySet) -> Decision:
    """Decide one request. Never raises for policy content: statement failures are recorded as errors.

    When no scanned gate had anything left to check (no candidate statement with a condition, a principal
    element or a templated resource), the outcome follows from the principal, the action, the resource and
    the resource account alone: it is kept with the PolicySet (for that very principal object), so the same
    request again only builds its Decision."""
    verdicts = policies.verdicts
    if verdicts:  # else nothing to look up: a PolicySet whose requests need their keys never builds the key
        kept = kept_verdict(policies, ctx.principal, ctx.action_lower, ctx.resource, ctx.resource_account)
        if kept is not None:
            return Decision(*kept, ctx, policies)
    decision, fixed = _evaluate(ctx, policies)
    if fixed:  # and so without errors
        if len(verdicts) >= VERDICTS_PER_POLICY_SET:
            verdicts.clear()
        key = (ctx.action_lower, ctx.resource, ctx.resource_account)
        verdicts[key] = (ctx.principal, decision.result, decision.gate, decision.statements, decision.reason)
    return decision


def kept_verdict(
    policies: PolicySet, principal: Principal, action_lower: str, resource: str, resource_account: str
) -> tuple[Result, Gate, tuple[StatementRef, ...], str] | None:
    """(result, gate, statements, reason) that `authorize` kept for this request, if any. Such a decision
    reads nothing of the context but these, so a server that finds one may hand in condition keys merged
    only when read (`context.KeysOnRead`)."""
    kept = policies.verdicts.get((action_lower, resource, resource_account))
    if kept is None or kept[0] is not principal:
        return None
    return kept[1:]


def _evaluate(ctx: RequestContext, policies: PolicySet) -> tuple[Decision, bool]:
    """The decision from every gate's scan, and whether each scan was fixed (read nothing but the action and
    resource of the request)."""
    boundary_policy = policies.boundary
    has_boundary = boundary_policy is not None
    resource_gate = policies.resource_gate
    if policies.resource is None and ctx.action_lower in ASSUME_ROLE_ACTIONS:
        resource_gate = Gate.TRUST  # a role with no trust policy in hand still has its trust gate closed
    rcp_levels = None
    if policies.rcps and policies.rcp_in_force(ctx):
        rcp_levels = [scan(level, ctx, has_boundary) for level in policies.rcps]
    scp_levels = None
    if policies.scps and policies.scp_in_force(ctx):
        scp_levels = [scan(level, ctx, has_boundary) for level in policies.scps]
    resource = scan((policies.resource,), ctx, has_boundary, True) if policies.resource is not None else NO_SCAN
    identity = scan(policies.identity, ctx, has_boundary)
    boundary = scan((boundary_policy,), ctx, True) if boundary_policy is not None else None
    session = scan(policies.session, ctx, has_boundary) if policies.session else None
    # Every scan in evaluation order: errors are reported in this order.
    parts = [*rcp_levels] if rcp_levels else []
    if scp_levels:
        parts.extend(scp_levels)
    parts.append(resource)
    parts.append(identity)
    if boundary is not None:
        parts.append(boundary)
    if session is not None:
        parts.append(session)
    errors: tuple[str, ...] = ()
    denied = False
    fixed = True
    for part in parts:
        if part.errors:
            errors += tuple(part.errors)
        if part.denies:
            denied = True
        if not part.fixed:
            fixed = False
    if denied:
        by_gate = (rcp_levels or (), scp_levels or (), (resource,), (identity,), _some(boundary), _some(session))
        gate, refs = _first_explicit_deny(by_gate, resource_gate)
        return Decision(Result.EXPLICIT_DENY, gate, refs, "explicit_deny", ctx, policies, errors), fixed
    deny = Result.IMPLICIT_DENY
    kind = ctx.principal.kind
    if kind is PrincipalKind.ROOT and ctx.action_lower in ASSUME_ROLE_ACTIONS:
        return Decision(deny, Gate.TRUST, (), "root_cannot_assume_role", ctx, policies, errors), fixed
    if rcp_levels is not None and not all(level.allows for level in rcp_levels):
        return Decision(deny, Gate.RCP, (), "no_allow_at_every_rcp_level", ctx, policies, errors), fixed
    if scp_levels is not None and not all(level.allows for level in scp_levels):
        return Decision(deny, Gate.SCP, (), "no_allow_at_every_scp_level", ctx, policies, errors), fixed
    # Identity checks, not `in IAM_KINDS`: an enum's hash is a Python-level call.
    if kind is PrincipalKind.USER or kind is PrincipalKind.ROLE_SESSION or kind is PrincipalKind.FEDERATED_USER:
        decision = _decide_iam_principal(ctx, policies, errors, resource_gate, resource, identity, boundary, session)
    elif kind is PrincipalKind.ROOT:
        decision = _decide_root(ctx, policies, errors, resource_gate, resource)
    else:
        decision = _decide_by_resource_policy(ctx, policies, errors, resource_gate, resource)
    return decision, fixed


def _decide_root(
    ctx: RequestContext, policies: PolicySet, errors: tuple[str, ...], resource_gate: Gate, resource: Scan
) -> Decision:
    """The root user needs no identity policy in its own account, but a resource policy elsewhere."""
    direct = _allow_refs(resource, PrincipalMatch.DIRECT)
    if direct and not ctx.cross_account:
        return Decision(Result.ALLOWED, resource_gate, direct, "allowed_by_resource_policy", ctx, policies, errors)
    if not ctx.cross_account and resource_gate is not Gate.TRUST:
        return Decision(Result.ALLOWED, Gate.ROOT, (), "root_user", ctx, policies, errors)
    return _decide_by_resource_policy(ctx, policies, errors, resource_gate, resource)


def _decide_by_resource_policy(
    ctx: RequestContext, policies: PolicySet, errors: tuple[str, ...], resource_gate: Gate, resource: Scan
) -> Decision:
    """Principals outside IAM (services, web identities, anonymous callers), and the root user elsewhere."""
    if resource.allows:
        refs = _allow_refs(resource)
        return Decision(Result.ALLOWED, resource_gate, refs, "allowed_by_resource_policy", ctx, policies, errors)
    return Decision(Result.IMPLICIT_DENY, resource_gate, (), "no_resource_policy_allow", ctx, policies, errors)


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
    policies: PolicySet,
    errors: tuple[str, ...],
    resource_gate: Gate,
    resource: Scan,
    identity: Scan,
    boundary: Scan | None,
    session: Scan | None,
) -> Decision:
    deny = Result.IMPLICIT_DENY
    principal = ctx.principal
    identity_refs = _allow_refs(identity)
    cross_account = ctx.cross_account
    if cross_account:
        if not resource.allows:
            reason = "cross_account_resource_side_does_not_allow"
            return Decision(deny, resource_gate, (), reason, ctx, policies, errors)
        if not identity_refs:
            reason = "cross_account_identity_side_does_not_allow"
            return Decision(deny, Gate.IDENTITY, (), reason, ctx, policies, errors)
        entity: tuple[StatementRef, ...] = ()  # not needed across accounts
    elif resource.allows:
        direct = _allow_refs(resource, PrincipalMatch.DIRECT)
        if direct:
            reason = "allowed_by_resource_policy_naming_caller"
            return Decision(Result.ALLOWED, resource_gate, direct, reason, ctx, policies, errors)
        entity = _allow_refs(resource, PrincipalMatch.ENTITY)
        if not identity_refs and not entity:
            return Decision(deny, Gate.IDENTITY, (), "no_identity_policy_allow", ctx, policies, errors)
    else:  # the common case: nothing on the resource side names the caller
        if resource_policy_required(ctx, resource_gate, policies.resource is not None):
            return Decision(deny, resource_gate, (), "trust_policy_does_not_allow", ctx, policies, errors)
        entity = ()
        if not identity_refs:
            return Decision(deny, Gate.IDENTITY, (), "no_identity_policy_allow", ctx, policies, errors)
    if boundary is not None and not boundary.allows:
        return Decision(deny, Gate.BOUNDARY, (), "permissions_boundary_does_not_allow", ctx, policies, errors)
    if principal.kind is not PrincipalKind.USER:  # a session: role session or federated user
        if session is not None and not session.allows:
            return Decision(deny, Gate.SESSION, (), "session_policy_does_not_allow", ctx, policies, errors)
        if session is None and principal.kind is PrincipalKind.FEDERATED_USER:
            reason = "federated_user_without_session_policy"
            return Decision(deny, Gate.SESSION, (), reason, ctx, policies, errors)
    if cross_account:
        refs = identity_refs + _allow_refs(resource)
        return Decision(Result.ALLOWED, Gate.IDENTITY, refs, "allowed_cross_account", ctx, policies, errors)
    if identity_refs:
        reason = "allowed_by_identity_policy"
        return Decision(Result.ALLOWED, Gate.IDENTITY, identity_refs, reason, ctx, policies, errors)
    reason = "allowed_by_resource_policy_naming_entity"
    return Decision(Result.ALLOWED, resource_gate, entity, reason, ctx, policies, errors)


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
