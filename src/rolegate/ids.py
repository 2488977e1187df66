"""AWS-shaped identifiers (AKIA/ASIA keys, AIDA/AROA/ANPA unique ids, account ids, request ids) from an
injected random source, so tests can make them deterministic."""

from __future__ import annotations

import random
import secrets
import string
from typing import Protocol

UPPER_ALNUM = string.ascii_uppercase + "234567"
SECRET_CHARS = string.ascii_letters + string.digits + "+/"
_V4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))  # the variant and version fields of a UUID
_V4_SET = (0x8000 << 48) | (4 << 76)  # RFC 4122 variant, version 4


class RandomSource(Protocol):
    def choice(self, seq: str) -> str: ...

    def getrandbits(self, k: int) -> int: ...


class Ids:
    def __init__(self, source: RandomSource | None = None) -> None:
        self._random: RandomSource = source if source is not None else secrets.SystemRandom()
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
        """A random (version 4) UUID: the bits `uuid.UUID(int=..., version=4)` sets, formatted directly
        (every request makes one, and the UUID class's checks cost more than the rest)."""
        value = (self._fast.getrandbits(128) & _V4_CLEAR) | _V4_SET
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def token(self, length: int) -> str:
        return self._chars(string.ascii_lowercase + string.digits, length)


def seeded(seed: int) -> Ids:
    """Deterministic ids for tests."""
    return Ids(random.Random(seed))
