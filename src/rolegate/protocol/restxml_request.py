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
import hashlib
import hmac
import io
from collections.abc import Container, Iterable, Mapping
from typing import Any, Protocol

from rolegate.protocol.models import OperationModel, Shape
from rolegate.protocol.restxml_body import read_document, wire_name
from rolegate.protocol.restxml_errors import (
    INVALID_URI,
    NOT_IMPLEMENTED,
    BadDigest,
    InvalidDigest,
    InvalidRequest,
    InvalidURI,
    KeyTooLongError,
    MaxMessageLengthExceeded,
    MetadataTooLarge,
    MissingContentLength,
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


class Readable(Protocol):
    """What the codec needs of a request body: a binary file object positioned at its start."""

    def read(self, size: int = -1, /) -> bytes: ...


def normalize_headers(headers: Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]) -> dict[str, str]:
    """Lower-cased names; a header sent twice is joined with commas (RFC 9110); bytes read as Latin-1."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    merged: dict[str, str] = {}
    for raw_name, raw_value in pairs:
        name = (raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name).lower()
        value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    return merged


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
    fields = normalize_headers(headers)
    query = parse_query_string(raw_query)
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
    decoded = {label: percent_decode(value.encode(encoding)) for label, value in labels.items()}
    params = _located_members(shape, decoded, query, fields)
    _check_limits(shape, params, fields)
    params.update(_payload(shape, fields, body, max_xml_bytes, max_text_bytes))
    return operation, params


_LOCATIONS: dict[int, tuple[Shape, tuple[tuple[str, Shape, str, str], ...]]] = {}


def _input_locations(shape: Shape) -> tuple[tuple[str, Shape, str, str], ...]:
    """(name, member, location, wire name) of the members bound to the URI, query or headers, per shape once."""
    cached = _LOCATIONS.get(id(shape))
    if cached is not None and cached[0] is shape:
        return cached[1]
    found = tuple(
        (name, member, str(member.serialization["location"]), str(member.serialization.get("name", name)))
        for name, member in shape.members.items()
        if member.serialization.get("location") is not None
    )
    _LOCATIONS[id(shape)] = (shape, found)
    return found


def _located_members(
    shape: Shape, labels: Mapping[str, str], query: Mapping[str, list[str]], fields: Mapping[str, str]
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, member, location, wire in _input_locations(shape):
        if location == "uri" and wire in labels:
            params[name] = labels[wire]
        elif location == "querystring" and wire in query and member.type_name != "map":
            params[name] = _query_value(member, wire, query[wire])
        elif location == "header" and wire.lower() in fields:
            value = _header_value(member, wire.lower(), fields)
            if value is not None:
                params[name] = value
        elif location == "headers":
            found = _header_map(wire.lower(), fields)
            if found:
                params[name] = found
    return params


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
        text = ",".join(part for part in split_header_list(text) if part.lower() != "aws-chunked")
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


def _header_map(prefix: str, fields: Mapping[str, str]) -> dict[str, str]:
    return {name[len(prefix) :]: value for name, value in fields.items() if name.startswith(prefix) and name != prefix}


def _check_limits(shape: Shape, params: Mapping[str, Any], fields: Mapping[str, str]) -> None:
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        if location == "uri" and member.name == "ObjectKey" and name in params:
            size = len(params[name].encode("utf-8"))
            if size > MAX_KEY_BYTES:
                raise KeyTooLongError("Your key is too long", Size=size, MaxSizeAllowed=MAX_KEY_BYTES)
        elif location == "headers" and name in params:
            size = sum(len(key.encode("utf-8")) + len(value.encode("utf-8")) for key, value in params[name].items())
            if size > MAX_METADATA_BYTES:
                raise MetadataTooLarge(
                    "Your metadata headers exceed the maximum allowed metadata size.",
                    Size=size,
                    MaxSizeAllowed=MAX_METADATA_BYTES,
                )
    wire_copy = COPY_SOURCE_HEADER in fields and any(
        member.serialization.get("name", "").lower() == COPY_SOURCE_HEADER for member in shape.members.values()
    )
    if wire_copy:
        _bucket, key, _version = parse_copy_source(fields[COPY_SOURCE_HEADER])
        if len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise KeyTooLongError("Your key is too long", Size=len(key.encode("utf-8")), MaxSizeAllowed=MAX_KEY_BYTES)


def _payload(
    shape: Shape, fields: Mapping[str, str], body: Readable | None, max_xml: int, max_text: int
) -> dict[str, Any]:
    payload = shape.serialization.get("payload")
    if payload is None:
        return _body_members(shape, fields, body, max_xml)
    member = shape.members[payload]
    if member.type_name in ("blob", "string") and member.serialization.get("streaming"):
        if "content-length" not in fields and DECODED_LENGTH not in fields:
            raise MissingContentLength("You must provide the Content-Length HTTP header.")
        return {payload: body if body is not None else io.BytesIO(b"")}
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


def _body_members(shape: Shape, fields: Mapping[str, str], body: Readable | None, max_xml: int) -> dict[str, Any]:
    """Members with no location and no payload trait live under a root named after the input shape."""
    if all(member.serialization.get("location") for member in shape.members.values()):
        return {}
    data = _read_capped(body, max_xml)
    _check_md5(fields, data)
    if not data.strip():
        if any(not shape.members[name].serialization.get("location") for name in shape.required_members):
            raise MissingRequestBodyError("Request Body is empty")
        return {}
    root = str(shape.serialization.get("name", shape.name))
    parsed = read_document(shape, root, data, max_bytes=max_xml)
    return {name: value for name, value in parsed.items() if not shape.members[name].serialization.get("location")}


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
