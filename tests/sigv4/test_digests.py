"""The flexible-checksum digests: catalogued CRC check values, and incremental hashing."""

from __future__ import annotations

import hashlib
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegate.digests import ALGORITHMS, DIGEST_SIZES, new_hasher


@pytest.mark.parametrize(
    ("algorithm", "check"),
    [("CRC32", 0xCBF43926), ("CRC32C", 0xE3069283), ("CRC64NVME", 0xAE8B14860A799888)],
)
def test_crc_check_values(algorithm: str, check: int) -> None:
    """The catalogued check value of each CRC: the CRC of the ASCII digits 1 to 9, fed in two pieces."""
    hasher = new_hasher(algorithm)
    hasher.update(b"12345")
    hasher.update(b"6789")
    assert hasher.digest() == check.to_bytes(DIGEST_SIZES[algorithm], "big")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(ALGORITHMS)), st.binary(max_size=100), st.integers(min_value=0, max_value=100))
def test_hashing_in_pieces_is_hashing_at_once(algorithm: str, data: bytes, cut: int) -> None:
    whole, pieces = new_hasher(algorithm), new_hasher(algorithm)
    whole.update(data)
    pieces.update(data[:cut])
    pieces.update(data[cut:])
    assert pieces.digest() == whole.digest()
    assert len(whole.digest()) == DIGEST_SIZES[algorithm]


def test_the_standard_library_algorithms_are_its_own() -> None:
    for algorithm, reference in [("SHA1", hashlib.sha1), ("SHA256", hashlib.sha256), ("MD5", hashlib.md5)]:
        hasher = new_hasher(algorithm)
        hasher.update(b"abc")
        assert hasher.digest() == reference(b"abc").digest()
    crc = new_hasher("CRC32")
    crc.update(b"abc")
    assert crc.digest() == zlib.crc32(b"abc").to_bytes(4, "big")
