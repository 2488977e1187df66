"""The IAM policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy) and context-key discovery.

Simulation runs the enforcement engine on the slice enforcement would gather: the principal's stored
policies (a user's include its groups'), its permissions boundary and its account's SCPs, plus what the
request adds, so its results agree with what a real call decides for the same inputs. Only ContextEntries
(and the keys that follow from the principal) are in the request context; MissingContextValues names the
condition keys the evaluated statements lacked. Deliberately unlike AWS, for `sts:AssumeRole*` a
ResourcePolicy that is a trust policy (every statement has a Principal and no Resource) is evaluated as the
role's trust gate, and without a ResourcePolicy the stored trust policy of a role of the caller's account
named in ResourceArns is used: the engine, like IAM, never lets an identity policy alone assume a role.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from rolegate.policy import (
    Decision,
    Gate,
    GateAnalysis,
    PolicyKind,
    PolicySet,
    Principal,
    PrincipalKind,
    RequestContext,
    Result,
    StatementRef,
    authorize,
    build_context,
    parse_policy,
    principal_from_arn,
)
from rolegate.services.context import CallContext
from rolegate.services.iam.attachments import Entity
from rolegate.services.iam.common import (
    account_of,
    account_resource,
    checked_document,
    get_group,
    get_role,
    get_user,
    paginate,
)
from rolegate.services.iam.errors import InvalidInput, MalformedPolicyDocument
from rolegate.services.identity import role_arn, user_arn
from rolegate.services.organization import SCP, policy_levels
from rolegate.services.policies import AWS_POLICY_PREFIX, managed_document, owner_documents, user_documents
from rolegate.services.registry import operation
from rolegate.store.records import Group, Role, User

ASSUME_ROLE_ACTIONS = frozenset({"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity"})
DECISIONS = {Result.ALLOWED: "allowed", Result.EXPLICIT_DENY: "explicitDeny", Result.IMPLICIT_DENY: "implicitDeny"}
SOURCE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):(user|group|role)/(?:[!-~]*/)?([\w+=,.@-]+)$")
OWNER = re.compile(r"^(?:arn:aws[\w-]*:iam::)?(\d{12})(?::root)?$")
STATEMENT_KEY = re.compile(r'"Statement"\s*:\s*')  # a validated policy has no other member of that name
SIMULATED_SESSION = "simulation"
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


@dataclass(frozen=True, slots=True)
class Source:
    """One policy in a simulation: its id for the engine, how MatchedStatements names it, and its text."""

    engine_id: str
    source_id: str
    source_type: str
    text: str


@dataclass
class Simulation:
    """Everything a simulation request evaluates, fixed before the action × resource loop."""

    principal: Principal
    tags: dict[str, str]
    identity: list[Source]
    boundary: Source | None = None
    resource: Source | None = None
    resource_is_trust: bool = False
    scps: list[list[Source]] = field(default_factory=list)
    management: str = ""
    owner: str = ""
    keys: dict[str, Any] = field(default_factory=dict)


def _inputs(params: dict[str, Any], key: str, kind: PolicyKind) -> list[Source]:
    """Policies given in the request; bad ones are InvalidInput (the model has no MalformedPolicyDocument)."""
    sources: list[Source] = []
    for number, text in enumerate(params.get(key) or [], 1):
        try:
            sources.append(Source(f"{key}.{number}", f"{key}.{number}", "none", checked_document(text, kind)))
        except MalformedPolicyDocument as error:
            raise InvalidInput(error.message) from error
    return sources


def _is_trust_policy(text: str) -> bool:
    policy = parse_policy(text).policy
    statements = policy.statements if policy is not None else ()
    return bool(statements) and all(
        s.principal is not None and s.resource is None and s.not_resource is None for s in statements
    )


def _context_keys(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """ContextEntries as engine keys: list types (or several values) are multivalued, booleans lower-cased."""
    keys: dict[str, Any] = {}
    for entry in entries:
        name, kind = entry.get("ContextKeyName"), str(entry.get("ContextKeyType") or "string")
        values = [str(v).lower() if kind.startswith("boolean") else str(v) for v in entry.get("ContextKeyValues", [])]
        if name and (kind.endswith("List") or len(values) > 1):
            keys[name] = values
        elif name and values:
            keys[name] = values[0]
    return keys


def _request_parts(params: dict[str, Any]) -> dict[str, Any]:
    """ResourcePolicy (and whether it is a trust policy), ResourceOwner's account and the context keys."""
    owner = str(params.get("ResourceOwner") or "")
    found = OWNER.match(owner)
    if owner and found is None:
        raise InvalidInput(f"ARN {owner} is not valid.")
    parts: dict[str, Any] = {"owner": found.group(1) if found else ""}
    parts["keys"] = _context_keys(params.get("ContextEntries") or [])
    text = params.get("ResourcePolicy")
    if text:
        parts["resource_is_trust"] = trust = _is_trust_policy(text)
        kind = PolicyKind.TRUST if trust else PolicyKind.RESOURCE
        checked = _inputs({"ResourcePolicy": [text]}, "ResourcePolicy", kind)[0].text
        parts["resource"] = Source("ResourcePolicy", "ResourcePolicy", "resource", checked)
    return parts


def _boundary(call: CallContext, params: dict[str, Any], stored_arn: str) -> Source | None:
    """A PermissionsBoundaryPolicyInputList entry replaces the stored boundary, as in AWS."""
    given = _inputs(params, "PermissionsBoundaryPolicyInputList", PolicyKind.BOUNDARY)
    if len(given) > 1:
        raise InvalidInput("You can input only one permissions boundary policy.")
    if given:
        return given[0]
    text = managed_document(call.tx, stored_arn) if stored_arn else None
    return _stored_source(stored_arn, text) if text is not None else None


def _stored_source(engine_id: str, text: str) -> Source:
    """Managed policies are named by policy name and aws-managed/user-managed, inline ones by their owner kind."""
    if engine_id.startswith("arn:"):
        kind = "aws-managed" if engine_id.startswith(AWS_POLICY_PREFIX + "/") else "user-managed"
        return Source(engine_id, engine_id.rsplit("/", 1)[-1], kind, text)
    owner_kind, _, rest = engine_id.partition("/")
    return Source(engine_id, rest.partition("/")[2], owner_kind, text)


def _source_entity(call: CallContext, arn: str) -> tuple[str, Entity]:
    match = SOURCE_ARN.match(arn)
    if match is None or match.group(1) != account_of(call):
        raise InvalidInput(f"ARN {arn} is not valid.")
    _, kind, name = match.groups()
    if kind == "user":
        return kind, get_user(call, name)
    return kind, get_group(call, name) if kind == "group" else get_role(call, name)


def _excluded(params: dict[str, Any]) -> tuple[set[str], bool]:
    """PolicyExclusionList as lower-cased engine ids of stored policies, and whether the boundary is left out."""
    ids: set[str] = set()
    boundary = False
    for item in params.get("PolicyExclusionList") or []:
        boundary = boundary or item.get("PolicyType") == "permission-boundary"
        if item.get("PolicyArn") and item.get("PolicyType") != "permission-boundary":
            ids.add(str(item["PolicyArn"]).lower())
        if inline := item.get("InlinePolicyIdentifier"):
            ids.add(f"{inline['AttachmentType']}/{inline['AttachmentName']}/{inline['PolicyName']}".lower())
    return ids, boundary


def _stored_identity(call: CallContext, kind: str, entity: Entity) -> list[Source]:
    if kind == "user":
        documents = user_documents(call.tx, entity.account_id, entity.name)
    else:
        documents = owner_documents(call.tx, entity.account_id, kind, entity.name)
    return [_stored_source(engine_id, text) for engine_id, text in documents]


def _principal(call: CallContext, arn: str) -> tuple[Principal, dict[str, str]]:
    """The simulated caller from an ARN, completed (unique id, role path, tags) for entities of this account."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] not in ("iam", "sts"):
        raise InvalidInput(f"ARN {arn} is not valid.")
    base = principal_from_arn(arn)
    known = base.account == account_of(call)
    user = call.tx.get(User, base.account, base.name) if known and base.kind is PrincipalKind.USER else None
    if user is not None:
        return principal_from_arn(arn, unique_id=user.user_id), dict(user.tags)
    role_name = base.entity_arn.rsplit("/", 1)[-1]
    role = call.tx.get(Role, base.account, role_name) if known and base.kind is PrincipalKind.ROLE_SESSION else None
    if role is not None:
        return principal_from_arn(arn, entity_arn=role_arn(role), unique_id=role.role_id), dict(role.tags)
    return base, {}


def _caller(call: CallContext, params: dict[str, Any], entity: Entity | None) -> tuple[Principal, dict[str, str]]:
    """CallerArn; else the source user itself, a session of the source role, or no particular caller."""
    if params.get("CallerArn"):
        return _principal(call, str(params["CallerArn"]))
    if isinstance(entity, User):
        return _principal(call, user_arn(entity))
    if isinstance(entity, Role):
        session = f"arn:aws:sts::{entity.account_id}:assumed-role/{entity.name}/{SIMULATED_SESSION}"
        return principal_from_arn(session, entity_arn=role_arn(entity), unique_id=entity.role_id), dict(entity.tags)
    return Principal(PrincipalKind.USER, "", account_of(call)), {}


def _principal_simulation(call: CallContext, params: dict[str, Any], kind: str, entity: Entity) -> Simulation:
    excluded, boundary_excluded = _excluded(params)
    identity = [s for s in _stored_identity(call, kind, entity) if s.engine_id.lower() not in excluded]
    identity += _inputs(params, "PolicyInputList", PolicyKind.IDENTITY)
    stored_boundary = "" if isinstance(entity, Group) or boundary_excluded else entity.permissions_boundary
    levels, management = policy_levels(call.tx, entity.account_id, SCP)
    scps = [[Source(f"scp/{name}", name, "none", text) for name, text in level] for level in levels]
    principal, tags = _caller(call, params, entity)
    boundary = _boundary(call, params, stored_boundary)
    return Simulation(principal, tags, identity, boundary, scps=scps, management=management, **_request_parts(params))


def _custom_simulation(call: CallContext, params: dict[str, Any]) -> Simulation:
    scps: list[list[Source]] = []
    for number, level in enumerate(params.get("OrderedOrganizationPolicyInputList") or [], 1):
        key = f"OrderedOrganizationPolicyInputList.{number}.ServiceControlPolicyInputList"
        scps.append(_inputs({key: level.get("ServiceControlPolicyInputList")}, key, PolicyKind.SCP))
    identity = _inputs(params, "PolicyInputList", PolicyKind.IDENTITY)
    principal, tags = _caller(call, params, None)
    return Simulation(principal, tags, identity, _boundary(call, params, ""), scps=scps, **_request_parts(params))


def _resource_gate(call: CallContext, sim: Simulation, action: str, resource: str) -> tuple[Source | None, bool]:
    """The resource-side policy and whether it is a trust gate (see the module docstring)."""
    assume = action.lower() in ASSUME_ROLE_ACTIONS
    if sim.resource is not None or not assume:
        return sim.resource, sim.resource_is_trust and assume
    match = SOURCE_ARN.match(resource)
    if match is None or match.group(2) != "role" or match.group(1) != account_of(call):
        return None, True
    role = call.tx.get(Role, match.group(1), match.group(3))
    if role is None:
        return None, True
    return Source(f"{role_arn(role)}#trust", "AssumeRolePolicyDocument", "resource", role.trust_policy), True


def _context(sim: Simulation, action: str, resource: str) -> RequestContext:
    """The request context; principal keys without a value (no particular caller) are left out."""
    parts = resource.split(":", 5)
    owner = "" if len(parts) == 6 and parts[4] else sim.owner
    ctx = build_context(sim.principal, action, resource, resource_account=owner, keys=sim.keys, tags=sim.tags)
    return replace(ctx, keys={k: v for k, v in ctx.keys.items() if v != ("",)})


def _evaluate(call: CallContext, sim: Simulation, action: str, resource: str) -> dict[str, Any]:
    resource_source, trust = _resource_gate(call, sim, action, resource)
    cache = call.authorizer.cache
    policies = PolicySet(
        identity=cache.many([(s.engine_id, s.text) for s in sim.identity]),
        resource=cache.get(resource_source.engine_id, resource_source.text) if resource_source else None,
        resource_gate=Gate.TRUST if trust else Gate.RESOURCE,
        boundary=cache.get(sim.boundary.engine_id, sim.boundary.text) if sim.boundary else None,
        scps=tuple(cache.many([(s.engine_id, s.text) for s in level]) for level in sim.scps),
        management_account=sim.management,
    )
    given = [*sim.identity, *filter(None, (sim.boundary, resource_source)), *(s for lvl in sim.scps for s in lvl)]
    return _result(authorize(_context(sim, action, resource), policies), {s.engine_id: s for s in given})


def _gate_decision(gate: GateAnalysis) -> str:
    if any(m.applies and m.effect == "Deny" for p in gate.policies for m in p.statements):
        return "explicitDeny"
    return "allowed" if gate.allows else "implicitDeny"


def _result(decision: Decision, sources: dict[str, Source]) -> dict[str, Any]:
    """One EvaluationResult; EvalDecisionDetails gives each gate's own verdict when a resource is named."""
    ctx = decision.context
    out: dict[str, Any] = {
        "EvalActionName": ctx.action,
        "EvalResourceName": ctx.resource,
        "EvalDecision": DECISIONS[decision.result],
        "MatchedStatements": [_statement_out(r, sources[r.policy]) for r in decision.statements if r.policy in sources],
        "MissingContextValues": _missing_keys(ctx, decision.policies),
    }
    gates = {g.gate: _gate_decision(g) for g in decision.analysis if g.in_force}
    if Gate.SCP in gates:
        out["OrganizationsDecisionDetail"] = {"AllowedByOrganizations": gates[Gate.SCP] == "allowed"}
    if Gate.BOUNDARY in gates:
        out["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": gates[Gate.BOUNDARY] == "allowed"}
    if ctx.resource != "*":
        out["EvalDecisionDetails"] = {gate.value: verdict for gate, verdict in gates.items()}
    return out


def _position(text: str, offset: int) -> dict[str, int]:
    """1-based line and column of a character offset."""
    return {"Line": text.count("\n", 0, offset) + 1, "Column": offset - text.rfind("\n", 0, offset)}


def _statement_out(ref: StatementRef, source: Source) -> dict[str, Any]:
    out: dict[str, Any] = {"SourcePolicyId": source.source_id, "SourcePolicyType": source.source_type}
    spans = statement_spans(source.text)
    if ref.index < len(spans):
        start, end = spans[ref.index]
        out["StartPosition"], out["EndPosition"] = _position(source.text, start), _position(source.text, end)
    return out


def statement_spans(text: str) -> list[tuple[int, int]]:
    """Offsets of each statement's opening and closing brace, in document order; [] when unreadable."""
    found = STATEMENT_KEY.search(text)
    try:
        return _statement_items(text, found.end()) if found else []
    except (ValueError, IndexError):
        return []


def _statement_items(text: str, index: int) -> list[tuple[int, int]]:
    if text[index] == "{":
        return [(index, _DECODER.raw_decode(text, index)[1] - 1)]
    spans: list[tuple[int, int]] = []
    index = _skip(text, index + 1)
    while text[index] != "]":
        end = _DECODER.raw_decode(text, index)[1]
        spans.append((index, end - 1))
        index = _skip(text, end)
        index = _skip(text, index + 1) if text[index] == "," else index
    return spans


def _skip(text: str, index: int) -> int:
    found = _SPACE.match(text, index)
    return found.end() if found else index


def _condition_keys(statements: Iterable[Any]) -> list[str]:
    """The distinct condition keys (case-insensitively; first spelling kept), sorted."""
    found: dict[str, str] = {}
    for statement in statements:
        for clause in statement.conditions:
            found.setdefault(clause.key.lower(), clause.key)
    return [found[k] for k in sorted(found)]


def _missing_keys(ctx: RequestContext, policies: PolicySet) -> list[str]:
    """Condition keys of the statements matching this action and resource that the context lacks."""
    compiled = [*policies.identity, *filter(None, (policies.resource, policies.boundary))]
    compiled += [p for level in policies.scps for p in level]
    statements = (s.statement for p in compiled for s in p.candidates(ctx.action_lower, ctx.resource))
    return [key for key in _condition_keys(statements) if ctx.get(key) is None]


def _run(call: CallContext, sim: Simulation, params: dict[str, Any]) -> dict[str, Any]:
    resources = params.get("ResourceArns") or ["*"]
    results = [_evaluate(call, sim, action, resource) for action in params["ActionNames"] for resource in resources]
    return paginate(results, params, "EvaluationResults", lambda result: result)


def _source_resource(call: CallContext, params: dict[str, Any]) -> str:
    return str(params["PolicySourceArn"])


@operation("iam", "SimulatePrincipalPolicy", resource=_source_resource)
def simulate_principal_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    kind, entity = _source_entity(call, params["PolicySourceArn"])
    return _run(call, _principal_simulation(call, params, kind, entity), params)


@operation("iam", "SimulateCustomPolicy", resource=account_resource)
def simulate_custom_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return _run(call, _custom_simulation(call, params), params)


def _keys_of(sources: Iterable[Source | None]) -> dict[str, Any]:
    parsed = (parse_policy(source.text).policy for source in sources if source is not None)
    return {"ContextKeyNames": _condition_keys(s for p in parsed if p is not None for s in p.statements)}


@operation("iam", "GetContextKeysForPrincipalPolicy", resource=account_resource)
def get_context_keys_for_principal_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    kind, entity = _source_entity(call, params["PolicySourceArn"])
    sources = _stored_identity(call, kind, entity) + _inputs(params, "PolicyInputList", PolicyKind.IDENTITY)
    boundary = _boundary(call, {}, "" if isinstance(entity, Group) else entity.permissions_boundary)
    return _keys_of([*sources, boundary])


@operation("iam", "GetContextKeysForCustomPolicy", resource=account_resource)
def get_context_keys_for_custom_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return _keys_of(_inputs(params, "PolicyInputList", PolicyKind.IDENTITY))
