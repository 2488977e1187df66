"""S3 requests -> (operation, params): URI labels, query string, headers and payload, typed by the input shape.

`params` is keyed by botocore input member names, as botocore's serializer would have been given them:
URI labels percent-decoded once (`{Key+}` greedy, slashes kept); header and query values typed
(ints, bools, datetimes, header lists); `x-amz-meta-*` headers as the `Metadata` dict with lower-cased
keys, as S3 stores them; structure payloads (`Delete`, `Tagging`, `CreateBucketConfiguration`, ...)
parsed from XML with a size cap; string payloads (`Policy`) as text with a cap; streaming blob payloads
(`Body` of PutObject/UploadPart) the caller's file object itself, unread.

Beyond what the model says, S3 rules applied here: a key longer than 1024 UTF-8 bytes is
KeyTooLongError; user metadata above 2 KB is MetadataTooLarge; a streaming upload without a length is
MissingContentLength, and an aws-chunked upload's length is `x-amz-decoded-content-length` (with
`aws-chunked` dropped from Content-Encoding); a Content-MD5 is checked against any body read here;
`x-amz-copy-source` must name a bucket and a key (it is passed on as sent, still URL-encoded; see
`parse_copy_source`). Invalid HTTP dates in If-Modified-Since, If-Unmodified-Since and Expires are
ignored, as HTTP requires of conditional headers; any other value that does not fit is InvalidArgument.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import io
import operator
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from rolegate.errors import (
    BadDigest,
    InvalidDigest,
    InvalidRequest,
    KeyTooLongError,
    MetadataTooLarge,
    MissingContentLength,
)
from rolegate.protocol.models import INT_RANGES, OperationModel, Shape
from rolegate.protocol.restxml_body import read_document, wire_name
from rolegate.protocol.restxml_errors import (
    INVALID_URI,
    NOT_IMPLEMENTED,
    InvalidURI,
    MaxMessageLengthExceeded,
    MissingRequestBodyError,
    NotImplementedOperation,
    invalid_argument,
)
from rolegate.protocol.restxml_routes import match_route
from rolegate.protocol.restxml_uri import (
    COPY_SOURCE_HEADER,
    parse_copy_source,
    parse_query_string,
    percent_decode,
)
from rolegate.protocol.restxml_values import HEADER, QUERY, parse_scalar, split_header_list

DEFAULT_MAX_XML_BYTES = 1024 * 1024
DEFAULT_MAX_TEXT_BYTES = 1024 * 1024
MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
HTTP_DATE_HEADERS = frozenset(
    {
        "if-modified-since",
        "if-unmodified-since",
        "expires",
        "x-amz-copy-source-if-modified-since",
        "x-amz-copy-source-if-unmodified-since",
    }
)
DECODED_LENGTH = "x-amz-decoded-content-length"
_FIRST = operator.itemgetter(0)
_REWRITTEN = frozenset({"content-length", "content-encoding"})  # headers whose value is not the text as sent
MAX_PLANS = 512  # request plans kept, over all shapes (see `_plan`)
MAX_PLAN_KEY_CHARS = 4096  # header names and query keys longer than this in all are planned, never kept


class Readable(Protocol):
    """What the codec needs of a request body: a binary file object positioned at its start."""

    def read(self, size: int = -1, /) -> bytes: ...


def normalize_headers(headers: Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]) -> dict[str, str]:
    """Lower-cased names; a header sent twice is joined with commas (RFC 9110); bytes read as Latin-1."""
    return _header_fields(headers)[0]


def _header_fields(
    headers: Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]],
) -> tuple[dict[str, str], tuple[str, ...]]:
    """`normalize_headers`, and the names in order.

    What an ASGI server hands over (a list of text pairs, names distinct and already lower case) needs
    none of that work: a dict of the pairs is the answer. Telling so takes C-level calls only, once
    whether a set of names is all lower case is remembered (see `_lower_case`). Pairs are expected to be
    pairs (tuples, as documented): one-shot iterators standing in for them would be spent by `dict` when a
    name repeats or a pair is malformed, before the plain merge reads them again.
    """
    if headers.__class__ is list or headers.__class__ is tuple:
        try:
            merged: dict[str, str] | None = dict(headers)
        except (TypeError, ValueError):  # not pairs of hashables: the loop below raises what it always raised
            merged = None
        if merged is not None and len(merged) == len(headers):
            names = tuple(merged)
            if _all_text(merged.values()) and _lower_case(names):
                return merged, names
            headers = list(merged.items())  # no name repeats: the very pairs, in order, whatever held them
    merged = _merged_headers(headers)
    return merged, tuple(merged)


def _all_text(values: Iterable[object]) -> bool:
    """Whether every value is text: then none is bytes, the one kind `_merged_headers` would change."""
    try:
        "".join(values)  # type: ignore[arg-type]  # one C call, cheaper than a type test per value
    except TypeError:
        return False
    return True


def _lower_case(names: tuple[str, ...]) -> bool:
    """Whether every name is text equal to its lower case.

    Clients send the same few sets of names again and again, so the sets found lower case are kept,
    bounded as request plans are (see `_plan`).
    """
    if names in _LOWER_CASE_NAMES:
        return True
    if not all(name.__class__ is str and name.lower() == name for name in names):
        return False
    if sum(map(len, names)) <= MAX_PLAN_KEY_CHARS:
        if len(_LOWER_CASE_NAMES) >= MAX_PLANS:
            _LOWER_CASE_NAMES.clear()
        _LOWER_CASE_NAMES.add(names)
    return True


_LOWER_CASE_NAMES: set[tuple[str, ...]] = set()


def _merged_headers(headers: Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]) -> dict[str, str]:
    pairs: Iterable[tuple[str | bytes, str | bytes]]
    if isinstance(headers, list | tuple):  # never a Mapping: spares the slower ABC check
        pairs = headers
    elif isinstance(headers, Mapping):
        pairs = headers.items()
    else:
        pairs = headers
    merged: dict[str, str] = {}
    for raw_name, raw_value in pairs:
        name = (raw_name if raw_name.__class__ is str else _latin1(raw_name)).lower()
        value = raw_value if raw_value.__class__ is str else _latin1(raw_value)
        if name in merged:
            value = f"{merged[name]},{value}"
        merged[name] = value
    return merged


def _latin1(text: str | bytes) -> str:
    return text.decode("latin-1") if isinstance(text, bytes) else text


def parse_s3_request(
    method: str,
    path: str | bytes,
    raw_query: str | bytes,
    headers: Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]],
    body: Readable | None = None,
    *,
    max_xml_bytes: int = DEFAULT_MAX_XML_BYTES,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
    supported: Container[str] | None = None,
) -> tuple[OperationModel, dict[str, Any]]:
    """The operation a path-style S3 request names and its params; S3's errors (AwsError) otherwise."""
    fields, names = _header_fields(headers)
    query = parse_query_string(raw_query) if raw_query else {}
    encoding = "latin-1" if isinstance(path, bytes) else "utf-8"
    path_text = path.decode("latin-1") if isinstance(path, bytes) else path
    if not path_text.startswith("/"):
        raise InvalidURI(INVALID_URI)
    operation, labels = match_route(method, path_text, query, fields)
    if supported is not None and operation.name not in supported:
        raise NotImplementedOperation(NOT_IMPLEMENTED)
    shape = operation.input_shape
    if shape is None:
        return operation, {}
    layout = input_layout(shape)
    if encoding == "utf-8":  # percent_decode encodes text as UTF-8 itself, and passes plain ASCII through
        decoded = {
            label: value if "%" not in value and value.isascii() else percent_decode(value)  # skip the call
            for label, value in labels.items()
        }
    else:
        decoded = {label: percent_decode(value.encode(encoding)) for label, value in labels.items()}
    params = _located_members(layout, decoded, query, fields, names)
    _check_limits(layout, params, fields)
    if layout.streaming:  # PutObject, UploadPart: `_payload`'s first case, without building a dict to merge
        params[str(layout.payload)] = _streaming_body(fields, body)
    elif layout.payload is not None or layout.body_members:  # else nothing in the body is read (GetObject)
        params.update(_payload(layout, fields, body, max_xml_bytes, max_text_bytes))
    return operation, params


HeaderReader = Callable[[Mapping[str, str]], Any]


@dataclass(frozen=True)
class Bound:
    """An input member bound to the URI, the query string or headers, with what reading it needs."""

    position: int
    name: str
    member: Shape
    location: str
    wire: str  # as looked up: header names and prefixes lower-cased, labels and query keys as modelled
    verbatim: bool  # a URI label or a plain string header: the text as sent is the value
    read: HeaderReader | None  # a typed header: its value (None: leave it out) from the request's headers


@dataclass(frozen=True)
class InputLayout:
    """What parsing needs of an input shape, worked out once per shape rather than once per request.

    The bound members are indexed by where the request carries them, so a request looks up the few
    headers and query keys it sent instead of testing each of the dozens of members an S3 input has.
    """

    shape: Shape
    labels: tuple[Bound, ...]
    query: dict[str, tuple[Bound, ...]]
    headers: dict[str, tuple[Bound, ...]]
    prefixes: tuple[Bound, ...]
    limits: tuple[tuple[str, bool], ...]  # (name, True for an object key, False for a header map), in order
    copy_source: bool
    payload: str | None
    streaming: bool  # the payload is a streaming blob or string: the body is passed on unread
    body_members: bool
    body_required: bool
    located: frozenset[str]


@functools.cache
def input_layout(shape: Shape) -> InputLayout:
    """The shape's layout, computed on first use (botocore shapes compare by identity and live as long as
    their cached service model)."""
    return _build_layout(shape)


def _build_layout(shape: Shape) -> InputLayout:
    bound = _bound_members(shape)
    query: dict[str, tuple[Bound, ...]] = {}
    headers: dict[str, tuple[Bound, ...]] = {}
    for item in bound:
        if item.location == "querystring" and item.member.type_name != "map":
            query[item.wire] = (*query.get(item.wire, ()), item)
        elif item.location == "header":
            headers[item.wire] = (*headers.get(item.wire, ()), item)
    located = frozenset(name for name, member in shape.members.items() if member.serialization.get("location"))
    payload = shape.serialization.get("payload")
    return InputLayout(
        shape=shape,
        labels=tuple(item for item in bound if item.location == "uri"),
        query=query,
        headers=headers,
        prefixes=tuple(item for item in bound if item.location == "headers"),
        limits=_limits(shape),
        copy_source=any(
            member.serialization.get("name", "").lower() == COPY_SOURCE_HEADER for member in shape.members.values()
        ),
        payload=payload,
        streaming=payload is not None
        and shape.members[payload].type_name in ("blob", "string")
        and bool(shape.members[payload].serialization.get("streaming")),
        body_members=len(located) < len(shape.members),
        body_required=any(name not in located for name in shape.required_members),
        located=located,
    )


def _bound_members(shape: Shape) -> tuple[Bound, ...]:
    found: list[Bound] = []
    for position, (name, member) in enumerate(shape.members.items()):
        location = member.serialization.get("location")
        if location is None:
            continue
        wire = str(member.serialization.get("name", name))
        if location in ("header", "headers"):
            wire = wire.lower()
        plain = member.type_name == "string" and not member.serialization.get("jsonvalue")
        verbatim = location == "uri" or (location == "header" and plain and wire not in _REWRITTEN)
        read = _header_reader(member, wire) if location == "header" and not verbatim else None
        found.append(Bound(position, name, member, str(location), wire, verbatim, read))
    return tuple(found)


def _header_reader(member: Shape, wire: str) -> HeaderReader:
    """`_header_value` bound to one member; integers (Content-Length above all) take a shortcut when their
    text is plain ASCII digits, which `parse_scalar` would read the same way."""

    def read(fields: Mapping[str, str]) -> Any:
        return _header_value(member, wire, fields)

    if member.type_name not in INT_RANGES or wire == "content-encoding":
        return read
    low, high = INT_RANGES[member.type_name]
    length = wire == "content-length"

    def read_integer(fields: Mapping[str, str]) -> Any:
        text = fields[DECODED_LENGTH] if length and DECODED_LENGTH in fields else fields[wire]
        # at most 19 digits, as parse_scalar's pattern allows; ASCII, so isdigit means 0-9 only
        if text.__class__ is str and len(text) <= 19 and text.isdigit() and text.isascii():
            number = int(text)
            if low <= number <= high:
                return number
        return _header_value(member, wire, fields)

    return read_integer


def _limits(shape: Shape) -> tuple[tuple[str, bool], ...]:
    found: list[tuple[str, bool]] = []
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        if location == "uri" and member.name == "ObjectKey":
            found.append((name, True))
        elif location == "headers":
            found.append((name, False))
    return tuple(found)


LABEL, QUERY_VALUE, TEXT, HEADER_VALUE, HEADER_MAP = range(5)


class Step(NamedTuple):
    """One param of a request, from where it was sent: a URI label, a query key, a header (its text, or
    typed by `read`), or a header map with its (key, header name) pairs in request order."""

    source: int
    name: str
    wire: str
    bound: Bound
    keys: tuple[tuple[str, str], ...]


Plan = tuple[Step, ...]


def _located_members(
    layout: InputLayout,
    labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    fields: Mapping[str, str],
    names: tuple[str, ...],
) -> dict[str, Any]:
    """Params from the URI, query and headers, in member order (so the first bad member is the one named).

    Which members a request carries, and in what order they are read, depends only on the names of its
    headers and query keys, not on their values: clients send the same few sets of names again and
    again, so that work is a plan looked up per request (see `_plan`), and only the values are read here.
    """
    plan = _plan(layout, tuple(query) if query else (), names)  # names: tuple(fields)
    params: dict[str, Any] = {}
    for source, name, wire, bound, keys in plan:
        if source == TEXT:
            params[name] = fields[wire]
        elif source == LABEL:
            text = labels.get(wire)
            if text is not None:  # a label the match lacks is left out (none does: templates name the shape's)
                params[name] = text
        elif source == HEADER_VALUE:
            value = bound.read(fields) if bound.read is not None else None
            if value is not None:
                params[name] = value
        elif source == QUERY_VALUE:
            params[name] = _query_value(bound.member, wire, query[wire])
        else:
            params[name] = {key: fields[header] for key, header in keys}
    return params


def _plan(layout: InputLayout, query_keys: tuple[str, ...], names: tuple[str, ...]) -> Plan:
    """The steps for a request with these query keys and (lower-cased, distinct) header names.

    Kept while few: at most MAX_PLANS (all are dropped when full, simpler and cheaper per lookup than
    tracking recency), and none for unusually long names, so a client inventing names costs itself a
    plan per request and the process a bounded amount of memory.
    """
    key = (layout.shape, query_keys, names)
    found = _PLANS.get(key)
    if found is not None:
        return found
    plan = _build_plan(layout, query_keys, names)
    if sum(map(len, names)) + sum(map(len, query_keys)) <= MAX_PLAN_KEY_CHARS:
        if len(_PLANS) >= MAX_PLANS:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


_PLANS: dict[tuple[Shape, tuple[str, ...], tuple[str, ...]], Plan] = {}


def _build_plan(layout: InputLayout, query_keys: tuple[str, ...], names: tuple[str, ...]) -> Plan:
    """The members such a request carries, in member order: labels, query keys and header names looked up
    in the layout's indexes, and every name tried against the header-map prefixes (`x-amz-meta-`), which
    take a name only when something follows the prefix."""
    hits: list[tuple[int, Step]] = [
        (item.position, Step(LABEL, item.name, item.wire, item, ())) for item in layout.labels
    ]
    for query_key in query_keys:
        hits.extend(
            (item.position, Step(QUERY_VALUE, item.name, item.wire, item, ()))
            for item in layout.query.get(query_key, ())
        )
    for wire in layout.headers.keys() & set(names):
        for item in layout.headers[wire]:
            hits.append((item.position, Step(TEXT if item.verbatim else HEADER_VALUE, item.name, wire, item, ())))
    for item in layout.prefixes:
        prefix = item.wire
        keys = tuple((name[len(prefix) :], name) for name in names if name.startswith(prefix) and name != prefix)
        if keys:
            hits.append((item.position, Step(HEADER_MAP, item.name, prefix, item, keys)))
    hits.sort(key=_FIRST)
    return tuple(step for _, step in hits)


def _query_value(member: Shape, wire: str, values: list[str]) -> Any:
    if member.type_name == "list":
        return [_typed(member.member, wire, value, QUERY) for value in values]
    if len(values) > 1:
        raise invalid_argument(f"Multiple values given for the parameter {wire}", wire, values[0])
    return _typed(member, wire, values[0], QUERY)


def _header_value(member: Shape, wire: str, fields: Mapping[str, str]) -> Any:
    text = fields[wire]
    if wire == "content-length" and DECODED_LENGTH in fields:
        text = fields[DECODED_LENGTH]
    if wire == "content-encoding":
        try:
            parts = split_header_list(text)
        except ValueError:  # not a list (an unclosed quote): S3 keeps whatever coding it is told, as sent
            return text
        text = ",".join(part for part in parts if part.lower() != "aws-chunked")
        return text or None
    if member.type_name == "list":
        try:
            items = split_header_list(text)
        except ValueError:
            raise invalid_argument(f"Invalid value for the header {wire}", wire, text) from None
        return [_typed(member.member, wire, item, HEADER) for item in items]
    if member.type_name == "timestamp" and wire in HTTP_DATE_HEADERS:
        try:
            return parse_scalar(member, text, HEADER)
        except ValueError:
            return None
    return _typed(member, wire, text, HEADER)


def _typed(member: Shape, wire: str, text: str, default_timestamp: str) -> Any:
    try:
        return parse_scalar(member, text, default_timestamp)
    except ValueError:
        if member.type_name in ("integer", "long"):
            message = f"Provided {wire} not an integer or within integer range"
        else:
            message = f"Invalid value for the parameter {wire}: expected {member.type_name}"
        raise invalid_argument(message, wire, text) from None


def _check_limits(layout: InputLayout, params: Mapping[str, Any], fields: Mapping[str, str]) -> None:
    for name, is_key in layout.limits:
        if name not in params:
            continue
        if is_key:
            size = _utf8_size(params[name])
            if size > MAX_KEY_BYTES:
                raise KeyTooLongError("Your key is too long", Size=size, MaxSizeAllowed=MAX_KEY_BYTES)
            continue
        size = _map_size(params[name])
        if size > MAX_METADATA_BYTES:
            raise MetadataTooLarge(
                "Your metadata headers exceed the maximum allowed metadata size.",
                Size=size,
                MaxSizeAllowed=MAX_METADATA_BYTES,
            )
    if layout.copy_source and COPY_SOURCE_HEADER in fields:
        _bucket, key, _version = parse_copy_source(fields[COPY_SOURCE_HEADER])
        if len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise KeyTooLongError("Your key is too long", Size=len(key.encode("utf-8")), MaxSizeAllowed=MAX_KEY_BYTES)


def _utf8_size(text: str) -> int:
    """Bytes in UTF-8: an ASCII text's length, without encoding a copy."""
    return len(text) if text.__class__ is str and text.isascii() else len(text.encode("utf-8"))


def _map_size(values: Mapping[str, str]) -> int:
    """UTF-8 bytes of a header map's keys and values; when all are ASCII (the usual metadata), two joins."""
    if values.__class__ is dict:
        try:
            text = "".join(values) + "".join(values.values())
        except TypeError:  # not all text: the sum below raises what it always raised
            text = "\udc80"
        if text.isascii():
            return len(text)
    return sum(len(key.encode("utf-8")) + len(value.encode("utf-8")) for key, value in values.items())


def _payload(
    layout: InputLayout, fields: Mapping[str, str], body: Readable | None, max_xml: int, max_text: int
) -> dict[str, Any]:
    payload = layout.payload
    if payload is None:
        return _body_members(layout, fields, body, max_xml) if layout.body_members else {}
    if layout.streaming:
        return {payload: _streaming_body(fields, body)}
    shape = layout.shape
    member = shape.members[payload]
    limit = max_xml if member.type_name == "structure" else max_text
    data = _read_capped(body, limit)
    _check_md5(fields, data)
    if not data.strip():
        if payload in shape.required_members:
            raise MissingRequestBodyError("Request Body is empty")
        return {}
    if member.type_name == "structure":
        return {payload: read_document(member, wire_name(member, payload), data, max_bytes=limit)}
    if member.type_name == "blob":
        return {payload: data}
    try:
        return {payload: data.decode("utf-8")}
    except UnicodeDecodeError:
        raise InvalidRequest("The request body is not valid UTF-8") from None


def _streaming_body(fields: Mapping[str, str], body: Readable | None) -> Readable:
    """A streaming payload is the body itself, unread; S3 wants its length announced."""
    if "content-length" not in fields and DECODED_LENGTH not in fields:
        raise MissingContentLength("You must provide the Content-Length HTTP header.")
    return body if body is not None else io.BytesIO(b"")


def _body_members(
    layout: InputLayout, fields: Mapping[str, str], body: Readable | None, max_xml: int
) -> dict[str, Any]:
    """Members with no location and no payload trait live under a root named after the input shape."""
    data = _read_capped(body, max_xml)
    _check_md5(fields, data)
    if not data.strip():
        if layout.body_required:
            raise MissingRequestBodyError("Request Body is empty")
        return {}
    shape = layout.shape
    root = str(shape.serialization.get("name", shape.name))
    parsed = read_document(shape, root, data, max_bytes=max_xml)
    return {name: value for name, value in parsed.items() if name not in layout.located}


def _read_capped(body: Readable | None, limit: int) -> bytes:
    if body is None:
        return b""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = body.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise MaxMessageLengthExceeded("Your request was too big.", MaxMessageLengthBytes=limit)
    return b"".join(chunks)


def _check_md5(fields: Mapping[str, str], data: bytes) -> None:
    claimed = fields.get("content-md5")
    if claimed is None:
        return
    try:
        digest = base64.b64decode(claimed.strip(), validate=True)
    except ValueError:  # binascii.Error, and non-ASCII text
        digest = b""
    if len(digest) != 16:
        raise InvalidDigest("The Content-MD5 you specified was invalid.")
    if not hmac.compare_digest(digest, hashlib.md5(data, usedforsecurity=False).digest()):
        raise BadDigest("The Content-MD5 you specified did not match what we received.")
