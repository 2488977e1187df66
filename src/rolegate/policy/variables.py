"""Policy variables: `${key}`, `${key, 'default'}` and the `${*}` `${?}` `${$}` escapes (Version 2012-10-17).

A template resolves to wildcard tokens (see wildcard.py). Substituted values and escapes become literal text,
so a username containing `*` never turns into a wildcard. A key with no value and no default leaves the
template unresolved: the element then matches nothing (evaluation.md §5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rolegate.policy.wildcard import Token, tokenize

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_BODY = re.compile(r"^\s*([^,\s]+)\s*(?:,\s*'([^']*)'\s*)?$")
ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True, slots=True)
class Variable:
    key: str
    default: str | None


Part = str | Variable  # plain text (may hold wildcards) or a variable
Escape = tuple[str]  # a literal produced by ${*} ${?} ${$}


def has_variables(text: str) -> bool:
    return "${" in text


def parse_template(text: str) -> tuple[Part | Escape, ...]:
    parts: list[Part | Escape] = []
    position = 0
    for found in _VARIABLE.finditer(text):
        if found.start() > position:
            parts.append(text[position : found.start()])
        body = found.group(1)
        body_match = _BODY.match(body)
        if body in ESCAPES:
            parts.append((ESCAPES[body],))
        elif body_match:
            parts.append(Variable(body_match.group(1).lower(), body_match.group(2)))
        else:
            parts.append(found.group(0))
        position = found.end()
    if position < len(text):
        parts.append(text[position:])
    return tuple(parts)


def template_keys(text: str) -> tuple[str, ...]:
    return tuple(p.key for p in parse_template(text) if isinstance(p, Variable))


def resolve(parts: tuple[Part | Escape, ...], context: Mapping[str, tuple[str, ...]]) -> tuple[Token, ...] | None:
    """Tokens for the template under `context`, or None when a variable has no single value."""
    tokens: list[Token] = []
    for part in parts:
        if isinstance(part, str):
            tokens.extend(tokenize(part))
        elif isinstance(part, tuple):
            tokens.append(part[0])
        else:
            values = context.get(part.key)
            if values is not None and len(values) == 1:
                tokens.append(values[0])
            elif part.default is not None and values is None:
                tokens.append(part.default)
            else:
                return None
    return tuple(tokens)


def literal_text(tokens: tuple[Token, ...]) -> str:
    """Tokens joined back as plain text (wildcards as their characters) for non-glob operators."""
    return "".join(t if isinstance(t, str) else t.value for t in tokens)
