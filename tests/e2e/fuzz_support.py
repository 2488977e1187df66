"""Hypothesis strategies for the fuzz tests: a value for any botocore shape, walked the same way for every
protocol, with the strings, numbers and maps each test wants (wild ones, or ones that name what exists)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.model import Shape
from hypothesis import strategies as st

MAX_DEPTH = 3
TIMESTAMPS = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)


def shape_value(
    shape: Shape,
    *,
    strings: Callable[[Shape], st.SearchStrategy[str]],
    numbers: st.SearchStrategy[int],
    maps: st.SearchStrategy[dict[str, str]],
    required: bool,
    depth: int = 0,
) -> st.SearchStrategy[Any]:
    """A value of the shape's type. `strings` gets the string shape (its enum, its name); with `required`,
    a structure always has its required members, so more values get past the "missing member" check."""

    def inner(member: Shape) -> st.SearchStrategy[Any]:
        return shape_value(member, strings=strings, numbers=numbers, maps=maps, required=required, depth=depth + 1)

    kind = shape.type_name
    if kind == "structure":
        if depth > MAX_DEPTH:
            return st.just({})
        members = {name: inner(member) for name, member in shape.members.items()}
        always = {name: members.pop(name) for name in shape.required_members if name in members} if required else {}
        return st.fixed_dictionaries(always, optional=members)
    if kind == "list":
        return st.lists(inner(shape.member), max_size=3)
    if kind == "map":
        return maps
    if kind == "string":
        return strings(shape)
    if kind in ("integer", "long"):
        return numbers
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return TIMESTAMPS
    if kind == "blob":
        return st.binary(max_size=64)
    return st.none()
