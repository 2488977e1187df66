"""The payload codec against a plain reference: every record kind, generated values, byte-identical JSON
(the stored format must not change) and an exact round trip."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rolegate.store.codec import from_payload, to_payload
from rolegate.store.records import ALL_RECORDS, Record, S3Object


def _strategy(hint: Any) -> st.SearchStrategy[Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_strategy(arg) for arg in args))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(_strategy(args[0]), max_size=3).map(tuple)
        return st.tuples(*(_strategy(arg) for arg in args))
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=8),
        int: st.integers(-(2**40), 2**40),
        bool: st.booleans(),
        bytes: st.binary(max_size=16),
        datetime: st.datetimes(timezones=st.just(UTC)),
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
    assert from_payload(type(record), payload, binary) == record


def test_a_field_an_earlier_version_stored_is_ignored() -> None:
    record = S3Object("b", "k", 1, '"e"', datetime(2026, 1, 1, tzinfo=UTC))
    stored = json.dumps({**json.loads(to_payload(record)), "retired_field": [1, 2]})
    assert from_payload(S3Object, stored, (None,)) == record
