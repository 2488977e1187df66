"""awsQuery codec (IAM, STS): form parameters -> input dict; result dict -> `<OpResponse>` XML, by walking shapes.

Parsing mirrors botocore's QuerySerializer: structures are `A.B`, lists `A.member.N` (or `A.N` when
flattened; `A=` alone is an empty list), maps `A.entry.N.key` / `.value`, scalars typed by their shape.
Parameters the input shape does not name (Action, Version, X-Amz-*, anything unknown) are ignored, as
AWS ignores them. The flat parameters are first folded into a tree on `.`, so each shape looks up its
own children instead of scanning every key.

Writing follows botocore's QueryParser: `<{Op}Response xmlns=…><{Op}Result>…</{Op}Result>
<ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></{Op}Response>`. IAM returns the values of
string shapes named `policyDocumentType` percent-encoded (botocore's `json_decode_policies` handler
un-quotes them), so those are encoded here.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from rolegate.errors import AwsError, InvalidParameterValue, MalformedQueryString, RequestEntityTooLarge
from rolegate.protocol.errors import (
    QUERY_CONTENT_TYPE,
    Response,
    query_error_body,
    response_headers,
)
from rolegate.protocol.models import (
    INT_RANGES,
    OperationModel,
    Shape,
    float_text,
    format_iso8601,
    member_name,
    parse_iso8601,
)
from rolegate.protocol.xml import XmlWriter

URL_ENCODED_SHAPES = frozenset({"policyDocumentType"})
MAX_KEY_DEPTH = 24
DEFAULT_MAX_FIELDS = 10_000
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
_INDEX = re.compile(r"[1-9][0-9]{0,8}")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|NaN|[+-]?Infinity")
_ABSENT: Any = object()


# -- request: bytes -> flat params -> input dict ------------------------------------------------------


def decode_form(body: bytes, *, max_bytes: int, max_fields: int = DEFAULT_MAX_FIELDS) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body (or URL query string) as a flat dict.

    `+` and `%20` both mean space. Invalid UTF-8 (raw or percent-encoded), more than `max_fields`
    fields, and a parameter given twice are MalformedQueryString: a repeated key has no single meaning,
    and first-wins and last-wins readers would disagree about what a signed request asked for.
    """
    if len(body) > max_bytes:
        raise RequestEntityTooLarge(f"Request body must be no larger than {max_bytes} bytes")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=max_fields)
    except UnicodeDecodeError:
        raise MalformedQueryString("The request contains characters that are not valid UTF-8") from None
    except ValueError:
        raise MalformedQueryString(f"The request has more than {max_fields} parameters") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise MalformedQueryString(f"The parameter {key} appears more than once")
        params[key] = value
    return params


@dataclass
class _Node:
    value: str | None = None
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(params: Mapping[str, str]) -> _Node:
    root = _Node()
    for key, value in params.items():
        parts = key.split(".", MAX_KEY_DEPTH)
        if len(parts) > MAX_KEY_DEPTH:
            continue  # deeper than any model nests: unknown, so ignored
        node = root
        for part in parts:
            node = node.children.setdefault(part, _Node())
        node.value = value
    return root


def parse_query(operation_model: OperationModel, params: Mapping[str, str]) -> dict[str, Any]:
    """The input dict botocore would have serialized into these parameters (unvalidated)."""
    shape = operation_model.input_shape
    if shape is None:
        return {}
    parsed = _read_structure(shape, _tree(params), "")
    return {} if parsed is _ABSENT else dict(parsed)


def _read(shape: Shape, node: _Node, path: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _read_structure(shape, node, path)
    if kind == "list":
        return _read_list(shape, node, path)
    if kind == "map":
        return _read_map(shape, node, path)
    if node.value is None:
        return _ABSENT
    return _scalar(shape, node.value, path)


def _wire_name(shape: Shape, name: str) -> str:
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        return member_name(shape.member, member_name(shape, name))
    return member_name(shape, name)


def _read_structure(shape: Shape, node: _Node, path: str) -> Any:
    parsed: dict[str, Any] = {}
    for name, member in shape.members.items():
        wire = _wire_name(member, name)
        child = node.children.get(wire)
        if child is not None:
            value = _read(member, child, f"{path}.{wire}" if path else wire)
            if value is not _ABSENT:
                parsed[name] = value
    return parsed or _ABSENT


def _indexed(node: _Node | None) -> list[tuple[str, _Node]]:
    """Children named by a 1-based index, in numeric order (gaps are tolerated, not filled)."""
    if node is None:
        return []
    found = [(key, child) for key, child in node.children.items() if _INDEX.fullmatch(key)]
    return sorted(found, key=lambda item: int(item[0]))


def _read_list(shape: Shape, node: _Node, path: str) -> Any:
    flattened = bool(shape.serialization.get("flattened"))
    container = node if flattened else node.children.get(member_name(shape.member, "member"))
    prefix = path if flattened else f"{path}.{member_name(shape.member, 'member')}"
    items = [_read(shape.member, child, f"{prefix}.{key}") for key, child in _indexed(container)]
    items = [item for item in items if item is not _ABSENT]
    if not items and node.value is None:
        return _ABSENT
    return items


def _read_map(shape: Shape, node: _Node, path: str) -> Any:
    flattened = bool(shape.serialization.get("flattened"))
    container = node if flattened else node.children.get("entry")
    key_name, value_name = member_name(shape.key, "key"), member_name(shape.value, "value")
    parsed: dict[Any, Any] = {}
    for index, entry in _indexed(container):
        key_node, value_node = entry.children.get(key_name), entry.children.get(value_name)
        if key_node is None or value_node is None:
            continue
        key = _read(shape.key, key_node, f"{path}.entry.{index}.{key_name}")
        value = _read(shape.value, value_node, f"{path}.entry.{index}.{value_name}")
        if key is not _ABSENT and value is not _ABSENT:
            parsed[key] = value
    return parsed or _ABSENT


def _scalar(shape: Shape, text: str, path: str) -> Any:
    kind = shape.type_name
    try:
        if kind in INT_RANGES:
            return _integer(text, *INT_RANGES[kind])
        if kind == "boolean":
            return {"true": True, "false": False}[text.lower()]
        if kind in ("float", "double") and _FLOAT.fullmatch(text):
            return float(text)
        if kind == "timestamp":
            return parse_iso8601(text)
        if kind == "blob":
            return base64.b64decode(text, validate=True)
        if kind != "string":
            raise ValueError(text)
    except (ValueError, KeyError, binascii.Error):
        raise InvalidParameterValue(f"Invalid value '{text}' for parameter {path}: expected {kind}") from None
    return text


def _integer(text: str, low: int, high: int) -> int:
    if not _INTEGER.fullmatch(text) or not low <= int(text) <= high:
        raise ValueError(text)
    return int(text)


# -- response: result dict -> XML ---------------------------------------------------------------------


def serialize_query_result(operation_model: OperationModel, result: Mapping[str, Any], request_id: str) -> bytes:
    """The success body; raises TypeError/ValueError when the result does not fit the output shape."""
    namespace = operation_model.metadata.get("xmlNamespace")
    root = f"{operation_model.name}Response"
    writer = XmlWriter()
    with writer.element(root, {"xmlns": namespace} if namespace else None):
        shape = operation_model.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper")
            if wrapper:
                with writer.element(wrapper):
                    _write_members(writer, shape, result)
            else:
                _write_members(writer, shape, result)
        with writer.element("ResponseMetadata"):
            writer.leaf("RequestId", request_id)
    return writer.to_bytes()


def _write_members(writer: XmlWriter, shape: Shape, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise TypeError(f"{shape.name} expects a mapping, not {type(value).__name__}")
    unknown = set(value) - set(shape.members)
    if unknown:
        raise ValueError(f"{shape.name} has no members {sorted(unknown)!r}")
    for name, member in shape.members.items():
        if value.get(name) is not None:
            _write(writer, _wire_name(member, name), member, value[name])


def _write(writer: XmlWriter, tag: str, shape: Shape, value: Any) -> None:
    kind = shape.type_name
    if kind == "structure":
        with writer.element(tag):
            _write_members(writer, shape, value)
    elif kind == "list":
        _write_list(writer, tag, shape, value)
    elif kind == "map":
        writer.shape_map(tag, shape, value, _write)
    else:
        writer.leaf(tag, scalar_text(shape, value))


def _write_list(writer: XmlWriter, tag: str, shape: Shape, value: Any) -> None:
    if not isinstance(value, list | tuple):
        raise TypeError(f"{shape.name} expects a list, not {type(value).__name__}")
    if shape.serialization.get("flattened"):
        for item in value:
            _write(writer, tag, shape.member, item)
        return
    with writer.element(tag):
        for item in value:
            _write(writer, member_name(shape.member, "member"), shape.member, item)


def scalar_text(shape: Shape, value: Any) -> str:
    """A scalar as XML text: booleans lowercase, timestamps ISO 8601 UTC with Z, blobs base64."""
    kind = shape.type_name
    if kind == "boolean" and isinstance(value, bool):
        return "true" if value else "false"
    if kind in INT_RANGES and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if kind in ("float", "double") and isinstance(value, int | float) and not isinstance(value, bool):
        return float_text(float(value))
    if kind == "timestamp" and isinstance(value, datetime):
        return format_iso8601(value)
    if kind == "blob" and isinstance(value, bytes | str):
        raw = value.encode("utf-8") if isinstance(value, str) else value
        return base64.b64encode(raw).decode("ascii")
    if kind == "string" and isinstance(value, str):
        return quote(value, safe="") if shape.name in URL_ENCODED_SHAPES else value
    raise TypeError(f"{shape.name} ({kind}) cannot hold {type(value).__name__}")


def query_response(operation_model: OperationModel, result: Mapping[str, Any], request_id: str) -> Response:
    """(200, headers, body) for a successful call."""
    body = serialize_query_result(operation_model, result, request_id)
    return 200, response_headers(QUERY_CONTENT_TYPE, request_id), body


def serialize_query_error(error: AwsError, request_id: str, xml_namespace: str | None = None) -> bytes:
    """The `<ErrorResponse>` body for an error (use protocol.errors for the full, leak-proof response)."""
    return query_error_body(error, request_id, xml_namespace)
