"""ARN operators: per-segment, case-sensitive globbing; ArnEquals behaves exactly as ArnLike."""

from __future__ import annotations

from typing import Any

from rolegate.policy.conditions.base import Operator
from rolegate.policy.wildcard import Matcher, Token, compile_pattern, compile_tokens


def _compile(value: str) -> Matcher:
    return compile_pattern(value, per_arn_segment=True)


def _compile_tokens(tokens: tuple[Token, ...]) -> Matcher:
    return compile_tokens(tokens, per_arn_segment=True)


def _test(context_value: str, policy_value: Any) -> bool:
    return context_value.count(":") >= 5 and bool(policy_value(context_value))


OPERATORS: tuple[Operator, ...] = tuple(
    Operator(
        name,
        _compile,
        _test,
        negated="Not" in name,
        variables=True,
        globbing=True,
        compile_tokens=_compile_tokens,
    )
    for name in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike")
)
