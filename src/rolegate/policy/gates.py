"""The gates of an AWS decision and the policies in each; one scan function shared by all of them.

A request's policy slice is handed in as a `PolicySet` of compiled policies. Which gates are in force
depends on the caller and the organization: SCPs bind principals of member accounts (never the management
account, never AWS services), RCPs bind resources of member accounts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from rolegate.policy.compile import CompiledPolicy, CompiledStatement
from rolegate.policy.context import PrincipalKind, RequestContext
from rolegate.policy.match import PrincipalMatch, StatementMatch, analyse, applies


class Gate(enum.Enum):
    RCP = "rcp"
    SCP = "scp"
    RESOURCE = "resource"
    TRUST = "trust"
    IDENTITY = "identity"
    BOUNDARY = "boundary"
    SESSION = "session"
    ROOT = "root"


NOT_ORG_BOUND = frozenset({PrincipalKind.SERVICE, PrincipalKind.WEB_IDENTITY, PrincipalKind.ANONYMOUS})


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every policy that can bear on one request, grouped by gate. Empty means the gate is not in force."""

    identity: tuple[CompiledPolicy, ...] = ()
    resource: CompiledPolicy | None = None
    resource_gate: Gate = Gate.RESOURCE
    boundary: CompiledPolicy | None = None
    session: tuple[CompiledPolicy, ...] = ()
    scps: tuple[tuple[CompiledPolicy, ...], ...] = ()
    rcps: tuple[tuple[CompiledPolicy, ...], ...] = ()
    management_account: str = ""
    # (action, resource, resource account) -> (principal, result, gate, statements, reason) of a decision that
    # needed nothing of the request beyond those (decide.authorize keeps them); not part of the value
    verdicts: dict[tuple[str, str, str], tuple[Any, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def scp_in_force(self, ctx: RequestContext) -> bool:
        principal = ctx.principal
        return (
            bool(self.scps)
            and principal.kind not in NOT_ORG_BOUND
            and principal.account != self.management_account
            and not is_service_linked_role(ctx)
        )

    def rcp_in_force(self, ctx: RequestContext) -> bool:
        return bool(self.rcps) and ctx.resource_account != self.management_account and not is_service_linked_role(ctx)


def is_service_linked_role(ctx: RequestContext) -> bool:
    """Service-linked roles (path /aws-service-role/) are outside SCPs and RCPs (evaluation.md §1)."""
    principal = ctx.principal
    return principal.kind is PrincipalKind.ROLE_SESSION and ":role/aws-service-role/" in principal.entity_arn


@dataclass(slots=True)
class Scan:
    """Applicable statements of one gate (or one SCP/RCP level). `fixed`: found without reading anything of the
    request but its action and resource (every candidate had nothing left to check)."""

    allows: list[tuple[CompiledStatement, PrincipalMatch]] = field(default_factory=list)
    denies: list[CompiledStatement] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    fixed: bool = False


NO_SCAN = Scan(fixed=True)  # a gate where nothing applies; shared, never changed


def scan(
    policies: tuple[CompiledPolicy, ...],
    ctx: RequestContext,
    has_boundary: bool,
    check_principal: bool = False,
) -> Scan:
    """The applicable statements of one gate (or level), to be read, never changed. A gate of one policy whose
    candidates have nothing left to check gets the scan kept with them (NO_SCAN when there are none), so the
    common request builds no Scan and checks no statement."""
    action, resource = ctx.action_lower, ctx.resource
    if len(policies) == 1:
        found = policies[0].lookup(action, resource)
        if not found.statements:
            return NO_SCAN
        if found.unconditional:
            kept: Scan | None = found.scan
            if kept is None:
                kept = found.scan = _unconditional_scan(found.statements)
            return kept
    result = Scan()
    fixed = True
    for policy in policies:
        for stmt in policy.lookup(action, resource).statements:
            if stmt.unconditional:  # what `applies` answers first, without the call
                matched = PrincipalMatch.DIRECT
            else:
                fixed = False
                try:
                    answer = applies(stmt, ctx, has_boundary, check_principal)
                except Exception as error:  # a statement that cannot be evaluated never matches
                    result.errors.append(f"{stmt.ref}: {type(error).__name__}: {error}")
                    continue
                if answer is None:
                    continue
                matched = answer
            if stmt.deny:
                result.denies.append(stmt)
            else:
                result.allows.append((stmt, matched))
    result.fixed = fixed
    return result


def _unconditional_scan(statements: tuple[CompiledStatement, ...]) -> Scan:
    allows = [(s, PrincipalMatch.DIRECT) for s in statements if not s.deny]
    return Scan(allows, [s for s in statements if s.deny], [], True)


@dataclass(frozen=True, slots=True)
class PolicyAnalysis:
    policy: str
    level: int | None
    statements: tuple[StatementMatch, ...]


@dataclass(frozen=True, slots=True)
class GateAnalysis:
    """Every statement of every policy in a gate, analysed element by element."""

    gate: Gate
    in_force: bool
    policies: tuple[PolicyAnalysis, ...]
    level_allows: tuple[bool, ...] = ()

    @property
    def allows(self) -> bool:
        """SCP/RCP gates need an Allow at every level of the organization path; other gates at least one."""
        if self.level_allows:
            return all(self.level_allows)
        return any(m.applies and m.effect == "Allow" for p in self.policies for m in p.statements)


def analyse_gate(
    gate: Gate,
    levels: tuple[tuple[CompiledPolicy, ...], ...],
    ctx: RequestContext,
    in_force: bool,
    has_boundary: bool,
) -> GateAnalysis:
    check_principal = gate in (Gate.RESOURCE, Gate.TRUST)
    numbered = len(levels) > 1 or gate in (Gate.SCP, Gate.RCP)
    analyses = tuple(
        PolicyAnalysis(
            policy.policy_id,
            level if numbered else None,
            tuple(analyse(s, ctx, has_boundary, check_principal) for s in policy.statements),
        )
        for level, policies in enumerate(levels)
        for policy in policies
    )
    level_allows: tuple[bool, ...] = ()
    if gate in (Gate.SCP, Gate.RCP):
        level_allows = tuple(
            any(m.applies and m.effect == "Allow" for p in analyses if p.level == level for m in p.statements)
            for level in range(len(levels))
        )
    return GateAnalysis(gate, in_force, analyses, level_allows)
