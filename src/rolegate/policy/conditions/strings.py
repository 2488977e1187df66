"""String operators: exact, case-insensitive and glob comparisons."""

from __future__ import annotations

from typing import Any

from rolegate.policy.conditions.base import Operator
from rolegate.policy.wildcard import Matcher, Token, compile_pattern, compile_tokens


def _same(value: str) -> str:
    return value


def _equals(context_value: str, policy_value: Any) -> bool:
    return bool(context_value == policy_value)


def _lower(value: str) -> str:
    return value.casefold()


def _equals_ignore_case(context_value: str, policy_value: Any) -> bool:
    return bool(context_value.casefold() == policy_value)


def _glob(value: str) -> Matcher:
    return compile_pattern(value)


def _like(context_value: str, policy_value: Any) -> bool:
    return bool(policy_value(context_value))


def _glob_tokens(tokens: tuple[Token, ...]) -> Matcher:
    return compile_tokens(tokens)


def _pair(name: str, compile_: Any, test: Any, glob_tokens: Any = None) -> tuple[Operator, Operator]:
    globbing = glob_tokens is not None
    positive = Operator(name, compile_, test, variables=True, globbing=globbing, compile_tokens=glob_tokens)
    negated_name = name.replace("String", "StringNot", 1)
    negative = Operator(
        negated_name,
        compile_,
        test,
        negated=True,
        variables=True,
        globbing=globbing,
        compile_tokens=glob_tokens,
    )
    return positive, negative


OPERATORS: tuple[Operator, ...] = (
    *_pair("StringEquals", _same, _equals),
    *_pair("StringEqualsIgnoreCase", _lower, _equals_ignore_case),
    *_pair("StringLike", _glob, _like, _glob_tokens),
)
