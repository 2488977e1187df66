"""JSON text -> typed `Policy`, collecting every structural error with its JSON path; never raises.

Design: parsing is tolerant. An element that cannot be read is reported and left out, and the rest of the
statement is still built, so the kind-specific validator can report its own findings on the same pass. A
document with any error is never handed to the evaluator (the facade refuses it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rolegate.policy.document import (
    VERSION_2008,
    VERSION_2012,
    ConditionClause,
    Effect,
    JsonScalar,
    Policy,
    PrincipalSpec,
    Statement,
    Strings,
)
from rolegate.policy.errors import PolicyError

# The wire maximum of any IAM policy document (botocore `policyDocumentType` max); kind limits are lower.
MAX_SOURCE_CHARS = 131072
MAX_DEPTH = 16

SYNTAX = "Syntax errors in policy."
TOP_LEVEL_FIELDS = frozenset({"Version", "Id", "Statement"})
STATEMENT_FIELDS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})


@dataclass(frozen=True, slots=True)
class ParseResult:
    policy: Policy | None
    errors: tuple[PolicyError, ...]

    @property
    def ok(self) -> bool:
        return self.policy is not None and not self.errors


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def load_json(source: str | bytes) -> tuple[Any, PolicyError | None]:
    """Decode and load JSON text safely: size cap, strict UTF-8, duplicate keys and depth refused."""
    if isinstance(source, bytes | bytearray):
        if len(source) > MAX_SOURCE_CHARS * 4:
            return None, PolicyError("", f"Policy document exceeds the maximum size of {MAX_SOURCE_CHARS} characters.")
        try:
            source = bytes(source).decode("utf-8")
        except UnicodeDecodeError:
            return None, PolicyError("", "Policy document is not valid UTF-8.")
    source = source.removeprefix("\ufeff")  # editors on Windows write a byte-order mark; it is not content
    if len(source) > MAX_SOURCE_CHARS:
        return None, PolicyError("", f"Policy document exceeds the maximum size of {MAX_SOURCE_CHARS} characters.")
    if _nesting_depth(source) > MAX_DEPTH:
        return None, PolicyError("", SYNTAX + " (nesting too deep)")
    try:
        return json.loads(source, object_pairs_hook=_reject_duplicates), None
    except _DuplicateKeyError as dup:
        return None, PolicyError("", f"{SYNTAX} (duplicate field {dup.key})")
    except (ValueError, RecursionError):
        return None, PolicyError("", SYNTAX)


def _nesting_depth(text: str) -> int:
    """Bracket depth outside string literals, so hostile nesting is refused before json recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_policy(source: str | bytes | Mapping[str, Any]) -> ParseResult:
    """Parse a policy from JSON text, UTF-8 bytes or an already-loaded JSON object."""
    if isinstance(source, Mapping):
        data: Any = source
    elif not isinstance(source, str | bytes | bytearray):
        return ParseResult(None, (PolicyError("", SYNTAX + " (a policy document must be a JSON object)"),))
    else:
        data, error = load_json(source)
        if error is not None:
            return ParseResult(None, (error,))
    errors: list[PolicyError] = []
    policy = _parse_document(data, errors)
    return ParseResult(policy, tuple(errors))


def _parse_document(data: Any, errors: list[PolicyError]) -> Policy | None:
    if not isinstance(data, dict):
        errors.append(PolicyError("", SYNTAX + " (a policy document must be a JSON object)"))
        return None
    for name in data:
        if name not in TOP_LEVEL_FIELDS:
            errors.append(PolicyError(name, f"{SYNTAX} (unknown field {name})"))
    version = data.get("Version")
    if "Version" in data and version not in (VERSION_2012, VERSION_2008):
        errors.append(PolicyError("Version", "The policy failed legacy parsing"))
        version = None
    policy_id = data.get("Id")
    if "Id" in data and not isinstance(policy_id, str):
        errors.append(PolicyError("Id", f"{SYNTAX} (Id must be a string)"))
        policy_id = None
    if "Statement" not in data:
        errors.append(PolicyError("Statement", "Missing required field Statement"))
        return Policy(version, policy_id, ())
    raw = data["Statement"]
    is_list = isinstance(raw, list)
    items = raw if is_list else [raw]
    statements: list[Statement] = []
    for index, item in enumerate(items):
        path = f"Statement[{index}]" if is_list else "Statement"
        statement = _parse_statement(item, index, path, errors)
        if statement is not None:
            statements.append(statement)
    return Policy(version, policy_id, tuple(statements), is_list)


def _parse_statement(data: Any, index: int, path: str, errors: list[PolicyError]) -> Statement | None:
    if not isinstance(data, dict):
        errors.append(PolicyError(path, f"{SYNTAX} (a statement must be a JSON object)"))
        return None
    for name in data:
        if name not in STATEMENT_FIELDS:
            errors.append(PolicyError(f"{path}.{name}", f"{SYNTAX} (unknown field {name})"))
    sid = data.get("Sid")
    if "Sid" in data and not isinstance(sid, str):
        errors.append(PolicyError(f"{path}.Sid", f"{SYNTAX} (Sid must be a string)"))
        sid = None
    effect = _parse_effect(data, path, errors)
    pairs = (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal"))
    for positive, negative in pairs:
        if positive in data and negative in data:
            errors.append(PolicyError(f"{path}.{negative}", f"Statement has both {positive} and {negative}."))
    if "Action" not in data and "NotAction" not in data:
        errors.append(PolicyError(path, "Policy statement must contain actions."))
    if "Condition" in data and data["Condition"] in (None, {}):
        errors.append(PolicyError(f"{path}.Condition", f"{SYNTAX} (Condition must be a non-empty object)"))
    conditions, operators = _parse_conditions(data.get("Condition"), f"{path}.Condition", errors)
    return Statement(
        index=index,
        sid=sid,
        effect=effect,
        action=_strings(data, "Action", path, errors),
        not_action=_strings(data, "NotAction", path, errors),
        resource=_strings(data, "Resource", path, errors),
        not_resource=_strings(data, "NotResource", path, errors),
        principal=_principal(data, "Principal", path, errors),
        not_principal=_principal(data, "NotPrincipal", path, errors),
        conditions=conditions,
        condition_operators=operators,
    )


def _parse_effect(data: dict[str, Any], path: str, errors: list[PolicyError]) -> Effect:
    raw = data.get("Effect")
    if raw is None:
        errors.append(PolicyError(f"{path}.Effect", "Missing required field Effect"))
        return Effect.DENY
    if raw in ("Allow", "Deny"):
        return Effect(raw)
    errors.append(PolicyError(f"{path}.Effect", f"Invalid effect: {raw}"))
    return Effect.ALLOW if isinstance(raw, str) and raw.lower() == "allow" else Effect.DENY


def _strings(data: dict[str, Any], name: str, path: str, errors: list[PolicyError]) -> Strings | None:
    if name not in data:
        return None
    raw = data[name]
    where = f"{path}.{name}"
    if isinstance(raw, str):
        return Strings((raw,), single=True)
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        if not raw:
            noun = "actions" if "Action" in name else "resources"
            errors.append(PolicyError(where, f"Policy statement must contain {noun}."))
        return Strings(tuple(raw))
    errors.append(PolicyError(where, f"{SYNTAX} ({name} must be a string or a list of strings)"))
    return None


def _principal(data: dict[str, Any], name: str, path: str, errors: list[PolicyError]) -> PrincipalSpec | None:
    if name not in data:
        return None
    raw = data[name]
    where = f"{path}.{name}"
    if raw == "*":
        return PrincipalSpec(wildcard=True)
    if not isinstance(raw, dict) or not raw:
        errors.append(PolicyError(where, f"Invalid principal in policy: {json.dumps(raw)}"))
        return None
    entries: list[tuple[str, Strings]] = []
    for kind, values in raw.items():
        if kind not in PRINCIPAL_TYPES:
            errors.append(PolicyError(f"{where}.{kind}", f'Invalid principal in policy: "{kind}"'))
            continue
        if isinstance(values, str):
            entries.append((kind, Strings((values,), single=True)))
        elif isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            entries.append((kind, Strings(tuple(values))))
        else:
            errors.append(PolicyError(f"{where}.{kind}", f'Invalid principal in policy: "{kind}":{json.dumps(values)}'))
    return PrincipalSpec(wildcard=False, entries=tuple(entries))


def _parse_conditions(
    raw: Any, path: str, errors: list[PolicyError]
) -> tuple[tuple[ConditionClause, ...], tuple[str, ...]]:
    if raw is None:
        return (), ()
    if not isinstance(raw, dict):
        errors.append(PolicyError(path, f"{SYNTAX} (Condition must be an object)"))
        return (), ()
    clauses: list[ConditionClause] = []
    for operator, block in raw.items():
        where = f"{path}.{operator}"
        if not isinstance(block, dict):
            errors.append(PolicyError(where, f"{SYNTAX} (a condition operator takes an object of keys)"))
            continue
        for key, values in block.items():
            clause = _clause(operator, key, values, f"{where}.{key}", errors)
            if clause is not None:
                clauses.append(clause)
    return tuple(clauses), tuple(raw)


MAX_NUMBER_DIGITS = 64


def _readable_number(value: Any) -> bool:
    """Integers beyond any sane size are refused before anything tries to print them."""
    return not isinstance(value, int) or isinstance(value, bool) or value.bit_length() <= MAX_NUMBER_DIGITS * 4


def _clause(operator: str, key: str, values: Any, path: str, errors: list[PolicyError]) -> ConditionClause | None:
    scalar = (str, bool, int, float)
    candidates = values if isinstance(values, list) else [values]
    if not all(_readable_number(v) for v in candidates):
        errors.append(PolicyError(path, f"{SYNTAX} (number too large)"))
        return None
    if isinstance(values, scalar):
        return ConditionClause(operator, key, (values,), single=True)
    if isinstance(values, list) and all(isinstance(v, scalar) for v in values):
        items: tuple[JsonScalar, ...] = tuple(values)
        return ConditionClause(operator, key, items)
    errors.append(PolicyError(path, f"{SYNTAX} (condition values must be strings, numbers or booleans)"))
    return None
