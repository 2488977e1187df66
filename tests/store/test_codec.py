"""The payload codec against a plain reference: every record kind, generated values, byte-identical JSON
(the stored format must not change) and an exact round trip, down to each field's class; then the generated
fast paths against the plain way wherever they could part from it."""

from __future__ import annotations

import collections
import dataclasses
import enum
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegate.store import codec
from rolegate.store.codec import from_payload, to_payload
from rolegate.store.records import ALL_RECORDS, InlineBlob, Record, S3Object

# UTC as the services write it, an offset with minutes, and naive (isoformat writes each differently).
_ZONES = st.sampled_from([UTC, UTC, timezone(timedelta(hours=-9, minutes=-30)), None])


def _strategy(hint: Any) -> st.SearchStrategy[Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_strategy(arg) for arg in args))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(_strategy(args[0]), max_size=3).map(tuple)
        return st.tuples(*(_strategy(arg) for arg in args))
    simple: dict[Any, st.SearchStrategy[Any]] = {
        # Every code point: non-ASCII, control characters, quotes, backslashes, lone surrogates.
        str: st.text(st.characters(exclude_categories=()), max_size=8)
        | st.sampled_from(['"', "\\", "\x00\x1f\x7f", "é"]),
        int: st.integers(-(2**40), 2**40) | st.integers(),
        bool: st.booleans(),
        bytes: st.binary(max_size=16),
        datetime: st.datetimes(timezones=_ZONES),
        type(None): st.none(),
    }
    return simple[hint]


def _records() -> st.SearchStrategy[Record]:
    def of(kind: type[Record]) -> st.SearchStrategy[Record]:
        hints = typing.get_type_hints(kind)
        return st.builds(kind, **{f.name: _strategy(hints[f.name]) for f in dataclasses.fields(kind)})

    return st.one_of(*(of(kind) for kind in ALL_RECORDS))


def _reference_payload(record: Record) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        return value

    fields = {f.name: plain(getattr(record, f.name)) for f in dataclasses.fields(record) if f.name not in record.BINARY}
    return json.dumps(dict(sorted(fields.items())), separators=(",", ":"))


@settings(max_examples=400, deadline=None)
@given(_records())
def test_payloads_match_the_reference_and_round_trip(record: Record) -> None:
    payload = to_payload(record)
    assert payload == _reference_payload(record)
    binary = tuple(getattr(record, name) for name in record.BINARY)
    decoded = from_payload(type(record), payload, binary)
    assert decoded == record
    # Equality alone lets 1 pass for True and a memoryview for bytes.
    assert [type(getattr(decoded, f.name)) for f in dataclasses.fields(record)] == [
        type(getattr(record, f.name)) for f in dataclasses.fields(record)
    ]


def test_a_field_an_earlier_version_stored_is_ignored() -> None:
    record = S3Object("b", "k", 1, '"e"', datetime(2026, 1, 1, tzinfo=UTC))
    stored = json.dumps({**json.loads(to_payload(record)), "retired_field": [1, 2]})
    assert from_payload(S3Object, stored, (None,)) == record


# The generated encoder and builder against the plain way they replace, where they take other paths: values
# of other classes than the fields declare, payloads written otherwise than the encoder writes them, records
# that do more in __init__ than store, and binary columns.


def _holds_datetime(hint: Any) -> bool:
    return hint is datetime or any(_holds_datetime(arg) for arg in typing.get_args(hint))


def _plain_payload(record: Record) -> str:
    """How the codec wrote any record: datetimes converted only in the fields whose type can hold one."""

    def dated(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        return [dated(v) for v in value] if isinstance(value, tuple) else value

    hints = typing.get_type_hints(type(record))
    names = sorted(f.name for f in dataclasses.fields(record) if f.name not in record.BINARY)
    fields = {n: dated(getattr(record, n)) if _holds_datetime(hints[n]) else getattr(record, n) for n in names}
    return json.dumps(fields, separators=(",", ":"))


def _plain_record(kind: type[Record], payload: str, binary: tuple[Any, ...]) -> Record:
    """How the codec read any payload: each field's type says how its JSON value comes back."""

    def decoded(hint: Any, value: Any) -> Any:
        args = typing.get_args(hint)
        if hint is datetime:
            return None if value is None else datetime.fromisoformat(value)
        if datetime in args:
            return datetime.fromisoformat(value) if isinstance(value, str) else value
        tuples = [arg for arg in (hint, *args) if typing.get_origin(arg) is tuple]
        if tuples and value is not None:
            return tuple(decoded(typing.get_args(tuples[0])[0], v) for v in value)
        return value

    data, hints = json.loads(payload), typing.get_type_hints(kind)
    names = [f.name for f in dataclasses.fields(kind)]  # in declaration order, as the codec decodes them
    data = {name: decoded(hints[name], data[name]) for name in names if name in data}
    data |= {name: None if value is None else bytes(value) for name, value in zip(kind.BINARY, binary, strict=False)}
    return kind(**data)


class _Str(str):
    __slots__ = ()


class _Level(enum.IntEnum):
    ONE = 1


class _Moment(datetime):
    pass


_Pair = collections.namedtuple("_Pair", "key value")

_OTHERS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.sampled_from([_Str("sub"), _Level.ONE, _Pair("k", "v"), b"raw", {"a": [1]}, ["x", ("y", None)], (1, 2.5)]),
    st.text(max_size=4),
    st.lists(st.text(max_size=4), max_size=2).map(tuple),
    st.datetimes(timezones=_ZONES),
    st.dates(),
)


def _look_alikes(hint: Any) -> list[Any]:
    """Values a field of this type could be mistaken to hold: the subclasses and look-alikes of its class."""
    if hint is int:
        return [True, False, _Level.ONE, 1.0, "1", None]
    if hint is bool:
        return [0, 1, _Level.ONE, None, "true"]
    if hint is str:
        return [_Str("sub"), None, 1, b"s", datetime(2026, 1, 1, tzinfo=UTC)]
    if _holds_datetime(hint):
        return ["2026-01-01T00:00:00", _Moment(2026, 1, 1, tzinfo=UTC), date(2026, 1, 1), 0, None]
    return [["a"], _Pair("k", "v"), (1, None), ("é", ("x",)), (datetime(2026, 1, 1),), (b"x",), None]


def _typical(hint: Any) -> Any:
    """A value of the type, as the services write them."""
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return _typical(args[0])
    if typing.get_origin(hint) is tuple:
        return (_typical(args[0]),) if args[-1] is Ellipsis else tuple(_typical(arg) for arg in args)
    typical = {str: 'a "é"', int: 7, bool: True, bytes: b"x", datetime: datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)}
    return typical[hint]


def _same(outcome: Any, reference: Any) -> None:
    """Both ran, to equal values of the same classes, or both failed with the same exception."""
    if isinstance(reference, Exception):
        assert type(outcome) is type(reference) and str(outcome) == str(reference)
    else:
        assert outcome == reference and type(outcome) is type(reference)
        if isinstance(reference, Record):
            assert [type(getattr(outcome, f.name)) for f in dataclasses.fields(reference)] == [
                type(getattr(reference, f.name)) for f in dataclasses.fields(reference)
            ]


def _outcome(run: Callable[[], Any]) -> Any:
    try:
        return run()
    except (TypeError, ValueError) as failure:
        return failure


def _written_and_read_as_before(record: Record) -> None:
    payload = _outcome(lambda: to_payload(record))
    _same(payload, _outcome(lambda: _plain_payload(record)))
    if isinstance(payload, str):
        kind = type(record)
        columns = (getattr(record, name) for name in kind.BINARY)
        binary = tuple(value if isinstance(value, bytes | None) else b"" for value in columns)
        _same(
            _outcome(lambda: from_payload(kind, payload, binary)),
            _outcome(lambda: _plain_record(kind, payload, binary)),
        )


@pytest.mark.parametrize("kind", ALL_RECORDS, ids=lambda kind: kind.__name__)
def test_each_field_holding_a_look_alike_is_written_and_read_as_before(kind: type[Record]) -> None:
    """One field at a time: a field that leaves the fast path sends the whole record the plain way."""
    hints = typing.get_type_hints(kind)
    typical = {f.name: _typical(hints[f.name]) for f in dataclasses.fields(kind)}
    _written_and_read_as_before(kind(**typical))
    for name in typical:
        for look_alike in _look_alikes(hints[name]):  # other classes, or tuples of what JSON writes otherwise
            _written_and_read_as_before(kind(**{**typical, name: look_alike}))


@st.composite
def _odd_records(draw: st.DrawFn) -> Record:
    """A record some of whose fields hold values of other classes than their types declare."""
    kind = draw(st.sampled_from(ALL_RECORDS))
    hints = typing.get_type_hints(kind)
    values = {f.name: draw(_strategy(hints[f.name])) for f in dataclasses.fields(kind)}
    for name in draw(st.lists(st.sampled_from(list(values)), min_size=1, max_size=3, unique=True)):
        values[name] = draw(st.sampled_from(_look_alikes(hints[name])) | _OTHERS)
    return kind(**values)


@settings(max_examples=300, deadline=None)
@given(_odd_records())
def test_values_of_other_classes_are_written_and_read_as_before(record: Record) -> None:
    _written_and_read_as_before(record)


@st.composite
def _stored_otherwise(draw: st.DrawFn) -> tuple[Record, str]:
    """A record and its payload as an earlier version or another writer could have stored it: defaulted
    fields missing, fields this version does not have, members in another order, other JSON formatting."""
    record = draw(_records())
    data = json.loads(to_payload(record))
    defaulted = [f for f in dataclasses.fields(record) if f.default is not dataclasses.MISSING and f.name in data]
    dropped = draw(st.lists(st.sampled_from(defaulted), unique=True) if defaulted else st.just([]))
    for field in dropped:
        del data[field.name]
        record = dataclasses.replace(record, **{field.name: field.default})
    data |= draw(
        st.dictionaries(
            st.sampled_from(["retired", "zz_later", "_old"]), st.none() | st.integers() | st.lists(st.text())
        )
    )
    items = list(data.items())
    data = dict(draw(st.permutations(items))) if len(items) < 12 else dict(reversed(items))
    indent = draw(st.sampled_from([None, None, 0, 2]))
    text = json.dumps(
        data, indent=indent, ensure_ascii=draw(st.booleans()), separators=draw(st.sampled_from([None, (",", ":")]))
    )
    return record, draw(st.sampled_from(["", " ", "\n\t"])) + text + draw(st.sampled_from(["", " ", "\r\n"]))


@settings(max_examples=300, deadline=None)
@given(_stored_otherwise())
def test_payloads_stored_otherwise_read_as_the_record(stored: tuple[Record, str]) -> None:
    record, payload = stored
    binary = tuple(getattr(record, name) for name in record.BINARY)
    _same(from_payload(type(record), payload, binary), record)


@pytest.mark.parametrize(
    "payload", ["", " ", "{", '{"bucket":}', '{"bucket":"b"} x', "\ufeff{}", "[1", "nul", '"\\ud800']
)
def test_malformed_payloads_fail_as_json_loads_does(payload: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(payload)
    with pytest.raises(json.JSONDecodeError) as failure:
        from_payload(S3Object, payload)
    assert str(failure.value) == str(expected.value)


def test_a_missing_required_field_fails_as_the_constructor_does() -> None:
    payload = to_payload(S3Object("b", "k", 1, '"e"', datetime(2026, 1, 1, tzinfo=UTC)))
    data = {name: value for name, value in json.loads(payload).items() if name != "etag"}
    with pytest.raises(TypeError, match="'etag'"):
        from_payload(S3Object, json.dumps(data))
    with pytest.raises(TypeError, match="'etag'"):
        from_payload(S3Object, json.dumps({**data, "retired_field": 1}))


def test_binary_columns_are_bytes_or_left_to_the_default() -> None:
    record = S3Object("b", "k", 2, '"e"', datetime(2026, 1, 1, tzinfo=UTC), inline=True, data=b"ab")
    payload = to_payload(record)
    for column in (b"ab", bytearray(b"ab"), memoryview(b"ab")):
        _same(from_payload(S3Object, payload, (column,)), record)
    _same(from_payload(S3Object, payload, (None,)), dataclasses.replace(record, data=None))
    _same(from_payload(S3Object, payload), dataclasses.replace(record, data=None))  # a find leaves it out
    _same(from_payload(InlineBlob, to_payload(InlineBlob("n", b"x"))), InlineBlob("n"))


@dataclass(frozen=True, slots=True)
class _Checked(Record):
    """A record that validates its fields."""

    TABLE: ClassVar[str] = "checked"
    name: str
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a name is required")


@dataclass(frozen=True, slots=True)
class _Folded(Record):
    """A record whose own __init__ (dataclass keeps it) does more than store."""

    TABLE: ClassVar[str] = "folded"
    name: str

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", name.lower())


def test_records_that_do_more_than_store_are_built_by_their_constructor() -> None:
    with pytest.raises(ValueError, match="a name is required"):
        from_payload(_Checked, '{"name":"","tags":[]}')
    _same(from_payload(_Checked, '{"name":"n","tags":["a"]}'), _Checked("n", ("a",)))
    assert from_payload(_Folded, '{"name":"MiXed"}').name == "mixed"
    assert to_payload(_Checked("n", ("a", "é"))) == '{"name":"n","tags":["a","\\u00e9"]}'


def test_every_record_kind_takes_the_generated_builder() -> None:
    """The fast path is only taken when it is safe; this notices when a change makes it never taken."""
    assert [kind.__name__ for kind in ALL_RECORDS if codec._layout(kind).build is None] == []


def test_records_of_the_declared_types_are_written_without_the_plain_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plain way is for values of other classes, and slow: every value the services write (defaults, None
    in optional fields, empty tuples) takes the fast path."""
    monkeypatch.setattr(codec, "_ENCODER", None)  # the plain way fails on it (AttributeError, not caught)
    for kind in ALL_RECORDS:
        hints = typing.get_type_hints(kind)
        typical = {f.name: _typical(hints[f.name]) for f in dataclasses.fields(kind)}
        required = {f.name: typical[f.name] for f in dataclasses.fields(kind) if f.default is dataclasses.MISSING}
        for values in (typical, required):
            assert json.loads(to_payload(kind(**values))).keys() == {*typical} - {*kind.BINARY}
