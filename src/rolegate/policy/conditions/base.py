"""The uniform shape of a condition operator: compile a policy value once, test a context value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rolegate.policy.wildcard import Token


@dataclass(frozen=True, slots=True)
class Operator:
    """`compile` turns a policy value into a prepared form (None = not valid for this operator);
    `test` compares one context value with one prepared policy value. Negation, set qualifiers and
    IfExists are applied generically by the registry, never here."""

    name: str
    compile: Callable[[str], Any]
    test: Callable[[str, Any], bool]
    negated: bool = False
    variables: bool = False
    globbing: bool = False
    compile_tokens: Callable[[tuple[Token, ...]], Any] | None = None
