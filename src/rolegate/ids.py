"""AWS-shaped identifiers (AKIA/ASIA keys, AIDA/AROA/ANPA unique ids, account ids, request ids) from an
injected random source, so tests can make them deterministic."""

from __future__ import annotations

import random
import secrets
import string
import time
from collections.abc import Callable
from typing import Protocol

UPPER_ALNUM = string.ascii_uppercase + "234567"
SECRET_CHARS = string.ascii_letters + string.digits + "+/"
_RANDOM_BITS = 80  # below the 48-bit millisecond timestamp of a version 7 UUID
_V7_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))  # the variant and version fields of a UUID
_V7_SET = (0x8000 << 48) | (7 << 76)  # RFC 9562 variant, version 7


class RandomSource(Protocol):
    def choice(self, seq: str) -> str: ...

    def getrandbits(self, k: int) -> int: ...


def _milliseconds() -> int:
    return time.time_ns() // 1_000_000


class Ids:
    def __init__(self, source: RandomSource | None = None, milliseconds: Callable[[], int] = _milliseconds) -> None:
        self._random: RandomSource = source if source is not None else secrets.SystemRandom()
        self._milliseconds = milliseconds
        # Request ids need to be unique, not secret: a fast generator seeded once from the real source
        # (the system's random source can cost hundreds of microseconds per call on small VMs).
        self._fast = random.Random(self._random.getrandbits(128))

    def _chars(self, alphabet: str, count: int) -> str:
        """`count` characters in one draw from the source; alphabets of 32 or 64 symbols map bits exactly."""
        bits = len(alphabet).bit_length() - 1
        if 1 << bits != len(alphabet):
            return "".join(self._random.choice(alphabet) for _ in range(count))
        value = self._random.getrandbits(bits * count)
        mask = (1 << bits) - 1
        return "".join(alphabet[(value >> (bits * i)) & mask] for i in range(count))

    def unique_id(self, prefix: str) -> str:
        """`AIDA…`, `AROA…`, `ANPA…`: a four-letter prefix and 17 characters, 21 in all."""
        return prefix + self._chars(UPPER_ALNUM, 17)

    def access_key_id(self, temporary: bool = False) -> str:
        return ("ASIA" if temporary else "AKIA") + self._chars(UPPER_ALNUM, 16)

    def secret_access_key(self) -> str:
        return self._chars(SECRET_CHARS, 40)

    def account_id(self) -> str:
        return str(self._random.getrandbits(40) % 900_000_000_000 + 100_000_000_000)

    def request_id(self) -> str:
        """A version 7 UUID (RFC 9562): the Unix time in milliseconds, then random bits. Time-ordered ids keep
        the audit trail's inserts at the end of its key index, where random ones would each dirty a page of
        their own. Formatted directly: every request makes one, and the UUID class's checks cost more."""
        value = (self._milliseconds() << _RANDOM_BITS | self._fast.getrandbits(_RANDOM_BITS)) & _V7_CLEAR | _V7_SET
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def token(self, length: int) -> str:
        return self._chars(string.ascii_lowercase + string.digits, length)


def seeded(seed: int) -> Ids:
    """Deterministic ids for tests."""
    return Ids(random.Random(seed))
