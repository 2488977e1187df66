"""S3 results -> (status, headers, body): header-bound members as headers, the rest as S3's XML or a stream.

`result` is keyed by botocore output member names. Header members are written by type (HTTP dates for
timestamps unless the member says otherwise, `true`/`false`, comma lists), `Metadata` as `x-amz-meta-*`.
The body is, by the output shape: the streaming payload as given (GetObject's `Body`: bytes, or any
iterable of bytes chunks the server streams); a string payload as UTF-8 (GetBucketPolicy); a structure
payload as its own root element (CopyObject's `CopyObjectResult`); otherwise the non-header members under
the operation's root element, which the botocore model does not name, so S3's names are kept below
(`ListBucketResult`, `ListAllMyBucketsResult`, ...) and `Get<X>` takes the root its `Put<X>` sends.

Status is the model's `responseCode` (204 for the deletes), 206 when a streamed result carries a
ContentRange, and empty bodies for HEAD and 204. When the result asks for `EncodingType: url`, the
key-bearing fields S3 encodes are percent-encoded (space as `+`, `/` kept), the fields botocore's
`decode_list_object*` handlers decode for ListObjects, ListObjectsV2 and ListObjectVersions, and the
documented ones for ListMultipartUploads.
"""

from __future__ import annotations

import functools
from binascii import b2a_base64
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote_plus

from rolegate.protocol.models import OperationModel, Shape, service_model
from rolegate.protocol.restxml_body import S3_NAMESPACE, wire_name, write_document, write_text_document
from rolegate.protocol.restxml_errors import S3_CONTENT_TYPE, SERVER_HEADER, Headers, host_id
from rolegate.protocol.restxml_values import HEADER, header_list_text, scalar_writer

Body = bytes | Iterable[bytes]
S3Response = tuple[int, Headers, Body]

ROOT_ELEMENTS = {
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListParts": "ListPartsResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "DeleteObjects": "DeleteResult",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "GetBucketLocation": "LocationConstraint",
    "ListBucketAnalyticsConfigurations": "ListBucketAnalyticsConfigurationResult",
    "ListBucketMetricsConfigurations": "ListMetricsConfigurationsResult",
    "ListBucketInventoryConfigurations": "ListInventoryConfigurationsResult",
    "ListBucketIntelligentTieringConfigurations": "ListBucketIntelligentTieringConfigurationsOutput",
    "CreateSession": "CreateSessionResult",
}
BARE_TEXT_ROOT = frozenset({"GetBucketLocation"})
URL_ENCODED: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {
    "ListObjects": (("Delimiter", "Marker", "NextMarker"), (("Contents", "Key"), ("CommonPrefixes", "Prefix"))),
    "ListObjectsV2": (("Delimiter", "Prefix", "StartAfter"), (("Contents", "Key"), ("CommonPrefixes", "Prefix"))),
    "ListObjectVersions": (
        ("KeyMarker", "NextKeyMarker", "Prefix", "Delimiter"),
        (("Versions", "Key"), ("DeleteMarkers", "Key"), ("CommonPrefixes", "Prefix")),
    ),
    "ListMultipartUploads": (
        ("Delimiter", "KeyMarker", "NextKeyMarker", "Prefix"),
        (("Uploads", "Key"), ("CommonPrefixes", "Prefix")),
    ),
}
_NO_BODY_STATUSES = frozenset({204, 304})
UNSAFE = "header text holds a line break or NUL"
XML, STREAM, RAW = "xml", "stream", "raw"
CONTENT_LENGTH = "content-length"


def s3_response(
    operation: OperationModel,
    result: Mapping[str, Any],
    *,
    request_id: str | None = None,
    method: str | None = None,
    host: str | None = None,
) -> S3Response:
    """(status, headers, body) for a successful call; TypeError/ValueError when `result` does not fit.

    With `request_id`, the `x-amz-request-id` and `x-amz-id-2` headers are added. `method` defaults to
    the operation's; a HEAD answer never has a body.
    """
    layout = output_layout(operation)
    shape = layout.shape
    status = layout.status
    if shape is None:
        if result:
            raise ValueError(f"{operation.name} has no output members")
        return status, _finish([], b"", status, request_id, host, sized=False), b""
    if not layout.members.issuperset(result):
        unknown = set(result) - layout.members
        raise ValueError(f"{shape.name} has no members {sorted(unknown)!r}")
    headers, status, sized = _located(layout, result, status)
    payload = layout.payload
    if payload is not None and layout.payload_kind is not None:  # a blob or string payload: `_body`'s first case
        body, kind = _payload_body(layout.payload_kind, payload, result.get(payload))
    elif payload is None and not layout.body_members:  # headers only (PutObject, HeadObject): nothing to write
        body, kind = b"", RAW
    else:
        body, kind = _body(operation, shape, layout, result)
    if kind == STREAM and status == 200 and result.get("ContentRange") is not None:
        status = 206
    if (method or layout.method).upper() == "HEAD" or status in _NO_BODY_STATUSES:
        _discard(body)
        body = b""
    elif kind == XML:
        headers.append(("Content-Type", S3_CONTENT_TYPE))
    return status, _finish(headers, body, status, request_id, host, sized=sized), body


def _discard(body: Body) -> None:
    """A stream that will not be sent is closed now, so its open file is not left to the collector."""
    close = getattr(body, "close", None)
    if not isinstance(body, bytes) and callable(close):
        close()


def _finish(
    headers: Headers, body: Body, status: int, request_id: str | None, host: str | None, *, sized: bool
) -> Headers:
    """Content-Length for a bytes body unless `headers` carry one already (`sized`), and the request ids."""
    if not sized and isinstance(body, bytes) and status not in _NO_BODY_STATUSES:
        headers.append(("Content-Length", str(len(body))))
    if request_id is not None:
        amz_id = host if host is not None else host_id(request_id)
        headers += [("x-amz-request-id", request_id), ("x-amz-id-2", amz_id), SERVER_HEADER]
    return headers


HeaderWriter = Callable[[Any], str]


class Located(NamedTuple):
    """An output member written to headers or the status, and its header text writer (which leaves the
    line-break check to `_located`); a tuple, so the per-response loop unpacks it in one step."""

    location: str
    wire: str
    write: HeaderWriter
    plain: bool  # a plain string header (for a map, plain string values): a str is its own text, no call needed
    length: bool  # its header is Content-Length (for a header map: some key could make it one)


@dataclass(frozen=True)
class OutputLayout:
    """What answering an operation needs of its model, worked out once per operation, not per response.

    `located` holds only the members written to headers or the status; a result names a handful of the
    dozens of members an S3 output shape has.
    """

    shape: Shape | None
    status: int
    method: str
    members: frozenset[str]
    located: dict[str, Located]
    payload: str | None
    payload_kind: str | None  # a blob or string payload: STREAM when it streams, else RAW
    body_members: bool


@functools.cache
def output_layout(operation: OperationModel) -> OutputLayout:
    """The operation's layout, computed on first use (botocore models compare by identity and live as long
    as their cached service model)."""
    return _build_layout(operation)


def _build_layout(operation: OperationModel) -> OutputLayout:
    shape = operation.output_shape
    members = shape.members if shape is not None else {}
    return OutputLayout(
        shape=shape,
        status=int(operation.http.get("responseCode", 200)),
        method=str(operation.http.get("method", "")),
        members=frozenset(members),
        located={
            name: _located_member(name, member)
            for name, member in members.items()
            if member.serialization.get("location") in ("header", "headers", "statusCode")
        },
        payload=shape.serialization.get("payload") if shape is not None else None,
        payload_kind=_payload_kind(shape),
        body_members=any(member.serialization.get("location") is None for member in members.values()),
    )


def _payload_kind(shape: Shape | None) -> str | None:
    """STREAM or RAW for a blob or string payload (sent as it is); None for none, or a structure (XML)."""
    if shape is None or shape.serialization.get("payload") is None:
        return None
    member = shape.members[shape.serialization["payload"]]
    if member.type_name not in ("blob", "string"):
        return None
    return STREAM if member.serialization.get("streaming") else RAW


def _located_member(name: str, member: Shape) -> Located:
    location = str(member.serialization["location"])
    wire = str(member.serialization.get("name", name))
    if location == "headers":
        # a name's lower() is its characters' (a capital sigma, the exception, is never in CONTENT_LENGTH)
        maybe = CONTENT_LENGTH.startswith(wire.lower())
        plain = member.value.type_name == "string" and not member.value.serialization.get("jsonvalue")
        return Located(location, wire, scalar_writer(member.value, HEADER), plain, maybe)
    length = location == "header" and wire.lower() == CONTENT_LENGTH
    if location == "header" and member.type_name == "list":
        return Located(location, wire, _list_writer(member), False, length)
    plain = member.type_name == "string" and not member.serialization.get("jsonvalue")
    return Located(location, wire, scalar_writer(member, HEADER), plain, length)


def _list_writer(member: Shape) -> HeaderWriter:
    write_item = scalar_writer(member.member, HEADER)

    def write_list(value: Any) -> str:
        if not isinstance(value, list | tuple):
            raise TypeError(f"{member.name} expects a list, not {type(value).__name__}")
        return header_list_text([write_item(item) for item in value])

    return write_list


def _located(layout: OutputLayout, result: Mapping[str, Any], status: int) -> tuple[Headers, int, bool]:
    """Header members as headers, in result order; the status; whether a Content-Length header was written."""
    headers: Headers = []
    sized = False
    located = layout.located
    for name, value in result.items():
        found = located.get(name)
        if found is None or value is None:
            continue
        location, wire, write, plain, length = found
        if location == "header":
            text = value if plain and isinstance(value, str) else write(value)
            if not text.isprintable() and ("\r" in text or "\n" in text or "\0" in text):  # see `_safe`
                raise ValueError(UNSAFE)
            headers.append((wire, text if text.isascii() else mail_safe(text)))
            sized = sized or length
        elif location == "headers":
            if not isinstance(value, dict) and not isinstance(value, Mapping):  # a dict spares the ABC check
                raise TypeError(f"{name} expects a mapping, not {type(value).__name__}")
            if value or value.__class__ is not dict:  # the usual empty Metadata: nothing to write
                start = len(headers)
                for key, item in value.items():  # a loop, not a generator: text keys and items need no call
                    header = wire + (key if key.__class__ is str else str(key))
                    if not header.isprintable():
                        _safe(header)  # the modelled prefix is printable: only the key can be refused
                    text = item if plain and item.__class__ is str else write(item)
                    if not text.isprintable():
                        _safe(text)
                    headers.append((header, text if text.isascii() else mail_safe(text)))
                if length and not sized:
                    sized = any(header.lower() == CONTENT_LENGTH for header, _ in headers[start:])
        else:
            status = int(value)
    return headers, status, sized


def mail_safe(text: str) -> str:
    """A header value with characters beyond US-ASCII as S3 sends it: one RFC 2047 encoded-word of its
    UTF-8 bytes (HTTP header values are bytes; S3 documents this for user metadata)."""
    return f"=?UTF-8?B?{b2a_base64(text.encode('utf-8', 'surrogatepass'), newline=False).decode('ascii')}?="


def _safe(text: str) -> str:
    """Header names and values must not end the header early: CR, LF and NUL are refused outright.

    All three are control characters, so a printable text (nearly every one) is let through on one test.
    """
    if not text.isprintable() and ("\r" in text or "\n" in text or "\0" in text):
        raise ValueError(UNSAFE)
    return text


def _body(operation: OperationModel, shape: Shape, layout: OutputLayout, result: Mapping[str, Any]) -> tuple[Body, str]:
    """The body and its kind: XML, a streaming payload (passed through, never buffered here), or raw."""
    payload = layout.payload
    if payload is not None:
        if layout.payload_kind is not None:
            return _payload_body(layout.payload_kind, payload, result.get(payload))
        if result.get(payload) is None:
            return b"", RAW
        member = shape.members[payload]  # a structure payload: its own root element
        namespace = str((member.serialization.get("xmlNamespace") or {}).get("uri", S3_NAMESPACE))
        return write_document(wire_name(member, payload), member, result[payload], namespace), XML
    if not layout.body_members:
        return b"", RAW
    if operation.name in BARE_TEXT_ROOT:
        (only,) = [name for name, member in shape.members.items() if member.serialization.get("location") is None]
        return write_text_document(root_element(operation.name), result.get(only)), XML
    values = _url_encoded(operation.name, result)
    return write_document(root_element(operation.name), shape, values), XML


def _payload_body(kind: str, name: str, value: Any) -> tuple[Body, str]:
    """A blob or string payload: streamed (STREAM) or sent as it is (RAW)."""
    if value is None:
        return b"", kind
    if kind == STREAM and isinstance(value, tuple | list):  # the usual chunks: spares the ABC check below
        return value, kind
    if isinstance(value, str):
        return value.encode("utf-8"), kind
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value), kind
    if kind == STREAM and isinstance(value, Iterable):
        return value, kind
    raise TypeError(f"{name} cannot hold {type(value).__name__}")


def _url_encoded(operation: str, result: Mapping[str, Any]) -> Mapping[str, Any]:
    """A copy of a list result with its key fields percent-encoded when it carries EncodingType=url."""
    fields = URL_ENCODED.get(operation)
    if fields is None or result.get("EncodingType") != "url":
        return result
    top, nested = fields
    encoded = dict(result)
    for name in top:
        if isinstance(encoded.get(name), str):
            encoded[name] = _encode(encoded[name])
    for list_name, field in nested:
        items = encoded.get(list_name)
        if isinstance(items, list | tuple):
            encoded[list_name] = [
                {**item, field: _encode(item[field])}
                if isinstance(item, Mapping) and isinstance(item.get(field), str)
                else item
                for item in items
            ]
    return encoded


def _encode(text: str) -> str:
    return quote_plus(text, safe="/")


def root_element(operation: str) -> str:
    """S3's root element for an operation's XML result (the botocore model does not carry it)."""
    if operation in ROOT_ELEMENTS:
        return ROOT_ELEMENTS[operation]
    return _put_roots().get(operation, f"{operation}Result")


@functools.cache
def _put_roots() -> dict[str, str]:
    """`Get<X>` -> the root element `Put<X>` sends as its payload (Tagging, AccessControlPolicy, ...)."""
    model = service_model("s3")
    roots: dict[str, str] = {}
    for name in model.operation_names:
        if not name.startswith("Put"):
            continue
        shape = model.operation_model(name).input_shape
        payload = shape.serialization.get("payload") if shape is not None else None
        if payload and shape.members[payload].type_name == "structure":
            roots["Get" + name[3:]] = wire_name(shape.members[payload], payload)
    return roots
