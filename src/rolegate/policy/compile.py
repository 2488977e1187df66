"""Policy -> CompiledPolicy: prebuilt matchers per statement, memoised by the document's content hash.

The hot path of a decision is a dictionary lookup: for each (action, resource) pair a compiled policy keeps
the statements whose Action/NotAction and (variable-free) Resource/NotResource elements match, so only
principals and conditions are checked per request. A pair seen for the first time starts from the statements
indexed under its action, so only those test the resource. Caches are bounded and cleared when full.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rolegate.policy.conditions import CompiledClause
from rolegate.policy.document import Effect, Policy, PrincipalSpec, Statement, Strings
from rolegate.policy.render import render_policy
from rolegate.policy.variables import has_variables, parse_template, resolve
from rolegate.policy.wildcard import Matcher, compile_pattern, compile_tokens

CANDIDATE_CACHE_SIZE = 4096
ACTION_CACHE_SIZE = 1024
POLICY_CACHE_SIZE = 2048


@dataclass(frozen=True, slots=True)
class StatementRef:
    """Stable identity of a statement in explanations: the policy id plus Sid and index."""

    policy: str
    sid: str | None
    index: int

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy, "sid": self.sid, "index": self.index}

    def __str__(self) -> str:
        return f"{self.policy}:{self.sid}" if self.sid else f"{self.policy}:Statement[{self.index}]"


class ArnPatterns:
    """Resource or NotResource patterns; entries with variables are resolved per request."""

    __slots__ = ("fixed", "templates")

    def __init__(self, patterns: Strings, variables_enabled: bool) -> None:
        fixed: list[Matcher] = []
        templates: list[Any] = []
        for pattern in patterns.items:
            if variables_enabled and has_variables(pattern):
                templates.append(parse_template(pattern))
            else:
                fixed.append(compile_pattern(pattern, per_arn_segment=True))
        self.fixed = tuple(fixed)
        self.templates = tuple(templates)

    def match_fixed(self, resource: str) -> bool:
        return any(m(resource) for m in self.fixed)

    def match_templates(self, resource: str, keys: Mapping[str, tuple[str, ...]]) -> tuple[bool, bool]:
        """(matched, some variable was unresolved)."""
        unresolved = False
        for template in self.templates:
            tokens = resolve(template, keys)
            if tokens is None:
                unresolved = True
            elif compile_tokens(tokens, per_arn_segment=True)(resource):
                return True, unresolved
        return False, unresolved


class PrincipalPatterns:
    """A Principal/NotPrincipal element as lookup sets; account ids are normalised to root ARNs."""

    __slots__ = ("aws", "canonical", "federated", "service", "spec", "wildcard")

    def __init__(self, spec: PrincipalSpec) -> None:
        self.spec = spec
        aws = {_normalise_aws(v) for v in spec.values("AWS")}
        self.wildcard = spec.wildcard or "*" in aws
        self.aws = frozenset(aws)
        self.service = frozenset(spec.values("Service"))
        self.federated = frozenset(spec.values("Federated"))
        self.canonical = frozenset(spec.values("CanonicalUser"))

    def accounts(self) -> frozenset[str]:
        return frozenset(v.split(":")[4] for v in self.aws if v.count(":") >= 5)


def _normalise_aws(value: str) -> str:
    if len(value) == 12 and value.isdigit():
        return f"arn:aws:iam::{value}:root"
    return value


class CompiledStatement:
    """A statement's elements as prebuilt matchers. `unconditional`: nothing is left to check once the action and
    fixed resources match (no principal element, no templated resource, no condition)."""

    __slots__ = (
        "actions",
        "conditions",
        "deny",
        "needs_resource_check",
        "not_actions",
        "not_principal",
        "not_resources",
        "principal",
        "ref",
        "resources",
        "statement",
        "unconditional",
    )

    def __init__(self, statement: Statement, policy_id: str, variables_enabled: bool) -> None:
        self.statement = statement
        self.ref = StatementRef(policy_id, statement.sid, statement.index)
        self.deny = statement.effect is Effect.DENY
        self.actions = _action_matchers(statement.action)
        self.not_actions = _action_matchers(statement.not_action)
        self.resources = ArnPatterns(statement.resource, variables_enabled) if statement.resource else None
        self.not_resources = ArnPatterns(statement.not_resource, variables_enabled) if statement.not_resource else None
        self.principal = PrincipalPatterns(statement.principal) if statement.principal else None
        self.not_principal = PrincipalPatterns(statement.not_principal) if statement.not_principal else None
        self.conditions = tuple(CompiledClause(c, variables_enabled) for c in statement.conditions)
        patterns = self.resources or self.not_resources
        self.needs_resource_check = patterns is not None and bool(patterns.templates)
        principal_free = self.principal is None and self.not_principal is None
        self.unconditional = principal_free and not self.needs_resource_check and not self.conditions

    def action_matches(self, action_lower: str) -> bool:
        if self.actions is not None:
            return any(m(action_lower) for m in self.actions)
        if self.not_actions is not None:
            return not any(m(action_lower) for m in self.not_actions)
        return False

    def fixed_resource_matches(self, resource: str) -> bool:
        """Resource check for the variable-free patterns; templated ones are decided per request."""
        if self.resources is not None:
            return self.resources.match_fixed(resource) or bool(self.resources.templates)
        if self.not_resources is not None:
            return bool(self.not_resources.templates) or not self.not_resources.match_fixed(resource)
        return True


def _action_matchers(actions: Strings | None) -> tuple[Matcher, ...] | None:
    if actions is None:
        return None
    return tuple(compile_pattern(a.lower()) for a in actions.items)


class Candidates:
    """The statements of a policy whose action and variable-free resource elements match one (action, resource)
    pair. `unconditional`: none of them has anything left to check, so the gate scan knows their verdict
    without the request; it keeps that scan in `scan` (set by gates.scan, shared, never changed)."""

    __slots__ = ("scan", "statements", "unconditional")

    def __init__(self, statements: tuple[CompiledStatement, ...]) -> None:
        self.statements = statements
        self.unconditional = all(s.unconditional for s in statements)
        self.scan: Any = None  # a gates.Scan (this module cannot import gates)


NO_CANDIDATES = Candidates(())


class CompiledPolicy:
    """A validated policy ready for evaluation. Build through `compile_policy` to share instances."""

    __slots__ = ("_by_action", "_candidates", "_distinct", "policy", "policy_id", "statements")

    def __init__(self, policy: Policy, policy_id: str) -> None:
        self.policy = policy
        self.policy_id = policy_id
        enabled = policy.variables_enabled
        self.statements = tuple(CompiledStatement(s, policy_id, enabled) for s in policy.statements)
        self._candidates: dict[tuple[str, str], Candidates] = {}
        self._distinct: dict[tuple[CompiledStatement, ...], Candidates] = {}
        self._by_action: dict[str, tuple[CompiledStatement, ...]] = {}

    def candidates(self, action_lower: str, resource: str) -> tuple[CompiledStatement, ...]:
        """Statements whose action and variable-free resource elements match; cached per pair."""
        return self.lookup(action_lower, resource).statements

    def lookup(self, action_lower: str, resource: str) -> Candidates:
        """`candidates` with what the gate scan keeps about them: one Candidates per distinct set of
        statements, so the many resources (object keys) a statement covers share it."""
        key = (action_lower, resource)
        found = self._candidates.get(key)
        if found is None:
            matching = self.for_action(action_lower)
            statements = tuple(s for s in matching if s.fixed_resource_matches(resource)) if matching else ()
            found = self._distinct.get(statements) if statements else NO_CANDIDATES
            if found is None:
                if len(self._distinct) >= CANDIDATE_CACHE_SIZE:
                    self._distinct.clear()
                found = self._distinct[statements] = Candidates(statements)
            if len(self._candidates) >= CANDIDATE_CACHE_SIZE:
                self._candidates.clear()
            self._candidates[key] = found
        return found

    def for_action(self, action_lower: str) -> tuple[CompiledStatement, ...]:
        """Statements whose Action/NotAction matches: the index that keeps a new resource's lookup short, since
        a service sees many resources (object keys) but few actions."""
        found = self._by_action.get(action_lower)
        if found is None:
            found = tuple(s for s in self.statements if s.action_matches(action_lower))
            if len(self._by_action) >= ACTION_CACHE_SIZE:
                self._by_action.clear()
            self._by_action[action_lower] = found
        return found


_POLICY_CACHE: OrderedDict[tuple[str, str], CompiledPolicy] = OrderedDict()


def content_hash(policy: Policy) -> str:
    text = json.dumps(render_policy(policy), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compile_policy(policy: Policy, policy_id: str) -> CompiledPolicy:
    """Compile once per distinct (content, id); later calls return the same object."""
    key = (content_hash(policy), policy_id)
    compiled = _POLICY_CACHE.get(key)
    if compiled is None:
        compiled = CompiledPolicy(policy, policy_id)
        _POLICY_CACHE[key] = compiled
        if len(_POLICY_CACHE) > POLICY_CACHE_SIZE:
            _POLICY_CACHE.popitem(last=False)
    else:
        _POLICY_CACHE.move_to_end(key)
    return compiled
