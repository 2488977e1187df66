"""awsJson 1.1 codec (Organizations): X-Amz-Target + JSON body -> input dict; result dict -> JSON, by shape.

Mirrors botocore's JSONSerializer and JSONParser: members by name (or locationName), timestamps as epoch
seconds (written with millisecond precision), blobs base64, floats may be "NaN"/"Infinity". A body that
is not a JSON object of the declared types is SerializationException; JSON nulls count as absent.
Duplicate object keys and the non-standard NaN/Infinity literals are refused rather than guessed at.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rolegate.errors import AwsError, RequestEntityTooLarge
from rolegate.protocol.errors import (
    JSON_CONTENT_TYPE,
    Response,
    SerializationException,
    json_error_body,
    response_headers,
)
from rolegate.protocol.models import (
    INT_RANGES,
    OperationModel,
    Shape,
    format_epoch,
    format_iso8601,
    json_operation,
    member_name,
    parse_epoch,
    parse_iso8601,
)

_FLOAT_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


# -- request ------------------------------------------------------------------------------------------


def parse_json_request(
    service: str, target: str | None, body: bytes, *, max_bytes: int
) -> tuple[OperationModel, dict[str, Any]]:
    """The operation named by X-Amz-Target and its input dict (unvalidated) from the JSON body."""
    operation = json_operation(service, target)
    if len(body) > max_bytes:
        raise RequestEntityTooLarge(f"Request body must be no larger than {max_bytes} bytes")
    return operation, parse_json(operation, decode_json(body))


def decode_json(body: bytes) -> dict[str, Any]:
    """Strict JSON object from UTF-8 bytes; an empty body is an empty object."""
    if not body.strip():
        return {}
    try:
        document = json.loads(body.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SerializationException("The request body is not valid JSON") from None
    if not isinstance(document, dict):
        raise SerializationException("The request body must be a JSON object")
    return document


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(operation_model: OperationModel, document: Mapping[str, Any]) -> dict[str, Any]:
    """The input dict for a decoded JSON document, typed by the operation's input shape."""
    shape = operation_model.input_shape
    if shape is None:
        return {}
    return dict(_read(shape, document, ""))


def _read(shape: Shape, value: Any, path: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return value
        members = _expect(value, dict, shape, path)
        return {
            name: _read(member, members[wire], f"{path}.{wire}" if path else wire)
            for name, member in shape.members.items()
            if members.get(wire := member_name(member, name)) is not None
        }
    if kind == "list":
        items = _expect(value, list, shape, path)
        return [_read(shape.member, item, f"{path}[{i}]") for i, item in enumerate(items) if item is not None]
    if kind == "map":
        entries = _expect(value, dict, shape, path)
        return {
            _read(shape.key, key, path): _read(shape.value, item, f"{path}.{key}")
            for key, item in entries.items()
            if item is not None
        }
    return _scalar(shape, value, path)


def _expect(value: Any, kind: type, shape: Shape, path: str) -> Any:
    if not isinstance(value, kind):
        raise SerializationException(f"Expected {shape.type_name} at '{path or shape.name}'")
    return value


def _scalar(shape: Shape, value: Any, path: str) -> Any:
    kind = shape.type_name
    parsed = _SCALAR_READERS.get(kind, _reject)(shape, value)
    if parsed is None:
        raise SerializationException(f"Expected {kind} at '{path}'")
    return parsed


def _read_int(shape: Shape, value: Any) -> int | None:
    low, high = INT_RANGES[shape.type_name]
    ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    return value if ok else None


def _read_float(shape: Shape, value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return _FLOAT_WORDS.get(value) if isinstance(value, str) else None


def _read_timestamp(shape: Shape, value: Any) -> datetime | None:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return parse_epoch(value)
        return parse_iso8601(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _read_blob(shape: Shape, value: Any) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True) if isinstance(value, str) else None
    except (ValueError, binascii.Error):
        return None


def _reject(shape: Shape, value: Any) -> None:
    return None


_SCALAR_READERS: dict[str, Any] = {
    "string": lambda shape, value: value if isinstance(value, str) else None,
    "boolean": lambda shape, value: value if isinstance(value, bool) else None,
    "integer": _read_int,
    "long": _read_int,
    "float": _read_float,
    "double": _read_float,
    "timestamp": _read_timestamp,
    "blob": _read_blob,
}


# -- response -----------------------------------------------------------------------------------------


def serialize_json_result(operation_model: OperationModel, result: Mapping[str, Any]) -> bytes:
    """The success body; raises TypeError/ValueError when the result does not fit the output shape."""
    shape = operation_model.output_shape
    document = {} if shape is None else _write(shape, result)
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _write(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return value
        if not isinstance(value, Mapping):
            raise TypeError(f"{shape.name} expects a mapping, not {type(value).__name__}")
        unknown = set(value) - set(shape.members)
        if unknown:
            raise ValueError(f"{shape.name} has no members {sorted(unknown)!r}")
        return {
            member_name(member, name): _write(member, value[name])
            for name, member in shape.members.items()
            if value.get(name) is not None
        }
    if kind == "list":
        if not isinstance(value, list | tuple):
            raise TypeError(f"{shape.name} expects a list, not {type(value).__name__}")
        return [_write(shape.member, item) for item in value]
    if kind == "map":
        if not isinstance(value, Mapping):
            raise TypeError(f"{shape.name} expects a mapping, not {type(value).__name__}")
        return {_write(shape.key, key): _write(shape.value, item) for key, item in value.items()}
    return _write_scalar(shape, value)


def _write_scalar(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "timestamp" and isinstance(value, datetime):
        fmt = str(shape.serialization.get("timestampFormat", "unixTimestamp")).lower()
        return format_iso8601(value) if fmt == "iso8601" else format_epoch(value)
    if kind == "blob" and isinstance(value, bytes | str):
        raw = value.encode("utf-8") if isinstance(value, str) else value
        return base64.b64encode(raw).decode("ascii")
    if kind in ("float", "double") and isinstance(value, int | float) and not isinstance(value, bool):
        return _float_value(float(value))
    if _SCALAR_READERS.get(kind, _reject)(shape, value) is not None and kind != "timestamp":
        return value
    raise TypeError(f"{shape.name} ({kind}) cannot hold {type(value).__name__}")


def _float_value(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def json_response(operation_model: OperationModel, result: Mapping[str, Any], request_id: str) -> Response:
    """(200, headers, body) for a successful call."""
    body = serialize_json_result(operation_model, result)
    return 200, response_headers(JSON_CONTENT_TYPE, request_id), body


def serialize_json_error(error: AwsError) -> bytes:
    """The `{"__type": …, "Message": …}` body (use protocol.errors for the full, leak-proof response)."""
    return json_error_body(error)
