"""Record <-> JSON payload, driven by the dataclass field types (datetimes, tuples, tags)."""

from __future__ import annotations

import dataclasses
import json
import operator
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from rolegate.store.records import Record

R = TypeVar("R", bound=Record)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


Decoder = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _decoder(hint: Any) -> Decoder | None:
    """How a JSON value of this type becomes the field's value again (None: it comes out as it is)."""
    args = typing.get_args(hint)
    if hint is datetime:
        return lambda value: None if value is None else datetime.fromisoformat(value)
    if args and datetime in args:  # Optional[datetime]
        return lambda value: datetime.fromisoformat(value) if isinstance(value, str) else value
    if type(None) in args:  # Optional[tuple[...]]: JSON gave a list back (the tuple decoder passes None on)
        inner = next((arg for arg in args if typing.get_origin(arg) is tuple), None)
        if inner is not None:
            return _decoder(inner)
    if typing.get_origin(hint) is tuple:
        inner = (_decoder(args[0]) if args else None) or _identity
        if inner is _identity:
            return lambda value: None if value is None else tuple(value)
        return lambda value: None if value is None else tuple(map(inner, value))
    return None


def _holds_datetime(hint: Any) -> bool:
    return hint is datetime or any(_holds_datetime(arg) for arg in typing.get_args(hint))


_ENCODER = json.JSONEncoder(separators=(",", ":"))  # keys go in sorted already (Layout.encoded)


class _Layout:
    """Per record kind, computed once: the payload's fields in order, which need encoding, how to decode."""

    __slots__ = ("dated", "decoders", "encoded", "names", "values")

    def __init__(self, kind: type[Record]) -> None:
        hints = typing.get_type_hints(kind)
        fields = [f.name for f in dataclasses.fields(kind) if f.name not in kind.BINARY]
        self.names = frozenset(f.name for f in dataclasses.fields(kind))
        decoders = {name: decoder for name in fields if (decoder := _decoder(hints[name])) is not None}
        self.decoders = tuple(decoders.items())
        self.encoded = tuple(sorted(fields))
        # Every field's value in one call. JSON writes tuples as arrays and records' other fields are str,
        # int, bool or None by their hints, so only fields that can hold a datetime need converting.
        self.values = operator.attrgetter(*self.encoded) if len(self.encoded) > 1 else _one(self.encoded[0])
        self.dated = tuple(n for n in self.encoded if _holds_datetime(hints[n]))


def _one(name: str) -> Callable[[Any], tuple[Any, ...]]:
    getter = operator.attrgetter(name)
    return lambda record: (getter(record),)


_LAYOUTS: dict[type[Record], _Layout] = {}


def _layout(kind: type[Record]) -> _Layout:
    layout = _LAYOUTS.get(kind)
    if layout is None:
        layout = _LAYOUTS[kind] = _Layout(kind)
    return layout


def to_payload(record: Record) -> str:
    """The record's JSON, without its BINARY fields (they have columns of their own)."""
    layout = _layout(type(record))
    data = dict(zip(layout.encoded, layout.values(record), strict=True))
    for name in layout.dated:
        data[name] = _encode(data[name])
    return _ENCODER.encode(data)


def from_payload(kind: type[R], payload: str, binary: tuple[Any, ...] = ()) -> R:
    """The record from its JSON and the values of its BINARY columns, in declaration order."""
    data = json.loads(payload)
    layout = _layout(kind)
    for name, decoder in layout.decoders:
        if name in data:
            data[name] = decoder(data[name])
    for name, value in zip(kind.BINARY, binary, strict=False):  # a find leaves DEFERRED columns out
        data[name] = None if value is None else bytes(value)
    try:
        return kind(**data)
    except TypeError:
        if data.keys() <= layout.names:
            raise
    # A field an earlier version stored and this one no longer has (checked only then: it costs a little).
    return kind(**{name: value for name, value in data.items() if name in layout.names})
