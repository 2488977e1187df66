"""Request ids are the version 4 UUIDs `uuid.UUID` would make from the same bits."""

from __future__ import annotations

import random
import uuid

from rolegate.ids import Ids


def test_request_ids_are_what_uuid_makes_of_the_same_bits() -> None:
    ids = Ids(random.Random(3))
    twin = random.Random()  # a generator that repeats the ids' draws
    twin.setstate(ids._fast.getstate())
    for _ in range(20_000):
        made = ids.request_id()
        expected = uuid.UUID(int=twin.getrandbits(128), version=4)
        assert made == str(expected)
        assert uuid.UUID(made).version == 4 and uuid.UUID(made).variant == uuid.RFC_4122
