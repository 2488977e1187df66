"""Differential test of the decision's fast path: `authorize` (shared scans of statements with nothing left to
check, verdicts kept with the PolicySet, Decisions and contexts stored by their own lean __init__, lazily
computed statement refs, principal checks without reason codes) gives exactly what a plain reference of the
same rules gives: result, gate, statements, reason, errors, context and explanation. The reference is written
for clarity, not speed: every gate is scanned into a fresh Scan, every statement is checked, every ref list
is computed up front, nothing is kept between requests."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from test_properties import ACCOUNT, CONTEXT_KEYS, OTHER_ACCOUNT, PRINCIPALS, SETTINGS, Doc, _decide, requests

from rolegate.policy import (
    Decision,
    Gate,
    LoadedRequest,
    PolicySet,
    PrincipalKind,
    RequestContext,
    Result,
    StatementRef,
    authorize,
    build_context,
    load_request,
    render_json,
    render_text,
)
from rolegate.policy.context import principal_keys, to_strings
from rolegate.policy.decide import ASSUME_ROLE_ACTIONS, resource_policy_required
from rolegate.policy.gates import Scan
from rolegate.policy.match import PrincipalMatch, principal_outcome, resource_outcome

IAM_KINDS = {PrincipalKind.USER, PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER}


def reference_scan(policies: Sequence[object], ctx: RequestContext, has_boundary: bool, principal: bool) -> Scan:
    result = Scan()
    for policy in policies:
        for stmt in policy.candidates(ctx.action_lower, ctx.resource):  # type: ignore[attr-defined]
            try:
                found = principal_outcome(stmt, ctx.principal, has_boundary)[0] if principal else PrincipalMatch.DIRECT
                ok = found is not PrincipalMatch.NONE and resource_outcome(stmt, ctx)[0]
                ok = ok and all(clause.evaluate(ctx.keys)[0] for clause in stmt.conditions)
            except Exception as error:
                result.errors.append(f"{stmt.ref}: {type(error).__name__}: {error}")
                continue
            if ok:
                if stmt.deny:
                    result.denies.append(stmt)
                else:
                    result.allows.append((stmt, found))
    return result


def refs(part: Scan, kinds: set[PrincipalMatch] | None = None) -> tuple[StatementRef, ...]:
    return tuple(s.ref for s, m in part.allows if kinds is None or m in kinds)


def reference_authorize(ctx: RequestContext, policies: PolicySet) -> Decision:
    principal = ctx.principal
    has_boundary = policies.boundary is not None
    resource_gate = policies.resource_gate
    if policies.resource is None and ctx.action_lower in ASSUME_ROLE_ACTIONS:
        resource_gate = Gate.TRUST
    rcps = (
        [reference_scan(lv, ctx, has_boundary, False) for lv in policies.rcps] if policies.rcp_in_force(ctx) else None
    )
    scps = (
        [reference_scan(lv, ctx, has_boundary, False) for lv in policies.scps] if policies.scp_in_force(ctx) else None
    )
    resource = reference_scan((policies.resource,), ctx, has_boundary, True) if policies.resource else Scan()
    identity = reference_scan(policies.identity, ctx, has_boundary, False)
    boundary = reference_scan((policies.boundary,), ctx, has_boundary, False) if policies.boundary else None
    session = reference_scan(policies.session, ctx, has_boundary, False) if policies.session else None
    by_gate = [
        (Gate.RCP, rcps or []),
        (Gate.SCP, scps or []),
        (resource_gate, [resource]),
        (Gate.IDENTITY, [identity]),
        (Gate.BOUNDARY, [boundary] if boundary else []),
        (Gate.SESSION, [session] if session else []),
    ]
    errors = tuple(e for _, parts in by_gate for part in parts for e in part.errors)

    def decision(result: Result, gate: Gate, statements: tuple[StatementRef, ...], reason: str) -> Decision:
        return Decision(result, gate, statements, reason, ctx, policies, errors)

    for gate, parts in by_gate:
        denies = tuple(s.ref for part in parts for s in part.denies)
        if denies:
            return decision(Result.EXPLICIT_DENY, gate, denies, "explicit_deny")
    deny = Result.IMPLICIT_DENY
    if principal.kind is PrincipalKind.ROOT and ctx.action_lower in ASSUME_ROLE_ACTIONS:
        return decision(deny, Gate.TRUST, (), "root_cannot_assume_role")
    if rcps is not None and not all(level.allows for level in rcps):
        return decision(deny, Gate.RCP, (), "no_allow_at_every_rcp_level")
    if scps is not None and not all(level.allows for level in scps):
        return decision(deny, Gate.SCP, (), "no_allow_at_every_scp_level")
    direct, entity, identity_refs = (
        refs(resource, {PrincipalMatch.DIRECT}),
        refs(resource, {PrincipalMatch.ENTITY}),
        refs(identity),
    )
    cross = ctx.cross_account
    if principal.kind is PrincipalKind.ROOT:
        if direct and not cross:
            return decision(Result.ALLOWED, resource_gate, direct, "allowed_by_resource_policy")
        if not cross and resource_gate is not Gate.TRUST:
            return decision(Result.ALLOWED, Gate.ROOT, (), "root_user")
        if resource.allows:
            return decision(Result.ALLOWED, resource_gate, refs(resource), "allowed_by_resource_policy")
        return decision(deny, resource_gate, (), "no_resource_policy_allow")
    if principal.kind not in IAM_KINDS:
        if resource.allows:
            return decision(Result.ALLOWED, resource_gate, refs(resource), "allowed_by_resource_policy")
        return decision(deny, resource_gate, (), "no_resource_policy_allow")
    if cross:
        if not resource.allows:
            return decision(deny, resource_gate, (), "cross_account_resource_side_does_not_allow")
        if not identity_refs:
            return decision(deny, Gate.IDENTITY, (), "cross_account_identity_side_does_not_allow")
    else:
        if direct:
            return decision(Result.ALLOWED, resource_gate, direct, "allowed_by_resource_policy_naming_caller")
        required = resource_policy_required(ctx, resource_gate, policies.resource is not None)
        if required and not resource.allows:
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
    if cross:
        return decision(Result.ALLOWED, Gate.IDENTITY, identity_refs + refs(resource), "allowed_cross_account")
    if identity_refs:
        return decision(Result.ALLOWED, Gate.IDENTITY, identity_refs, "allowed_by_identity_policy")
    return decision(Result.ALLOWED, resource_gate, entity, "allowed_by_resource_policy_naming_entity")


def plain_context(ctx: RequestContext) -> RequestContext:
    """The same request through the dataclass constructor, with keys merged the obvious way."""
    return RequestContext(
        ctx.principal, ctx.action, ctx.resource, ctx.resource_account, dict(ctx.keys), ctx.action.lower()
    )


def assert_same_outcome(fast: Decision, slow: Decision) -> None:
    assert (fast.result, fast.gate, fast.statements, fast.reason, fast.errors) == (
        slow.result,
        slow.gate,
        slow.statements,
        slow.reason,
        slow.errors,
    )


@SETTINGS
@given(requests())
def test_fast_decision_equals_the_reference(request: Doc) -> None:
    fast, ctx, policies = _decide(request)
    slow = reference_authorize(plain_context(ctx), policies)
    event(f"{fast.result.value} {fast.reason}")
    assert_same_outcome(fast, slow)
    assert fast == slow
    assert fast.context == slow.context
    assert list(fast.context.keys.items()) == list(slow.context.keys.items())
    assert fast.policies is slow.policies
    assert repr(fast) == repr(slow)
    assert render_json(fast) == render_json(slow)
    assert render_text(fast) == render_text(slow)
    assert fast.analysis == slow.analysis


@SETTINGS
@given(requests())
def test_a_context_from_prebuilt_pieces_equals_build_context(request: Doc) -> None:
    """build_context's merge order (derived, resource account, prepared, keys), including the key order."""
    _, ctx, _ = _decide(request)
    keys = {"aws:CurrentTime": "2026-01-01T00:00:00Z", "AWS:SourceIp": ["10.0.0.1"], "aws:principaltype": "x"}
    prepared = {"aws:viaawsservice": to_strings(False), "aws:resourceaccount": ("999999999999",)}
    plain = dict(principal_keys(ctx.principal, {}))
    account = ctx.resource_account
    if account:
        plain["aws:resourceaccount"] = (account,)
    plain.update(prepared)
    for name, value in keys.items():
        plain[name.lower()] = to_strings(value)
    built = build_context(
        ctx.principal, ctx.action, ctx.resource, resource_account=account, keys=keys, prepared=prepared
    )
    assert built == RequestContext(ctx.principal, ctx.action, ctx.resource, account, plain, ctx.action.lower())
    assert list(built.keys.items()) == list(plain.items())


def assert_decides_as_the_reference(ctx: RequestContext, policies: PolicySet) -> None:
    fast = authorize(ctx, policies)
    slow = reference_authorize(plain_context(ctx), policies)
    assert_same_outcome(fast, slow)
    assert fast.context is ctx
    assert fast.policies is policies
    assert render_json(fast) == render_json(slow)
    assert render_text(fast) == render_text(slow)


def loaded(request: Doc) -> LoadedRequest:
    found = load_request(request)
    assert found.context is not None and found.policies is not None, found.errors
    return found


@SETTINGS
@given(requests(), st.data())
def test_a_policy_set_deciding_again_decides_as_the_reference(request: Doc, data: st.DataObject) -> None:
    """A PolicySet keeps the outcome of a request whose gates had nothing left to check. The next request with
    it, for the same action, resource and resource account, is decided exactly as the reference decides it:
    from the same principal object with other condition keys (the kept verdict may serve it), or from
    another principal (it must not)."""
    _, ctx, policies = _decide(request)
    again = dict(request, context={k: v for k, v in CONTEXT_KEYS.items() if data.draw(st.booleans())})
    same_principal = data.draw(st.booleans())
    if not same_principal:
        kind = data.draw(st.sampled_from(sorted(PRINCIPALS)))
        again["principal"] = PRINCIPALS[kind](data.draw(st.sampled_from([ACCOUNT, OTHER_ACCOUNT])))
    other = loaded(again).context
    assert other is not None
    principal = ctx.principal if same_principal else other.principal
    next_ctx = RequestContext(principal, ctx.action, ctx.resource, ctx.resource_account, other.keys, ctx.action_lower)
    kept = policies.verdicts.get((ctx.action_lower, ctx.resource, ctx.resource_account))
    event("kept verdict for this principal" if kept is not None and kept[0] is principal else "evaluated")
    assert_decides_as_the_reference(next_ctx, policies)
    assert_decides_as_the_reference(next_ctx, policies)  # and once more, now that it may have been kept


def test_a_verdict_is_kept_only_when_nothing_was_left_to_check() -> None:
    request: Doc = {
        "principal": PRINCIPALS["user"](ACCOUNT),
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::bucket/key",
        "policies": {
            "identity": [
                {
                    "id": "plain",
                    "document": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}
                        ],
                    },
                }
            ]
        },
    }
    found = loaded(request)
    assert found.context is not None and found.policies is not None
    first = authorize(found.context, found.policies)
    assert first.allowed and list(found.policies.verdicts) == [("s3:getobject", "arn:aws:s3:::bucket/key", ACCOUNT)]
    assert authorize(found.context, found.policies) == first
    condition = {"Bool": {"aws:SecureTransport": "true"}}
    request["policies"]["identity"][0]["document"]["Statement"][0]["Condition"] = condition
    found = loaded(request)
    assert found.context is not None and found.policies is not None
    assert not authorize(found.context, found.policies).allowed
    assert found.policies.verdicts == {}


@pytest.mark.parametrize("cls", [Decision, RequestContext])
def test_the_lean_constructors_store_every_field_and_stay_frozen(cls: type) -> None:
    values: dict[str, Any] = {f.name: object() for f in dataclasses.fields(cls) if f.init}
    made = cls(**values)
    assert {name: getattr(made, name) for name in values} == values
    for name in values:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(made, name, "changed")
    assert dataclasses.replace(made) == made
