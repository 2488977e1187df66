"""The S3 codec's remembered work answers what working it out afresh answers.

A request's params come from a plan looked up by its header names and query keys, headers that arrive
as an ASGI server hands them over skip normalisation, integer headers of plain digits skip the general
reader, size limits of ASCII text skip encoding, header dates of UTC times are remembered, and printable
header text skips the line-break scan. Each is checked here against the plain rule it stands in for,
over generated inputs, and with the plan both built and found.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_restxml_support import s3_operation

from rolegate.errors import AwsError
from rolegate.protocol import restxml_request
from rolegate.protocol.restxml import s3_response
from rolegate.protocol.restxml_request import (
    MAX_PLAN_KEY_CHARS,
    MAX_PLANS,
    _header_fields,
    _header_value,
    _located_members,
    _lower_case,
    _map_size,
    _merged_headers,
    _plan,
    _query_value,
    _utf8_size,
    input_layout,
)
from rolegate.protocol.restxml_response import _safe, mail_safe
from rolegate.protocol.restxml_values import _http_date, format_http_date

OPERATIONS = ["PutObject", "GetObject", "HeadObject", "CopyObject", "UploadPart", "CreateMultipartUpload"]
TEXTS = ["", " ", "v", "12", " 12 ", "-3", "0" * 20, "9" * 19, "\u0662", "true", "no", "a,b", '"a,b",c', '"x']
TEXTS += ["aws-chunked", "gzip,aws-chunked", "Mon, 23 Nov 2026 19:03:06 GMT", "2026-11-23T19:03:06Z", "1700000000"]
NOISE = ["host", "authorization", "x-amz-date", "user-agent", "x-amz-meta-", "x-amz-meta-a", "X-Amz-Meta-B"]
NOISE += ["x-amz-metadata-directive", "x-amz-decoded-content-length", "content-length", "Content-Encoding"]


def _wire_names(operation: str, location: str) -> list[str]:
    """The wire names of the operation's input members bound to `location` ("header", "querystring")."""
    shape = s3_operation(operation).input_shape
    return [
        str(member.serialization.get("name", name))
        for name, member in shape.members.items()
        if member.serialization.get("location") == location
    ]


def _walk_members(
    shape: Any, labels: Mapping[str, str], query: Mapping[str, list[str]], fields: Mapping[str, str]
) -> dict[str, Any]:
    """The rule the plans stand in for: every input member, in member order, looked up where it lives."""
    params: dict[str, Any] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = str(member.serialization.get("name", name))
        if location == "uri" and wire in labels:
            params[name] = labels[wire]
        elif location == "querystring" and member.type_name != "map" and wire in query:
            params[name] = _query_value(member, wire, query[wire])
        elif location == "header" and wire.lower() in fields:
            value = _header_value(member, wire.lower(), fields)
            if value is not None:
                params[name] = value
        elif location == "headers":
            prefix = wire.lower()
            found = {
                key[len(prefix) :]: text for key, text in fields.items() if key.startswith(prefix) and key != prefix
            }
            if found:
                params[name] = found
    return params


def _items_or_error(read: Any) -> Any:
    try:
        return list(read().items())
    except AwsError as error:
        return error.code, error.message, error.extra
    except ValueError as error:  # an unterminated quote in Content-Encoding is not (yet) an S3 error
        return type(error).__name__, str(error)


@st.composite
def _requests(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], dict[str, list[str]]]:
    operation = draw(st.sampled_from(OPERATIONS))
    case = draw(st.sampled_from([str.lower, str.upper, str.title, lambda name: name]))
    names = st.sampled_from(_wire_names(operation, "header")).map(case) | st.sampled_from(NOISE)
    headers = draw(st.lists(st.tuples(names, st.sampled_from(TEXTS)), max_size=12))
    keys = [*_wire_names(operation, "querystring"), "uploadId", "x-id"]
    query = draw(st.dictionaries(st.sampled_from(keys), st.lists(st.sampled_from(TEXTS), min_size=1, max_size=2)))
    return operation, headers, query


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=_requests())
def test_planned_params_are_the_members_walked_in_order(
    request: tuple[str, list[tuple[str, str]], dict[str, list[str]]],
) -> None:
    operation, headers, query = request
    shape = s3_operation(operation).input_shape
    fields, names = _header_fields(headers)
    labels = {"Bucket": "b", "Key": "k/ey"}
    expected = _items_or_error(lambda: _walk_members(shape, labels, query, fields))
    layout = input_layout(shape)
    restxml_request._PLANS.clear()
    assert _items_or_error(lambda: _located_members(layout, labels, query, fields, names)) == expected  # built
    assert _items_or_error(lambda: _located_members(layout, labels, query, fields, names)) == expected  # found


_NAME_TEXT = st.sampled_from(["host", "Host", "x-amz-meta-a", "X-AMZ-META-A", "content-length", "\u01c5", "\u03a3x"])


class _Text(str):
    """Text of a str subclass: kept as it is, like any other text."""


_VALUES = st.sampled_from(["v", " w ", "", "\xe9"]) | st.binary(max_size=3) | st.builds(_Text, st.text(max_size=3))


@settings(max_examples=600, deadline=None)
@given(
    pairs=st.lists(st.tuples(_NAME_TEXT | _NAME_TEXT.map(str.encode), _VALUES), max_size=8),
    as_tuple=st.booleans(),
)
def test_header_fields_are_the_plain_merge(pairs: list[tuple[Any, Any]], as_tuple: bool) -> None:
    headers = tuple(pairs) if as_tuple else pairs
    expected = _merged_headers(headers)
    for _ in range(2):  # the second time, the names' verdict is remembered
        fields, names = _header_fields(headers)
        assert list(fields.items()) == list(expected.items())
        assert [type(value) for value in fields.values()] == [type(value) for value in expected.values()]
        assert names == tuple(expected)


def test_pairs_held_by_lists_or_iterators_merge_as_tuples_do() -> None:
    pairs = [("Host", "h"), ("x-amz-meta-a", b"\xe9"), ("content-length", "3")]
    expected = list(_merged_headers(pairs).items())
    assert list(_header_fields([list(pair) for pair in pairs])[0].items()) == expected
    assert list(_header_fields([iter(pair) for pair in pairs])[0].items()) == expected


def test_malformed_header_pairs_fail_as_the_plain_merge_fails() -> None:
    malformed: list[Any] = [[("a", "1", "x")], [(["a"], "1")], [("a",)], [(5, "1")], [("a", "1"), None]]
    for headers in malformed:
        with pytest.raises((AttributeError, TypeError, ValueError)) as plain:
            _merged_headers(headers)
        with pytest.raises(type(plain.value)) as fast:
            _header_fields(headers)
        assert str(fast.value) == str(plain.value)


def test_plans_and_name_verdicts_are_bounded() -> None:
    layout = input_layout(s3_operation("PutObject").input_shape)
    restxml_request._PLANS.clear()
    restxml_request._LOWER_CASE_NAMES.clear()
    for number in range(MAX_PLANS + 10):
        names = ("host", f"x-amz-meta-{number}")
        _plan(layout, (), names)
        assert _lower_case(names)
        assert len(restxml_request._PLANS) <= MAX_PLANS
        assert len(restxml_request._LOWER_CASE_NAMES) <= MAX_PLANS
    restxml_request._PLANS.clear()
    restxml_request._LOWER_CASE_NAMES.clear()
    long_names = ("x-amz-meta-" + "a" * MAX_PLAN_KEY_CHARS,)
    _plan(layout, (), long_names)
    assert _lower_case(long_names)
    assert not restxml_request._PLANS
    assert not restxml_request._LOWER_CASE_NAMES


_DIGITS = (
    st.text(alphabet="0123456789 +-\u0663\u00b2a", max_size=22)
    | st.integers(-(2**64), 2**64).map(str)
    | st.sampled_from(["0" * 19 + "7", "0" * 20, "9" * 19, "9" * 20, "0" * 18 + "42"])  # the 19-digit limit
)


@pytest.mark.parametrize(
    ("operation", "member_name"),
    [("PutObject", "ContentLength"), ("PutObject", "ObjectLockEventHoldDurationDays"), ("UploadPart", "ContentLength")],
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_DIGITS, decoded=st.none() | _DIGITS)
def test_integer_headers_read_as_the_general_reader_reads_them(
    operation: str, member_name: str, text: str, decoded: str | None
) -> None:
    layout = input_layout(s3_operation(operation).input_shape)
    bound = next(item for items in layout.headers.values() for item in items if item.name == member_name)
    fields = {bound.wire: text} if decoded is None else {bound.wire: text, "x-amz-decoded-content-length": decoded}
    assert bound.read is not None
    assert _value_or_error(lambda: bound.read(fields)) == _value_or_error(
        lambda: _header_value(bound.member, bound.wire, fields)
    )


def _value_or_error(read: Any) -> Any:
    try:
        value = read()
    except AwsError as error:
        return error.code, error.message, error.extra
    return type(value).__name__, value


def _encoded_size(values: Mapping[str, str]) -> Any:
    try:
        return sum(len(key.encode("utf-8")) + len(value.encode("utf-8")) for key, value in values.items())
    except (AttributeError, TypeError) as error:
        return type(error).__name__


def _size_or_error(size: Any, values: Any) -> Any:
    try:
        return size(values)
    except (AttributeError, TypeError) as error:
        return type(error).__name__


@settings(max_examples=400, deadline=None)
@given(values=st.dictionaries(st.text(max_size=6), st.text(max_size=6) | st.integers() | st.binary(max_size=2)))
def test_metadata_sizes_are_utf8_byte_counts(values: dict[str, Any]) -> None:
    assert _size_or_error(_map_size, values) == _encoded_size(values)
    for key in values:
        assert _utf8_size(key) == len(key.encode("utf-8"))


@pytest.mark.parametrize("tz", [None, UTC, timezone(timedelta(0)), timezone(timedelta(hours=-5))])
@settings(max_examples=100, deadline=None)
@given(when=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_remembered_http_dates_are_written_afresh_the_same(tz: timezone | None, when: datetime) -> None:
    value = when.replace(tzinfo=tz)
    expected = format_datetime(value.astimezone(UTC) if tz is not None else value.replace(tzinfo=UTC), usegmt=True)
    assert _http_date(value) == expected
    assert format_http_date(value) == expected
    assert format_http_date(value.replace()) == expected  # an equal datetime: the remembered text


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet=st.characters(max_codepoint=0x2030), max_size=8))
def test_header_text_is_refused_exactly_when_it_holds_a_line_break_or_nul(text: str) -> None:
    unsafe = any(char in text for char in "\r\n\0")
    operation = s3_operation("GetObject")
    results: list[dict[str, Any]] = [{"ETag": text}, {"Metadata": {"k": text}}, {"Metadata": {text: "v"}}]
    if unsafe:
        with pytest.raises(ValueError, match="line break"):
            _safe(text)
        for result in results:
            with pytest.raises(ValueError, match="line break"):
                s3_response(operation, result)
    else:
        assert _safe(text) is text
        sent = text if text.isascii() else mail_safe(text)  # beyond ASCII: an RFC 2047 encoded-word
        assert ("ETag", sent) in s3_response(operation, results[0])[1]
        assert ("x-amz-meta-k", sent) in s3_response(operation, results[1])[1]


def test_plan_steps_come_in_member_order() -> None:
    shape = s3_operation("PutObject").input_shape
    order = list(shape.members)
    names = ("x-amz-meta-z", "content-type", "x-amz-storage-class", "content-length", "x-amz-meta-a", "cache-control")
    plan = _plan(input_layout(shape), (), names)
    positions = [order.index(step.name) for step in plan]
    assert positions == sorted(positions)
    metadata = next(step for step in plan if step.name == "Metadata")
    assert list(map(operator.itemgetter(0), metadata.keys)) == ["z", "a"]


def test_a_refused_metadata_key_is_named_before_its_value_is_written() -> None:
    operation = s3_operation("GetObject")
    with pytest.raises(ValueError, match="line break"):  # the key is refused before the value's type is
        s3_response(operation, {"Metadata": {"a\nb": 5}})
    with pytest.raises(TypeError):
        s3_response(operation, {"Metadata": {"ok": 5}})
    _, headers, _ = s3_response(operation, {"Metadata": {"tab\tkey": "v\tw", 7: "x"}})
    assert headers[:2] == [("x-amz-meta-tab\tkey", "v\tw"), ("x-amz-meta-7", "x")]
