"""The S3 codec's precomputed fast paths agree with the plain rules they replace.

Routing tries an index instead of every route, header writers are bound per member instead of
dispatching per value, and request params come from per-shape layouts: each is checked here against a
direct statement of the rule (a linear scan of the routes, `scalar_text`, `email.utils`), so the
shortcuts can change how fast the codec runs but never what it answers.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_restxml_support import route_header_names, route_query_keys, s3_operation

from rolegate.errors import AwsError
from rolegate.protocol.models import as_utc, service_model
from rolegate.protocol.restxml import parse_s3_request, s3_response
from rolegate.protocol.restxml_request import normalize_headers
from rolegate.protocol.restxml_routes import Route, match_route, routes
from rolegate.protocol.restxml_uri import percent_decode
from rolegate.protocol.restxml_values import HEADER, format_http_date, scalar_text, scalar_writer

METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "get", "PATCH"]
SEGMENTS = ["b", "k", "", "a%20b", "WriteGetObjectResponse", "x/y"]


def _linear_match(
    method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
) -> tuple[str, dict[str, str]] | tuple[str, str]:
    """The routing rules of restxml_routes, applied by scanning every route (the reference)."""
    method = method.upper()
    found = [(route, m) for route in routes() if (m := route.matches(method, path, query)) is not None]
    if not found:
        return "error", "MethodNotAllowed"
    most = max(len(route.literals) for route, _ in found)
    found = [(route, m) for route, m in found if len(route.literals) == most]
    ready = [(route, m) for route, m in found if not route.missing(query, headers)]
    if not ready:
        if most == 0:
            return "error", "MethodNotAllowed"
        first: Route = min(found, key=lambda item: item[0].rank)[0]
        return "error", str(first.missing(query, headers)[0])
    route, m = min(ready, key=lambda item: (-len(item[0].required), item[0].rank))
    return route.operation.name, {k: v for k, v in m.groupdict().items() if v is not None}


def _indexed_match(
    method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
) -> tuple[str, dict[str, str]] | tuple[str, str]:
    try:
        operation, labels = match_route(method, path, query, headers)
    except AwsError as error:
        if error.code == "MethodNotAllowed":
            return "error", "MethodNotAllowed"
        location = "header" if "header" in error.message else "querystring"
        return "error", str((location, error.message.rpartition(": ")[2]))
    return operation.name, labels


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(METHODS),
    segments=st.lists(st.sampled_from(SEGMENTS), max_size=4),
    trailing=st.booleans(),
    query=st.dictionaries(st.sampled_from(route_query_keys()), st.lists(st.sampled_from(["", "2", "x"]), min_size=1)),
    headers=st.sets(st.sampled_from(route_header_names())),
)
def test_the_route_index_picks_what_a_scan_of_every_route_picks(
    method: str, segments: list[str], trailing: bool, query: dict[str, list[str]], headers: set[str]
) -> None:
    path = "/" + "/".join(segments) + ("/" if trailing and segments else "")
    fields = dict.fromkeys(headers, "v")
    assert _indexed_match(method, path, query, fields) == _linear_match(method, path, query, fields)


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "expected"),
    [
        ("GET", "/b/k", "", {}, "GetObject"),
        ("GET", "/b/k", "uploadId=u", {}, "ListParts"),
        ("PUT", "/b/k", "", {}, "PutObject"),
        ("PUT", "/b/k", "", {"x-amz-copy-source": "s/k"}, "CopyObject"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {}, "UploadPart"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {"x-amz-copy-source": "s/k"}, "UploadPartCopy"),
        ("GET", "/b", "list-type=2", {}, "ListObjectsV2"),
        ("GET", "/b/", "", {}, "ListObjects"),
        ("GET", "/b", "lifecycle", {}, "GetBucketLifecycleConfiguration"),
        ("GET", "/", "", {}, "ListBuckets"),
        ("HEAD", "/b/a/b/c", "", {}, "HeadObject"),
    ],
)
def test_precedence_survives_the_index(
    method: str, path: str, query: str, headers: dict[str, str], expected: str
) -> None:
    assert parse_s3_request(method, path, query, {**headers, "content-length": "0"})[0].name == expected


def _input_members(name: str) -> list[str]:
    shape = s3_operation(name).input_shape
    return list(shape.members)


def test_params_come_in_member_order_whatever_order_the_request_uses() -> None:
    headers = [
        ("x-amz-meta-b", "2"),
        ("Content-Type", "text/plain"),
        ("x-amz-storage-class", "STANDARD"),
        ("X-Amz-Meta-A", "1"),
        ("Content-Length", "3"),
        ("Cache-Control", "no-cache"),
    ]
    _, params = parse_s3_request("PUT", "/b/k", "", headers, io.BytesIO(b"abc"))
    located = [name for name in params if name != "Body"]  # the payload comes last, after the bound members
    assert located == sorted(located, key=_input_members("PutObject").index)
    assert params["Metadata"] == {"b": "2", "a": "1"}


def test_the_first_bad_member_in_member_order_is_the_one_named() -> None:
    headers = [
        ("x-amz-object-lock-event-hold-duration-days", "many"),  # ObjectLockEventHoldDurationDays
        ("x-amz-server-side-encryption-bucket-key-enabled", "maybe"),  # BucketKeyEnabled
        ("x-amz-write-offset-bytes", "far"),  # WriteOffsetBytes: the earliest member of the three
        ("content-length", "0"),
    ]
    with pytest.raises(AwsError) as caught:
        parse_s3_request("PUT", "/b/k", "", headers, io.BytesIO(b""))
    assert caught.value.extra["ArgumentName"] == "x-amz-write-offset-bytes"


@pytest.mark.parametrize("headers", [[], [("X-Amz-Meta-", "v")], [("x-amz-metadata-directive", "COPY")]])
def test_metadata_needs_a_name_after_the_prefix(headers: list[tuple[str, str]]) -> None:
    _, params = parse_s3_request("PUT", "/b/k", "", [*headers, ("content-length", "0")], io.BytesIO(b""))
    assert "Metadata" not in params


def test_headers_normalise_the_same_from_str_bytes_mappings_and_generators() -> None:
    pairs: list[tuple[str | bytes, str | bytes]] = [("A", "1"), (b"a", b"2"), ("B", "\xe9")]
    expected = {"a": "1,2", "b": "\xe9"}
    assert normalize_headers(pairs) == expected
    assert normalize_headers(tuple(pairs)) == expected
    assert normalize_headers(iter(pairs)) == expected
    assert normalize_headers({"A": "1", "b": "x"}) == {"a": "1", "b": "x"}


@pytest.mark.parametrize("raw", [b"plain", b"a+b", "caf\u00e9".encode(), b"%41%2F", "k\u00e9y"])
def test_percent_decoding_without_escapes_is_the_text_itself(raw: str | bytes) -> None:
    text = raw if isinstance(raw, str) else raw.decode("utf-8")
    assert percent_decode(raw) == text.replace("%41", "A").replace("%2F", "/")


def test_bytes_that_are_not_utf8_are_invalid_uri_with_or_without_escapes() -> None:
    for raw in (b"\xff", b"%FF", b"a\xc3"):
        with pytest.raises(AwsError) as caught:
            percent_decode(raw)
        assert caught.value.code == "InvalidURI"


@settings(max_examples=300, deadline=None)
@given(
    when=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    offset=st.none() | st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_http_dates_read_as_the_standard_library_writes_them(when: datetime, offset: int | None) -> None:
    value = when if offset is None else when.replace(tzinfo=timezone(timedelta(minutes=offset)))
    assert format_http_date(value) == format_datetime(as_utc(value), usegmt=True)


def _header_members() -> list[Any]:
    found: dict[tuple[str, str], Any] = {}
    model = service_model("s3")
    for name in model.operation_names:
        shape = model.operation_model(name).output_shape
        for member in shape.members.values() if shape is not None else ():
            if member.serialization.get("location") == "header" and member.type_name != "list":
                found.setdefault((member.type_name, member.serialization.get("timestampFormat", "")), member)
    return list(found.values())


VALUES: list[Any] = [
    "text",
    "",
    7,
    -1,
    True,
    1.5,
    b"raw",
    None,
    [1],
    datetime(2026, 11, 23, 19, 3, 6, 123000, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5),
]


def _text_or_error(write: Any, value: Any) -> tuple[str, str]:
    try:
        return "ok", write(value)
    except (TypeError, ValueError) as error:
        return type(error).__name__, str(error)


@pytest.mark.parametrize("member", _header_members(), ids=lambda member: member.name)
def test_bound_writers_write_what_scalar_text_writes(member: Any) -> None:
    write = scalar_writer(member, HEADER)
    for value in VALUES:
        expected = _text_or_error(lambda v, shape=member: scalar_text(shape, v, HEADER), value)
        assert _text_or_error(write, value) == expected


def test_object_headers_are_written_in_result_order_with_line_breaks_refused() -> None:
    result = {
        "ETag": '"e"',
        "ContentLength": 3,
        "LastModified": datetime(2026, 11, 23, 19, 3, 6, tzinfo=UTC),
        "Metadata": {"a": "1"},
        "Body": [b"abc"],
    }
    status, headers, _ = s3_response(s3_operation("GetObject"), result)
    assert status == 200
    assert headers == [
        ("ETag", '"e"'),
        ("Content-Length", "3"),
        ("Last-Modified", "Mon, 23 Nov 2026 19:03:06 GMT"),
        ("x-amz-meta-a", "1"),
    ]
    with pytest.raises(ValueError, match="line break"):
        s3_response(s3_operation("GetObject"), {**result, "ContentType": "text/plain\r\nX-Evil: 1"})
