"""Record <-> JSON payload, driven by the dataclass field types (datetimes, tuples, tags)."""

from __future__ import annotations

import dataclasses
import json
import typing
from datetime import datetime
from typing import Any, TypeVar

from rolegate.store.records import Record

R = TypeVar("R", bound=Record)


_HINTS: dict[type[Record], dict[str, Any]] = {}


def _hints(kind: type[Record]) -> dict[str, Any]:
    hints = _HINTS.get(kind)
    if hints is None:
        hints = _HINTS[kind] = typing.get_type_hints(kind)
    return hints


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def _decode(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is datetime or (args and datetime in args and isinstance(value, str)):
        return datetime.fromisoformat(value)
    if origin is tuple:
        inner = args[0] if args else Any
        return tuple(_decode(inner, v) for v in value)
    return value


def _plain(hint: Any) -> bool:
    """Whether values of this type come out of JSON as they are (no datetimes, no tuples inside)."""
    return hint is not datetime and datetime not in typing.get_args(hint) and typing.get_origin(hint) is not tuple


_LAYOUTS: dict[type[Record], tuple[frozenset[str], dict[str, Any]]] = {}


def _layout(kind: type[Record]) -> tuple[frozenset[str], dict[str, Any]]:
    """The record's field names, and the hints of the fields that need decoding, computed once per kind."""
    layout = _LAYOUTS.get(kind)
    if layout is None:
        hints = _hints(kind)
        names = frozenset(f.name for f in dataclasses.fields(kind))
        layout = _LAYOUTS[kind] = (names, {n: hints[n] for n in names if not _plain(hints[n])})
    return layout


def to_payload(record: Record) -> str:
    """The record's JSON, without its BINARY fields (they have columns of their own)."""
    binary = record.BINARY
    data = {f.name: _encode(getattr(record, f.name)) for f in dataclasses.fields(record) if f.name not in binary}
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def from_payload(kind: type[R], payload: str, binary: tuple[Any, ...] = ()) -> R:
    """The record from its JSON and the values of its BINARY columns, in declaration order."""
    data = json.loads(payload)
    names, special = _layout(kind)
    values = {
        name: (_decode(special[name], value) if name in special else value)
        for name, value in data.items()
        if name in names
    }
    for name, value in zip(kind.BINARY, binary, strict=False):
        values[name] = bytes(value)
    return kind(**values)
