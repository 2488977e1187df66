"""Record <-> JSON payload, driven by the dataclass field types (datetimes, tuples, tags).

Both directions run on every S3 PutObject (the new row written, the replaced one read) and for every audit
event, so each record kind gets an encoder and a builder generated once from its fields, as @dataclass
generates __init__: straight-line code with a fast path per field for values of the class its type declares.
A record holding any other value is written the plain way (a dict of its fields through json), which the
fast paths match byte for byte; a payload stored otherwise (whitespace, fields missing or retired), or a
record whose __init__ does more than store, is read the plain way too.
"""

from __future__ import annotations

import dataclasses
import json
import json.encoder
import typing
from _json import make_encoder, make_scanner  # json's C accelerator, which json.dumps and json.loads run
from collections.abc import Callable
from datetime import datetime
from types import MemberDescriptorType
from typing import Any, NoReturn, TypeVar

from rolegate.store.records import Record

R = TypeVar("R", bound=Record)

Decoder = Callable[[Any], Any]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


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


def _holds_tuple(hint: Any) -> bool:
    return typing.get_origin(hint) is tuple or any(_holds_tuple(arg) for arg in typing.get_args(hint))


def one_shot(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """`encoder.encode`, without the C encoder it builds on every call: built once with the same options but
    without circular-reference markers. They cost a dict entry per container, and a shared markers dict would
    keep the ids an encode that failed half-way left in it (or meet another thread's). For values that cannot
    contain themselves; a cycle still fails, with RecursionError rather than ValueError."""
    if encoder.indent is not None:
        return encoder.encode
    chunks = make_encoder(
        None,
        encoder.default,
        json.encoder.encode_basestring_ascii if encoder.ensure_ascii else json.encoder.encode_basestring,
        encoder.indent,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )
    return lambda value: "".join(chunks(value, 0))


_ENCODER = json.JSONEncoder(separators=(",", ":"))
_string = json.encoder.encode_basestring_ascii  # the function _ENCODER writes every str with (ensure_ascii)
_array: Callable[[tuple[Any, ...]], str] = one_shot(_ENCODER)  # tuples only: they cannot contain themselves
# The scanner json.loads runs, without the wrapper around it (type checks, BOM and whitespace regexes).
_SCAN = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # it reads the decoder's options, as json does


class _Unexpected(Exception):
    """A field holds a value of another class than its type declares: the record is encoded the plain way."""


def _unexpected() -> NoReturn:
    raise _Unexpected


def _encoding(hint: Any, value: str) -> str:
    """The expression that writes `value`, a field of this type, when it holds what the type declares (its
    exact class: int.__repr__ writes True as 1), and raises otherwise. A str field needs no check: `_string`
    raises TypeError for anything but a str, and json writes every str, subclasses too, with it."""
    if hint is str:
        return f"_string({value})"
    if hint is int:
        return f"_integer({value}) if {value}.__class__ is int else _unexpected()"
    if hint is bool:
        return f"_TRUE if {value} is True else _FALSE if {value} is False else _unexpected()"
    if _holds_datetime(hint):
        simple = f"_string({value}.isoformat()) if {value}.__class__ is datetime"
    elif _holds_tuple(hint):
        simple = f"(_array({value}) if {value} else _EMPTY_ARRAY) if {value}.__class__ is tuple"
    else:
        return "_unexpected()"
    return f"{simple} else _NULL if {value} is None else _unexpected()"


def _plain_encoder(names: list[str], dated: list[str]) -> Callable[[Record], str]:
    """The record's payload the plain way, the reference the generated encoder matches byte for byte: a dict
    of its fields in sorted order with datetimes (in the fields that can hold one) in ISO format."""

    def encode(record: Record) -> str:
        data = {name: getattr(record, name) for name in names}
        for name in dated:
            data[name] = _encode(data[name])
        return _ENCODER.encode(data)

    return encode


def _generated(kind: type[Record], what: str, lines: list[str], namespace: dict[str, Any]) -> Callable[..., Any]:
    source = "\n".join(lines)
    exec(compile(source, f"<rolegate.store.codec {what} {kind.__qualname__}>", "exec"), namespace)
    function: Callable[..., Any] = namespace[what]
    return function


def _encoder(kind: type[Record], hints: dict[str, Any]) -> Callable[[Record], str]:
    """`encode(record)`: one f-string of the payload's fields, or the plain way when a field holds a value of
    another class than its type declares (or a tuple holds something JSON cannot write: it fails again)."""
    names = sorted(f.name for f in dataclasses.fields(kind) if f.name not in kind.BINARY)
    members = ",".join(f"{_string(name)}:{{{_encoding(hints[name], f'record.{name}')}}}" for name in names)
    lines = ["def encode(record):", "    try:", f"        return f{'{{' + members + '}}'!r}"]
    lines += ["    except (TypeError, _Unexpected):", "        return _plain(record)"]
    namespace: dict[str, Any] = {"datetime": datetime, "_string": _string, "_integer": int.__repr__}
    namespace |= {"_array": _array, "_unexpected": _unexpected, "_Unexpected": _Unexpected}
    namespace |= {"_NULL": "null", "_TRUE": "true", "_FALSE": "false", "_EMPTY_ARRAY": "[]"}
    namespace["_plain"] = _plain_encoder(names, [name for name in names if _holds_datetime(hints[name])])
    return _generated(kind, "encode", lines, namespace)


def _decoding(hint: Any, decoder: str) -> str:
    """The expression that turns `value`, from JSON, into a field of this type (one `_decoder` has a decoder
    for): the fast path for what JSON gives back for the declared type, else the decoder."""
    if hint is datetime or datetime in typing.get_args(hint):  # both of _decoder's datetime decoders
        return f"_fromisoformat(value) if value.__class__ is str else {decoder}(value)"
    return f"() if value.__class__ is list and not value else {decoder}(value)"  # the others are tuples'


_MISSING = object()


def _builds_plainly(kind: type[Record]) -> bool:
    """Whether the record's __init__ only stores its arguments, so that setting its slots is the same: it is
    the one @dataclass wrote (exec'd from a string), there is no __post_init__ to run, every field is an
    __init__ argument with a plain default, and every field is a slot."""
    init = getattr(kind.__init__, "__code__", None)
    return (
        init is not None
        and init.co_filename == "<string>"
        and not hasattr(kind, "__post_init__")
        and all(
            f.init
            and f.default_factory is dataclasses.MISSING
            and isinstance(getattr(kind, f.name, None), MemberDescriptorType)
            for f in dataclasses.fields(kind)
        )
    )


def _builder(kind: type[Record], hints: dict[str, Any]) -> Callable[[dict[str, Any], tuple[Any, ...]], Any] | None:
    """`build(data, binary)`: the record from the payload's dict and its BINARY columns, its slots set directly:
    __init__ takes keyword arguments and stores each through object.__setattr__, which costs more than the
    JSON parse. Fields the record does not have are not read; a missing required one raises KeyError. None
    when the record's __init__ does more than store."""
    if not _builds_plainly(kind):
        return None
    namespace: dict[str, Any] = {"_new": object.__new__, "_kind": kind, "_MISSING": _MISSING}
    namespace |= {"_fromisoformat": datetime.fromisoformat, "_bytes": bytes}
    lines = ["def build(data, binary):", "    record = _new(_kind)"]
    for i, field in enumerate(dataclasses.fields(kind)):
        name, setter, default = repr(field.name), f"_set{i}", f"_default{i}"
        namespace[setter] = getattr(kind, field.name).__set__
        namespace[default] = field.default
        required = field.default is dataclasses.MISSING
        if field.name in kind.BINARY:  # its column's value when the row has it, as from_payload merges them
            column = kind.BINARY.index(field.name)
            lines += [
                f"    if len(binary) > {column}:",
                f"        value = binary[{column}]",
                f"        {setter}(record, None if value is None else _bytes(value))",
                "    else:",
                f"        {setter}(record, {f'data[{name}]' if required else f'data.get({name}, {default})'})",
            ]
            continue
        decoder = _decoder(hints[field.name])
        if decoder is None:
            value = f"data[{name}]" if required else f"data.get({name}, {default})"
            lines.append(f"    {setter}(record, {value})")
            continue
        namespace[f"_decode{i}"] = decoder
        decoded = _decoding(hints[field.name], f"_decode{i}")
        if required:
            lines += [f"    value = data[{name}]", f"    {setter}(record, {decoded})"]
        else:
            lines += [
                f"    value = data.get({name}, _MISSING)",
                f"    {setter}(record, {default} if value is _MISSING else {decoded})",
            ]
    lines.append("    return record")
    return _generated(kind, "build", lines, namespace)


class _Layout:
    """Per record kind, computed once: its generated encoder and builder, and the plain decoding's pieces."""

    __slots__ = ("build", "decoders", "encode", "names")

    def __init__(self, kind: type[Record]) -> None:
        hints = typing.get_type_hints(kind)
        self.names = frozenset(f.name for f in dataclasses.fields(kind))
        decoders = ((f.name, _decoder(hints[f.name])) for f in dataclasses.fields(kind) if f.name not in kind.BINARY)
        self.decoders = tuple((name, decoder) for name, decoder in decoders if decoder is not None)
        self.encode = _encoder(kind, hints)
        self.build = _builder(kind, hints)


_LAYOUTS: dict[type[Record], _Layout] = {}


def _layout(kind: type[Record]) -> _Layout:
    layout = _LAYOUTS.get(kind)
    if layout is None:
        layout = _LAYOUTS[kind] = _Layout(kind)
    return layout


def to_payload(record: Record) -> str:
    """The record's JSON, without its BINARY fields (they have columns of their own)."""
    kind = type(record)
    return (_LAYOUTS.get(kind) or _layout(kind)).encode(record)


def from_payload(kind: type[R], payload: str, binary: tuple[Any, ...] = ()) -> R:
    """The record from its JSON and the values of its BINARY columns, in declaration order."""
    # json.loads(payload) without its wrapper, falling back to it for whatever the bare scanner does not take
    # whole (leading or trailing whitespace, a BOM, malformed JSON), so that those go as they went.
    try:
        data, end = _SCAN(payload, 0)
    except (StopIteration, ValueError, TypeError):
        data = json.loads(payload)
    else:
        if end != len(payload):
            data = json.loads(payload)
    layout = _LAYOUTS.get(kind) or _layout(kind)
    if layout.build is not None:
        try:
            return layout.build(data, binary)  # type: ignore[no-any-return]
        except KeyError:
            pass  # a required field is missing: the record's own __init__ says which, as it did
    for name, value in zip(kind.BINARY, binary, strict=False):  # a find leaves DEFERRED columns out
        data[name] = None if value is None else bytes(value)
    for name, decoder in layout.decoders:
        if name in data:
            data[name] = decoder(data[name])
    try:
        return kind(**data)
    except TypeError:
        if data.keys() <= layout.names:
            raise
    # A field an earlier version stored and this one no longer has (checked only then: it costs a little).
    return kind(**{name: value for name, value in data.items() if name in layout.names})
