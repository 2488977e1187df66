"""Request ids are version 7 UUIDs (RFC 9562): the millisecond clock, then the fast generator's bits."""

from __future__ import annotations

import random
import uuid

from rolegate.ids import Ids


def test_request_ids_are_version_7_uuids_of_the_clock_and_the_random_bits() -> None:
    clock = iter(range(1_700_000_000_000, 1_700_000_020_000))
    ids = Ids(random.Random(3), milliseconds=lambda: next(clock))
    twin = random.Random()  # a generator that repeats the ids' draws
    twin.setstate(ids._fast.getstate())
    for millisecond in range(1_700_000_000_000, 1_700_000_020_000):
        text = ids.request_id()
        made = uuid.UUID(text)
        assert text == str(made)  # the canonical form: lower-case hex in 8-4-4-4-12 groups
        assert made.version == 7 and made.variant == uuid.RFC_4122
        assert made.int >> 80 == millisecond
        bits = twin.getrandbits(80)
        assert made.int & ((1 << 62) - 1) == bits & ((1 << 62) - 1)  # rand_b
        assert (made.int >> 64) & 0xFFF == (bits >> 64) & 0xFFF  # rand_a


def test_request_ids_sort_by_time_and_stay_unique() -> None:
    ids = Ids()
    made = [ids.request_id() for _ in range(20_000)]
    assert len(set(made)) == len(made)
    times = [uuid.UUID(m).int >> 80 for m in made]
    assert times == sorted(times)
