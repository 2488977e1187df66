"""The per-request shortcuts of the S3 codec answer exactly what the plain rules answer.

The virtual-host split is cached per (Host, base hosts), plain ASCII labels skip percent-decoding,
routing stops at the first ready route of each path group, and a response knows whether it wrote a
Content-Length instead of searching its headers: each is checked against a direct statement of the
rule over generated inputs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_restxml_support import route_header_names, route_query_keys, s3_operation

from rolegate.errors import AwsError
from rolegate.protocol.restxml import s3_response, split_bucket_host
from rolegate.protocol.restxml_routes import _candidates, _rank, match_route
from rolegate.protocol.restxml_uri import percent_decode

HOST_PARTS = ["b", "B", "s3", "localhost", "LocalHost", "example", "", "-", "[::1]", "a%2Fb", "x y"]
PORTS = ["", ":9000", ":", ":123456", ":80."]


def _reference_split(host: str, path: str, base_hosts: list[str]) -> str:
    """split_bucket_host's rule, computed from scratch on every call."""
    name = host.strip().lower()
    if name.startswith("["):
        return path
    port = re.search(r":[0-9]{1,5}", name)  # the first one: only a port when nothing follows it
    if port and port.end() == len(name):
        name = name[: port.start()]
    name = name.rstrip(".")
    bases = sorted({base.lower().rstrip(".") for base in base_hosts if base}, key=len, reverse=True)
    if not name or name in bases:
        return path
    for base in bases:
        if name.endswith("." + base):
            tail = path if path.startswith("/") else "/" + path
            return "/" + quote(name[: -len(base) - 1], safe="") + ("" if tail == "/" else tail)
    return path


@settings(max_examples=500, deadline=None)
@given(
    labels=st.lists(st.sampled_from(HOST_PARTS), max_size=4),
    port=st.sampled_from(PORTS),
    trailing_dot=st.booleans(),
    path=st.sampled_from(["/", "/k", "k", "/a/b", ""]),
    bases=st.lists(st.sampled_from(["localhost", "s3.localhost", "S3.LOCALHOST.", "example", ""]), max_size=3),
)
def test_the_cached_host_split_is_the_plain_rule(
    labels: list[str], port: str, trailing_dot: bool, path: str, bases: list[str]
) -> None:
    host = ".".join(labels) + ("." if trailing_dot else "") + port
    expected = _reference_split(host, path, bases)
    assert split_bucket_host(host, path, tuple(bases)) == expected  # cached
    assert split_bucket_host(host, path, tuple(bases)) == expected  # and again, from the cache
    assert split_bucket_host(host, path, bases) == expected  # a list: never cached
    assert split_bucket_host(host, path, iter(bases)) == expected


def test_a_long_host_is_split_without_the_cache() -> None:
    host = "b" * 400 + ".localhost"
    assert split_bucket_host(host, "/k", ("localhost",)) == "/" + "b" * 400 + "/k"


@settings(max_examples=500, deadline=None)
@given(parts=st.lists(st.sampled_from([*"ab+/ %2F\u00e9~\x00\ud800", "%41", "%zz", "%e9", "%C3%A9"])))
def test_text_decodes_as_its_utf8_bytes_do(parts: list[str]) -> None:
    """The text fast path agrees with the bytes path (which has no shortcut) on values and errors."""
    text = "".join(parts)
    if "\ud800" in text:  # not encodable: both ways fail alike
        with pytest.raises(UnicodeEncodeError):
            percent_decode(text)
        return
    for plus in (False, True):
        try:
            expected: Any = percent_decode(text.encode("utf-8"), plus_is_space=plus)
        except AwsError as error:
            expected = error.code
        try:
            found: Any = percent_decode(text, plus_is_space=plus)
        except AwsError as error:
            found = error.code
        assert found == expected


def _two_step_match(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[str, Any]:
    """The router's steps as first written: every candidate, then the most query keys, then the preference."""
    method = method.upper()
    found = _candidates(method, path, query)
    if not found:
        return "error", "MethodNotAllowed"
    most = max(route.arity for route, _ in found)
    ready = [(route, m) for route, m in found if route.arity == most and route.ready(query, headers)]
    if ready:
        route, m = min(ready, key=lambda item: item[0].preference)
        return route.operation.name, m.groupdict()
    if most == 0:
        return "error", "MethodNotAllowed"
    first = min((route for route, _ in found if route.arity == most), key=_rank)
    return "error", first.missing(query, headers)[0]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "head", "PATCH"]),
    segments=st.lists(st.sampled_from(["b", "k", "", "x/y", "%2F"]), max_size=4),
    trailing=st.booleans(),
    query=st.dictionaries(st.sampled_from(route_query_keys()), st.lists(st.sampled_from(["", "2", "x"]), min_size=1)),
    headers=st.sets(st.sampled_from(route_header_names())),
)
def test_the_one_pass_router_picks_what_the_two_steps_pick(
    method: str, segments: list[str], trailing: bool, query: dict[str, list[str]], headers: set[str]
) -> None:
    path = "/" + "/".join(segments) + ("/" if trailing and segments else "")
    fields = dict.fromkeys(headers, "v")
    assert _routed(method, path, query, fields) == _two_step_match(method, path, query, fields)


def _routed(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[str, Any]:
    """match_route's answer in _two_step_match's terms (the error's code, or the missing member it names)."""
    try:
        operation, labels = match_route(method, path, query, headers)
    except AwsError as error:
        if error.code == "MethodNotAllowed":
            return "error", "MethodNotAllowed"
        location = "header" if " header " in error.message else "querystring"
        return "error", (location, error.message.rpartition(": ")[2])
    return operation.name, labels


OBJECT_RESULT: dict[str, Any] = {
    "AcceptRanges": "bytes",
    "LastModified": datetime(2026, 11, 23, 19, 3, 6, tzinfo=UTC),
    "ContentLength": 3,
    "ETag": '"abc"',
    "ContentType": "text/plain",
    "Metadata": {"content-length": "9", "a": "b"},
    "Body": b"abc",
}


@pytest.mark.parametrize("operation", ["GetObject", "HeadObject", "PutObject", "DeleteObject", "GetObjectAcl"])
@settings(max_examples=60, deadline=None)
@given(members=st.sets(st.sampled_from(sorted(OBJECT_RESULT))))
def test_content_length_is_written_once_for_a_bytes_body(operation: str, members: set[str]) -> None:
    model = s3_operation(operation)
    shape = model.output_shape
    result = {name: OBJECT_RESULT[name] for name in members if shape is not None and name in shape.members}
    status, headers, body = s3_response(model, result, request_id="r")
    lengths = [value for name, value in headers if name.lower() == "content-length"]
    if isinstance(body, bytes) and status not in (204, 304):
        expected = [str(result["ContentLength"])] if "ContentLength" in result else [str(len(body))]
        assert lengths == expected
    elif "ContentLength" in result:
        assert lengths == [str(result["ContentLength"])]
    else:
        assert lengths == []
