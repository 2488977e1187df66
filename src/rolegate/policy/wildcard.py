"""IAM `*` / `?` matching, compiled once per pattern into the cheapest test that is exact.

A pattern is a sequence of tokens: literal text and the two wildcards. Literal `*`/`?`/`$` produced by the
`${*}` `${?}` `${$}` escapes stay literal because they arrive as text tokens, never as wildcard tokens.
ARN patterns are matched per segment: in the first five colon-separated segments a wildcard never crosses a
colon; in the resource segment it may (evaluation.md §4).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence

Matcher = Callable[[str], bool]


class Wild(enum.Enum):
    ANY = "*"
    ONE = "?"


Token = str | Wild
ARN_SEGMENTS = 6


def tokenize(pattern: str) -> tuple[Token, ...]:
    """Split a plain pattern into literal runs and wildcard tokens."""
    tokens: list[Token] = []
    literal: list[str] = []
    for char in pattern:
        if char in "*?":
            if literal:
                tokens.append("".join(literal))
                literal = []
            tokens.append(Wild(char))
        else:
            literal.append(char)
    if literal:
        tokens.append("".join(literal))
    return tuple(tokens)


def _always(_: str) -> bool:
    return True


def compile_tokens(tokens: Sequence[Token], *, per_arn_segment: bool = False, ignore_case: bool = False) -> Matcher:
    """Build a matcher; callers that `ignore_case` must pass lower-cased values."""
    if ignore_case:
        tokens = [t.lower() if isinstance(t, str) else t for t in tokens]
    wild_count = sum(1 for t in tokens if isinstance(t, Wild))
    if wild_count == 0:
        text = "".join(t for t in tokens if isinstance(t, str))
        return text.__eq__
    if len(tokens) == 1 and tokens[0] is Wild.ANY:
        return _always
    segmented = per_arn_segment and _is_arn_pattern(tokens)
    last = tokens[-1]
    if wild_count == 1 and last is Wild.ANY and not segmented:
        prefix = "".join(t for t in tokens if isinstance(t, str))
        return lambda value: value.startswith(prefix)
    regex = re.compile(_to_regex(tokens, segmented), re.DOTALL)
    return lambda value: regex.fullmatch(value) is not None


def compile_pattern(pattern: str, *, per_arn_segment: bool = False, ignore_case: bool = False) -> Matcher:
    return compile_tokens(tokenize(pattern), per_arn_segment=per_arn_segment, ignore_case=ignore_case)


def _is_arn_pattern(tokens: Sequence[Token]) -> bool:
    first = tokens[0] if tokens else ""
    return isinstance(first, str) and first.startswith("arn:")


def _to_regex(tokens: Sequence[Token], segmented: bool) -> str:
    parts: list[str] = []
    colons = 0
    for token in tokens:
        if isinstance(token, str):
            parts.append(re.escape(token))
            colons += token.count(":")
            continue
        in_resource_segment = not segmented or colons >= ARN_SEGMENTS - 1
        if token is Wild.ANY:
            parts.append(".*" if in_resource_segment else "[^:]*")
        else:
            parts.append("." if in_resource_segment else "[^:]")
    return "".join(parts)


def reference_match(pattern: str, value: str) -> bool:
    """Slow, obviously-correct glob used by the property tests to check the compiled matchers."""
    if not pattern:
        return not value
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        return any(reference_match(rest, value[i:]) for i in range(len(value) + 1))
    if not value:
        return False
    return (head == "?" or head == value[0]) and reference_match(rest, value[1:])
