"""Condition operator registry and the generic evaluation of one condition clause.

Set qualifiers (`ForAnyValue:` / `ForAllValues:`), the `IfExists` suffix, negation and `Null` are applied
here once for every operator, following conditions.md §1-§2. A clause never raises during evaluation: a value
that cannot be read as the operator's type simply does not match.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rolegate.policy.conditions import arns, dates, network, numbers, simple, strings
from rolegate.policy.conditions.base import Operator
from rolegate.policy.document import ConditionClause, JsonScalar
from rolegate.policy.variables import has_variables, literal_text, parse_template, resolve

REGISTRY: dict[str, Operator] = {
    op.name: op
    for op in (
        *strings.OPERATORS,
        *numbers.OPERATORS,
        *dates.OPERATORS,
        *network.OPERATORS,
        *arns.OPERATORS,
        *simple.OPERATORS,
    )
}
NULL = "Null"


class Qualifier(enum.Enum):
    NONE = ""
    ANY = "ForAnyValue"
    ALL = "ForAllValues"


@dataclass(frozen=True, slots=True)
class OperatorName:
    qualifier: Qualifier
    operator: Operator | None  # None means Null
    if_exists: bool


def parse_operator(name: str) -> OperatorName | None:
    """Split `ForAnyValue:StringLikeIfExists` into its parts; None for an unknown operator."""
    qualifier = Qualifier.NONE
    base = name
    if ":" in name:
        prefix, base = name.split(":", 1)
        try:
            qualifier = Qualifier(prefix)
        except ValueError:
            return None
        if qualifier is Qualifier.NONE:
            return None
    if base == NULL:
        return OperatorName(qualifier, None, False)
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    operator = REGISTRY.get(base)
    return None if operator is None else OperatorName(qualifier, operator, if_exists)


def scalar_text(value: JsonScalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Reason(enum.Enum):
    """Stable reason codes for one clause's outcome, used by explain output."""

    MATCHED = "matched"
    VALUE_MISMATCH = "value_mismatch"
    KEY_ABSENT = "condition_key_absent"
    ABSENT_IF_EXISTS = "key_absent_if_exists"
    ABSENT_NEGATED = "key_absent_negated_operator"
    ABSENT_FOR_ALL_VALUES = "key_absent_for_all_values"
    NULL_CHECK = "null_check"
    UNRESOLVED_VARIABLE = "unresolved_variable"
    INVALID_VALUE = "invalid_policy_value"


_TRUE_REASONS = frozenset(
    {
        Reason.MATCHED,
        Reason.ABSENT_IF_EXISTS,
        Reason.ABSENT_NEGATED,
        Reason.ABSENT_FOR_ALL_VALUES,
        Reason.NULL_CHECK,
    }
)


class CompiledClause:
    """One condition clause prepared for evaluation; templated values are resolved per request."""

    __slots__ = ("_cache", "check", "clause", "key", "name", "prepared", "templates")

    def __init__(self, clause: ConditionClause, variables_enabled: bool) -> None:
        self.clause = clause
        self.key = clause.key.lower()
        parsed = parse_operator(clause.operator)
        if parsed is None:
            raise ValueError(f"unknown condition operator {clause.operator}")
        self.name = parsed
        texts = [scalar_text(v) for v in clause.values]
        operator = parsed.operator
        self.templates: tuple[Any, ...] | None = None
        self._cache: dict[Any, Any] = {}
        if operator is not None and operator.variables and variables_enabled and any(map(has_variables, texts)):
            self.templates = tuple(parse_template(t) for t in texts)
            self.prepared: tuple[Any, ...] = ()
        elif operator is None:
            self.prepared = tuple(t.lower() for t in texts)
        else:
            self.prepared = tuple(operator.compile(t) for t in texts)
            if any(p is None for p in self.prepared):
                raise ValueError(f"invalid value for {clause.operator}")
        self.check: Callable[[Mapping[str, tuple[str, ...]]], bool] = self._fast_check()

    def _fast_check(self) -> Callable[[Mapping[str, tuple[str, ...]]], bool]:
        """A yes/no test for the hot path; falls back to `evaluate` for the rarer shapes."""
        operator = self.name.operator
        if operator is None or self.templates is not None or self.name.qualifier is not Qualifier.NONE:
            return lambda keys: self.evaluate(keys)[0]
        key, negated, prepared, test = self.key, operator.negated, self.prepared, operator.test
        absent = self.name.if_exists or negated
        if operator.name in ("StringEquals", "StringNotEquals"):
            wanted = frozenset(prepared)

            def check_equals(keys: Mapping[str, tuple[str, ...]]) -> bool:
                values = keys.get(key)
                if not values:
                    return absent
                return wanted.isdisjoint(values) == negated  # some value is wanted, unless negated

            return check_equals

        def check(keys: Mapping[str, tuple[str, ...]]) -> bool:
            values = keys.get(key)
            if not values:
                return absent
            for c in values:
                for p in prepared:
                    if test(c, p):
                        return not negated
            return negated

        return check

    def evaluate(self, keys: Mapping[str, tuple[str, ...]]) -> tuple[bool, Reason]:
        values = keys.get(self.key)
        name = self.name
        operator = name.operator
        if operator is None:
            return self._null(values)
        if not values:
            return self._absent(operator)
        prepared, unresolved = self._values(keys, operator)
        if not prepared:
            result = operator.negated if name.qualifier is Qualifier.NONE else name.qualifier is Qualifier.ALL
            if unresolved:
                return result, (Reason.MATCHED if result else Reason.UNRESOLVED_VARIABLE)
        test = operator.test
        if name.qualifier is Qualifier.NONE:
            hit = any(test(c, p) for c in values for p in prepared)
            result = hit != operator.negated
        elif name.qualifier is Qualifier.ANY:
            result = any(any(test(c, p) for p in prepared) != operator.negated for c in values)
        else:
            result = all(any(test(c, p) for p in prepared) != operator.negated for c in values)
        if result:
            return True, Reason.MATCHED
        return False, (Reason.UNRESOLVED_VARIABLE if unresolved else Reason.VALUE_MISMATCH)

    def _absent(self, operator: Operator) -> tuple[bool, Reason]:
        if self.name.if_exists:
            return True, Reason.ABSENT_IF_EXISTS
        if self.name.qualifier is Qualifier.ALL:
            return True, Reason.ABSENT_FOR_ALL_VALUES
        if self.name.qualifier is Qualifier.NONE and operator.negated:
            return True, Reason.ABSENT_NEGATED
        return False, Reason.KEY_ABSENT

    def _null(self, values: tuple[str, ...] | None) -> tuple[bool, Reason]:
        absent = not values
        wanted = {"true": absent, "false": not absent}
        result = any(wanted.get(p, False) for p in self.prepared)
        return result, (Reason.NULL_CHECK if result else (Reason.KEY_ABSENT if absent else Reason.VALUE_MISMATCH))

    def _values(self, keys: Mapping[str, tuple[str, ...]], operator: Operator) -> tuple[tuple[Any, ...], bool]:
        if self.templates is None:
            return self.prepared, False
        prepared: list[Any] = []
        unresolved = False
        for template in self.templates:
            tokens = resolve(template, keys)
            if tokens is None:
                unresolved = True
                continue
            compiled = self._cache.get(tokens)
            if compiled is None:
                if operator.compile_tokens is not None:
                    compiled = operator.compile_tokens(tokens)
                else:
                    compiled = operator.compile(literal_text(tokens))
                if len(self._cache) > 1024:
                    self._cache.clear()
                self._cache[tokens] = compiled
            prepared.append(compiled)
        return tuple(p for p in prepared if p is not None), unresolved


def is_true(reason: Reason) -> bool:
    return reason in _TRUE_REASONS
