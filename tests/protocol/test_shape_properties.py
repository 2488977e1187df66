"""Hypothesis: inputs generated from the shapes' own limits round-trip through botocore's serializer and our
parser and pass our validator; generated results round-trip through our writer and botocore's parser."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protocol_support import botocore_parse, botocore_request, operation

from rolegate.protocol import check_json_input, check_query_input, decode_form, parse_json_request, parse_query
from rolegate.protocol.constraints import compile_pattern, java_length
from rolegate.protocol.json import serialize_json_result
from rolegate.protocol.query import serialize_query_result

MAX_TEXT = 40
MAX_ITEMS = 4
# Text XML 1.0 can carry and UTF-8 can encode, inside the BMP so lengths are simple.
CHARACTERS = st.characters(
    codec="utf-8", max_codepoint=0xFFFF, exclude_categories=("Cc", "Cs", "Cn"), include_characters="\t\n\r"
)
ONE_CLASS = re.compile(r"\^?\(?(\[[^\]]*\])([*+])\)?\$?")
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


def _pattern_text(pattern: str, low: int, high: int) -> st.SearchStrategy[str]:
    compiled = compile_pattern(pattern)
    assert compiled is not None
    single = ONE_CLASS.fullmatch(pattern)
    if single is not None:
        char_class = compile_pattern(single.group(1))
        assert char_class is not None
        alphabet = st.from_regex(char_class, fullmatch=True, alphabet=CHARACTERS)
        low = max(low, 1 if single.group(2) == "+" else 0)
        return st.text(alphabet=alphabet, min_size=low, max_size=max(low, high))
    generated = st.from_regex(compiled, fullmatch=True, alphabet=CHARACTERS)
    return generated.filter(lambda text: low <= java_length(text) <= high)


def _string(shape: Any) -> st.SearchStrategy[str]:
    if shape.enum:
        return st.sampled_from(shape.enum)
    low = shape.metadata.get("min", 0)
    high = min(shape.metadata.get("max", MAX_TEXT), max(MAX_TEXT, low))
    pattern = shape.metadata.get("pattern")
    if pattern is not None:
        return _pattern_text(pattern, low, high)
    return st.text(alphabet=CHARACTERS, min_size=low, max_size=high)


def _structure(shape: Any, output: bool) -> st.SearchStrategy[dict[str, Any]]:
    members = {name: value_for(member, output) for name, member in shape.members.items()}
    if shape.is_tagged_union:
        return st.one_of([st.fixed_dictionaries({name: value}) for name, value in members.items()])
    required = set(shape.required_members)
    strategy = st.fixed_dictionaries(
        {k: v for k, v in members.items() if k in required},
        optional={k: v for k, v in members.items() if k not in required},
    )
    return strategy.filter(bool)


def value_for(shape: Any, output: bool = False) -> st.SearchStrategy[Any]:
    """Values valid for a shape: within its min/max, matching its pattern or enum."""
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure":
        return _structure(shape, output)
    if kind == "list":
        low = meta.get("min", 0)
        return st.lists(
            value_for(shape.member, output), min_size=low, max_size=max(low, min(meta.get("max", MAX_ITEMS), MAX_ITEMS))
        )
    if kind == "map":
        return st.dictionaries(value_for(shape.key, output), value_for(shape.value, output), max_size=MAX_ITEMS)
    if kind == "string":
        return _string(shape)
    if kind in ("integer", "long"):
        return st.integers(min_value=meta.get("min", -(2**31)), max_value=meta.get("max", 2**31 - 1))
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
        return (
            moments.map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))
            if output
            else moments
        )
    if kind == "blob":
        return st.binary(max_size=MAX_TEXT)
    raise AssertionError(f"no strategy for {kind}")


QUERY_OPERATIONS = [
    ("iam", "CreateRole"),
    ("iam", "TagRole"),
    ("iam", "CreatePolicyVersion"),
    ("iam", "SimulatePrincipalPolicy"),
    ("iam", "GetAccountAuthorizationDetails"),
    ("sts", "AssumeRole"),
    ("sts", "GetFederationToken"),
]
JSON_OPERATIONS = ["CreateAccount", "CreatePolicy", "ListAccounts", "CreateOrganizationalUnit", "MoveAccount"]


@functools.cache
def shape_values(service: str, name: str, output: bool) -> st.SearchStrategy[Any]:
    """Built once per operation: strategies over large Unicode classes are costly to construct."""
    op = operation(service, name)
    return value_for(op.output_shape if output else op.input_shape, output)


@st.composite
def query_inputs(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    service, name = draw(st.sampled_from(QUERY_OPERATIONS))
    return service, name, draw(shape_values(service, name, False))


@st.composite
def json_inputs(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(JSON_OPERATIONS))
    return name, draw(shape_values("organizations", name, False))


@PROPERTY_SETTINGS
@given(query_inputs())
def test_query_inputs_round_trip_and_validate(case: tuple[str, str, dict[str, Any]]) -> None:
    service, name, params = case
    _, body = botocore_request(service, name, params)  # botocore validates required/min/types first
    parsed = parse_query(operation(service, name), decode_form(body, max_bytes=1 << 22))
    assert parsed == params
    check_query_input(operation(service, name), parsed)


@PROPERTY_SETTINGS
@given(json_inputs())
def test_json_inputs_round_trip_and_validate(case: tuple[str, dict[str, Any]]) -> None:
    name, params = case
    headers, body = botocore_request("organizations", name, params)
    _, parsed = parse_json_request("organizations", headers["X-Amz-Target"], body, max_bytes=1 << 22)
    assert parsed == params
    check_json_input(operation("organizations", name), parsed)


RESULT_OPERATIONS = [
    ("sts", "AssumeRole"),
    ("iam", "ListUsers"),
    ("iam", "GetAccountSummary"),
    ("organizations", "ListAccounts"),
]


@st.composite
def results(draw: st.DrawFn) -> tuple[Any, dict[str, Any]]:
    service, name = draw(st.sampled_from(RESULT_OPERATIONS))
    return operation(service, name), draw(shape_values(service, name, True))


@PROPERTY_SETTINGS
@given(results())
def test_results_round_trip_through_botocore(case: tuple[Any, dict[str, Any]]) -> None:
    op, result = case
    if op.metadata["protocol"] == "query":
        assert botocore_parse("query", op, serialize_query_result(op, result, "rid")) == result
    else:
        assert botocore_parse("json", op, serialize_json_result(op, result)) == result
