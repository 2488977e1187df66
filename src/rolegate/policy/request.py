"""The JSON authorization-request format (docs/request-format.md) -> RequestContext + PolicySet.

This is how the CLI and the test corpus hand a whole request to the engine as one value. Problems are
collected as PolicyErrors with JSON paths; nothing raises on bad input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from rolegate.policy.compile import CompiledPolicy, compile_policy
from rolegate.policy.context import (
    ContextValue,
    Principal,
    PrincipalKind,
    RequestContext,
    build_context,
    principal_from_arn,
)
from rolegate.policy.document import PolicyKind
from rolegate.policy.errors import PolicyError
from rolegate.policy.gates import Gate, PolicySet
from rolegate.policy.parse import parse_policy
from rolegate.policy.validate import validate_document


@dataclass(frozen=True, slots=True)
class LoadedRequest:
    context: RequestContext | None
    policies: PolicySet | None
    errors: tuple[PolicyError, ...]


def load_request(data: Any) -> LoadedRequest:
    errors: list[PolicyError] = []
    if not isinstance(data, Mapping):
        return LoadedRequest(None, None, (PolicyError("", "The request must be a JSON object."),))
    principal, tags = _principal(data.get("principal"), errors)
    action = data.get("action")
    if not isinstance(action, str) or ":" not in action:
        errors.append(PolicyError("action", "The action must be a string of the form service:Name."))
        action = ""
    resource = data.get("resource", "*")
    if not isinstance(resource, str):
        errors.append(PolicyError("resource", "The resource must be a string (an ARN or *)."))
        resource = "*"
    resource_account = data.get("resourceAccount", "")
    if not isinstance(resource_account, str):
        errors.append(PolicyError("resourceAccount", "The resource account must be a string."))
        resource_account = ""
    keys = _context(data.get("context", {}), errors)
    policies = _policies(data.get("policies", {}), data.get("organization", {}), errors)
    if errors or principal is None or policies is None:
        return LoadedRequest(None, None, tuple(errors))
    context = build_context(principal, action, resource, resource_account=resource_account, keys=keys, tags=tags)
    return LoadedRequest(context, policies, ())


def _principal(raw: Any, errors: list[PolicyError]) -> tuple[Principal | None, dict[str, str]]:
    if not isinstance(raw, Mapping):
        errors.append(PolicyError("principal", "The principal must be a JSON object."))
        return None, {}
    tags: dict[str, str] = {}
    for name in ("tags", "sessionTags"):
        block = raw.get(name, {})
        if not isinstance(block, Mapping) or not all(isinstance(v, str) for v in block.values()):
            errors.append(PolicyError(f"principal.{name}", "Tags must be an object of strings."))
            continue
        lowered = {k.lower() for k in block}
        tags = {k: v for k, v in tags.items() if k.lower() not in lowered} | dict(block)
    if raw.get("anonymous") is True:
        return Principal(PrincipalKind.ANONYMOUS), tags
    if isinstance(raw.get("service"), str):
        return Principal(PrincipalKind.SERVICE, service=raw["service"]), tags
    if isinstance(raw.get("federated"), str):
        return Principal(PrincipalKind.WEB_IDENTITY, provider=raw["federated"]), tags
    arn = raw.get("arn")
    if not isinstance(arn, str) or not arn.startswith("arn:") or arn.count(":") < 5:
        errors.append(
            PolicyError("principal.arn", "The principal needs an IAM or STS ARN, a service or a federated provider.")
        )
        return None, tags
    entity = raw.get("roleArn") or raw.get("userArn") or ""
    unique_id = raw.get("id", "")
    canonical = raw.get("canonicalUser", "")
    if not all(isinstance(v, str) for v in (entity, unique_id, canonical)):
        errors.append(PolicyError("principal", "roleArn, userArn, id and canonicalUser must be strings."))
        return None, tags
    principal = principal_from_arn(arn, entity_arn=entity, unique_id=unique_id)
    return replace(principal, canonical_id=canonical), tags


def _context(raw: Any, errors: list[PolicyError]) -> dict[str, ContextValue]:
    if not isinstance(raw, Mapping):
        errors.append(PolicyError("context", "The context must be an object of condition keys."))
        return {}
    keys: dict[str, ContextValue] = {}
    scalar = (str, bool, int, float)
    for name, value in raw.items():
        if isinstance(value, scalar) or (isinstance(value, list) and all(isinstance(v, scalar) for v in value)):
            keys[name] = value
        else:
            errors.append(PolicyError(f"context.{name}", "A context value must be a string, number, boolean or list."))
    return keys


_KINDS = {
    "identity": PolicyKind.IDENTITY,
    "resource": PolicyKind.RESOURCE,
    "trust": PolicyKind.TRUST,
    "boundary": PolicyKind.BOUNDARY,
    "session": PolicyKind.SESSION,
    "scps": PolicyKind.SCP,
    "rcps": PolicyKind.RCP,
}


def compile_entry(raw: Any, path: str, kind: PolicyKind, errors: list[PolicyError]) -> CompiledPolicy | None:
    """One `{"id", "document"}` entry -> compiled policy, after parsing and kind validation."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str) or "document" not in raw:
        errors.append(PolicyError(path, 'A policy entry is {"id": "...", "document": {...}}.'))
        return None
    document = raw["document"]
    parsed = parse_policy(document if isinstance(document, str | bytes | Mapping) else "")
    problems = validate_document(parsed, kind)
    if problems or parsed.policy is None:
        errors.extend(PolicyError(f"{path}.document.{e.path}".rstrip("."), e.message) for e in problems)
        return None
    return compile_policy(parsed.policy, raw["id"])


def _list(raw: Any, path: str, kind: PolicyKind, errors: list[PolicyError]) -> tuple[CompiledPolicy, ...]:
    if not isinstance(raw, list):
        errors.append(PolicyError(path, "Expected a list of policies."))
        return ()
    compiled = (compile_entry(item, f"{path}[{i}]", kind, errors) for i, item in enumerate(raw))
    return tuple(c for c in compiled if c is not None)


def _levels(raw: Any, path: str, kind: PolicyKind, errors: list[PolicyError]) -> tuple[tuple[CompiledPolicy, ...], ...]:
    if not isinstance(raw, list):
        errors.append(PolicyError(path, "Expected a list of levels, each a list of policies."))
        return ()
    return tuple(_list(level, f"{path}[{i}]", kind, errors) for i, level in enumerate(raw))


def _policies(raw: Any, organization: Any, errors: list[PolicyError]) -> PolicySet | None:
    if not isinstance(raw, Mapping) or not isinstance(organization, Mapping):
        errors.append(PolicyError("policies", "policies and organization must be objects."))
        return None
    for name in raw:
        if name not in _KINDS:
            errors.append(PolicyError(f"policies.{name}", f"Unknown gate {name}."))
    if "resource" in raw and "trust" in raw:
        errors.append(PolicyError("policies.trust", "Give either a resource policy or a trust policy, not both."))
    gate_name = "trust" if "trust" in raw else "resource"
    single = raw.get(gate_name)
    resource = compile_entry(single, f"policies.{gate_name}", _KINDS[gate_name], errors) if single else None
    boundary_raw = raw.get("boundary")
    boundary = compile_entry(boundary_raw, "policies.boundary", PolicyKind.BOUNDARY, errors) if boundary_raw else None
    management = organization.get("managementAccount", "")
    return PolicySet(
        identity=_list(raw.get("identity", []), "policies.identity", PolicyKind.IDENTITY, errors),
        resource=resource,
        resource_gate=Gate.TRUST if gate_name == "trust" else Gate.RESOURCE,
        boundary=boundary,
        session=_list(raw.get("session", []), "policies.session", PolicyKind.SESSION, errors),
        scps=_levels(raw.get("scps", []), "policies.scps", PolicyKind.SCP, errors),
        rcps=_levels(raw.get("rcps", []), "policies.rcps", PolicyKind.RCP, errors),
        management_account=management if isinstance(management, str) else "",
    )
