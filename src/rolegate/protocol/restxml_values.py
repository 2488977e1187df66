"""Scalars on S3's wire: header, query-string and XML text <-> typed values, by shape type and timestampFormat.

Defaults follow botocore's rest protocols: timestamps are RFC 1123 HTTP dates in headers and ISO 8601 in
query strings and XML, unless the member names its own `timestampFormat`. Readers raise ValueError and
leave the choice of S3 error to the caller (InvalidArgument for headers and queries, MalformedXML in
bodies). XML timestamps are always written with milliseconds (`2026-11-23T19:03:06.000Z`), as S3 does.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from rolegate.protocol.models import (
    INT_RANGES,
    Shape,
    as_utc,
    float_text,
    format_epoch,
    parse_epoch,
    parse_iso8601,
)

HEADER = "rfc822"
QUERY = "iso8601"
BODY = "iso8601"
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_EPOCH = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")
_BOOLEANS = {"true": True, "false": False}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_TWO_DIGITS = tuple(f"{number:02d}" for number in range(100))
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ScalarWriter = Callable[[Any], str]


# -- timestamps ---------------------------------------------------------------------------------------


def format_http_date(value: datetime) -> str:
    """RFC 1123 in GMT (`Mon, 23 Nov 2026 19:03:06 GMT`), as S3 writes Last-Modified and Expires.

    Written out here rather than through `email.utils.format_datetime` (same text), which costs several
    times as much and runs for most object responses. An object's Last-Modified is written on every read
    of it, so the texts of recent UTC (or naive, read as UTC) times are kept: equal such datetimes are the
    same instant with the same fields, hence the same text.
    """
    if value.__class__ is datetime and (value.tzinfo is None or value.tzinfo is UTC):
        return _recent_http_date(value)
    return _http_date(value)


def _http_date(value: datetime) -> str:
    if value.tzinfo is not None and value.tzinfo is not UTC:  # naive is UTC already: same fields, no copy
        value = value.astimezone(UTC)
    year = str(value.year) if value.year > 999 else f"{value.year:04d}"
    return (
        f"{_DAYS[value.weekday()]}, {_TWO_DIGITS[value.day]} {_MONTHS[value.month - 1]} {year} "
        f"{_TWO_DIGITS[value.hour]}:{_TWO_DIGITS[value.minute]}:{_TWO_DIGITS[value.second]} GMT"
    )


_recent_http_date = functools.lru_cache(maxsize=1024)(_http_date)


def format_s3_iso8601(value: datetime) -> str:
    """ISO 8601 UTC with exactly three fractional digits, as S3 writes every timestamp in XML."""
    value = as_utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond // 1000:03d}Z"


def format_timestamp(value: datetime, fmt: str) -> str:
    if fmt == "rfc822":
        return format_http_date(value)
    if fmt == "unixTimestamp":
        epoch = format_epoch(value)
        return str(int(epoch)) if epoch == int(epoch) else str(epoch)
    return format_s3_iso8601(value)


def parse_http_date(text: str) -> datetime:
    """An HTTP date (RFC 1123, RFC 850 or asctime); ValueError for anything else."""
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"not an HTTP date: {text!r}") from None
    return as_utc(parsed)


def parse_timestamp(text: str, fmt: str) -> datetime:
    """The declared format first, then the other two: S3 accepts either date style in most places."""
    text = text.strip()
    readers = {"rfc822": parse_http_date, "iso8601": parse_iso8601, "unixTimestamp": _parse_epoch_text}
    order = [fmt, *(name for name in readers if name != fmt)] if fmt in readers else list(readers)
    for name in order:
        try:
            return readers[name](text)
        except ValueError:
            continue
    raise ValueError(f"not a timestamp: {text!r}")


def _parse_epoch_text(text: str) -> datetime:
    if not _EPOCH.fullmatch(text):
        raise ValueError(f"not epoch seconds: {text!r}")
    return parse_epoch(float(text))


def timestamp_format(shape: Shape, default: str) -> str:
    return str(shape.serialization.get("timestampFormat", default))


# -- reading ------------------------------------------------------------------------------------------


def parse_scalar(shape: Shape, text: str, default_timestamp: str) -> Any:
    """Typed value of a scalar shape from its wire text; ValueError when the text does not fit."""
    kind = shape.type_name
    if kind == "string":
        return _parse_json_value(text) if shape.serialization.get("jsonvalue") else text
    if kind in INT_RANGES:
        low, high = INT_RANGES[kind]
        stripped = text.strip()
        if _INTEGER.fullmatch(stripped):
            number = int(stripped)
            if low <= number <= high:
                return number
        raise ValueError(f"not an {kind}: {text!r}")
    if kind == "boolean":
        found = _BOOLEANS.get(text.strip().lower())
        if found is None:
            raise ValueError(f"not a boolean: {text!r}")
        return found
    if kind in ("float", "double"):
        if not _FLOAT.fullmatch(text.strip()):
            raise ValueError(f"not a number: {text!r}")
        return float(text)
    if kind == "timestamp":
        return parse_timestamp(text, timestamp_format(shape, default_timestamp))
    if kind == "blob":
        try:
            return base64.b64decode(text.strip(), validate=True)
        except ValueError:  # binascii.Error, and non-ASCII text
            raise ValueError("not base64") from None
    raise ValueError(f"{kind} is not a scalar")


def _parse_json_value(text: str) -> Any:
    try:
        return json.loads(base64.b64decode(text, validate=True).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError("not a base64 JSON value") from None


def split_header_list(text: str) -> list[str]:
    """A comma-separated header list (RFC 9110), honouring double-quoted items with backslash escapes."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if quoted or escaped:
        raise ValueError("unterminated quoted string in header list")
    items.append("".join(current).strip())
    return [item for item in items if item]


# -- writing ------------------------------------------------------------------------------------------


def scalar_text(shape: Shape, value: Any, default_timestamp: str) -> str:
    """Wire text of a scalar; TypeError when the value does not fit the shape's type."""
    kind = shape.type_name
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value, separators=(",", ":")).encode("utf-8")).decode("ascii")
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return "true" if value else "false"
    if kind in INT_RANGES and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if kind in ("float", "double") and isinstance(value, int | float) and not isinstance(value, bool):
        return float_text(float(value))
    if kind == "timestamp" and isinstance(value, datetime):
        return format_timestamp(value, timestamp_format(shape, default_timestamp))
    if kind == "blob" and isinstance(value, bytes | str):
        raw = value.encode("utf-8") if isinstance(value, str) else value
        return base64.b64encode(raw).decode("ascii")
    raise TypeError(f"{shape.name} ({kind}) cannot hold {type(value).__name__}")


def scalar_writer(shape: Shape, default_timestamp: str) -> ScalarWriter:
    """`scalar_text` bound to one shape, its type dispatch done once: the same texts and the same TypeErrors
    (a value of the wrong type goes through `scalar_text` itself), for writers that run per request."""
    kind = shape.type_name

    def fallback(value: Any) -> str:
        return scalar_text(shape, value, default_timestamp)

    if kind == "string" and not shape.serialization.get("jsonvalue"):

        def write_string(value: Any) -> str:
            return value if isinstance(value, str) else fallback(value)

        return write_string
    if kind in INT_RANGES:

        def write_integer(value: Any) -> str:
            return str(value) if isinstance(value, int) and not isinstance(value, bool) else fallback(value)

        return write_integer
    if kind == "timestamp":
        fmt = timestamp_format(shape, default_timestamp)
        if fmt == "rfc822":  # header dates (Last-Modified, Expires): `format_timestamp`'s first case, directly

            def write_http_date(value: Any) -> str:
                return format_http_date(value) if isinstance(value, datetime) else fallback(value)

            return write_http_date

        def write_timestamp(value: Any) -> str:
            return format_timestamp(value, fmt) if isinstance(value, datetime) else fallback(value)

        return write_timestamp
    return fallback


def header_list_text(items: list[str]) -> str:
    """Items joined with commas; an item holding a comma or quote is quoted, as botocore writes them."""
    return ",".join('"' + item.replace('"', '\\"') + '"' if ("," in item or '"' in item) else item for item in items)
