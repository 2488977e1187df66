"""How to combine the reflected CRCs of S3's flexible checksums (CRC32, CRC32C, CRC64NVME).

A FULL_OBJECT multipart checksum is the CRC of the whole object, yet completing an upload must not read its
parts again: they may be gigabytes, and the database's write lock is held. A CRC is linear over GF(2), so
CRC(A + B) = CRC(A) * x^(8 * len(B)) mod P, xor CRC(B), whenever the initial register and the final xor are
the same value (all ones for these three). That is zlib's crc32_combine, here for any reflected polynomial:
each part's stored CRC and size are enough. The CRCs themselves are in rolegate.digests.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from rolegate.digests import CRC_POLYNOMIALS


class _Field:
    """Polynomials modulo one reflected CRC polynomial. As in zlib, the top bit is x^0 and each bit to the
    right is the next power of x, so multiplying by x is a right shift (with reduction)."""

    def __init__(self, polynomial: int, width: int) -> None:
        self.polynomial = polynomial
        self.width = width
        self.one = 1 << (width - 1)
        self._squares = [self.one >> 1]  # x^(2^k) for k = 0, 1, ...: grown as longer lengths need them

    def multiply(self, a: int, b: int) -> int:
        """a * b mod P."""
        product = 0
        bit = self.one
        while a:
            if a & bit:
                product ^= b
                a ^= bit
            b = (b >> 1) ^ self.polynomial if b & 1 else b >> 1
            bit >>= 1
        return product

    def shift(self, length: int) -> int:
        """x^(8 * length) mod P: what a CRC is multiplied by when `length` more bytes follow."""
        result = self.one
        k = 3  # x^(8n) = x^(2^3 * n)
        while length:
            while len(self._squares) <= k:
                self._squares.append(self.multiply(self._squares[-1], self._squares[-1]))
            if length & 1:
                result = self.multiply(self._squares[k], result)
            length >>= 1
            k += 1
        return result


@cache
def _field(algorithm: str) -> _Field:
    polynomial, width = CRC_POLYNOMIALS[algorithm]
    return _Field(polynomial, width)


def width_bytes(algorithm: str) -> int:
    return CRC_POLYNOMIALS[algorithm][1] // 8


def combined_crc(algorithm: str, pieces: Iterable[tuple[int, int]]) -> int:
    """The CRC of the concatenation of pieces given as (CRC, length), in order. Parts mostly share one size,
    so each distinct length's shift is computed once: 10,000 parts cost 10,000 multiplications."""
    field = _field(algorithm)
    shifts: dict[int, int] = {}
    total = 0  # the CRC of no bytes
    for crc, length in pieces:
        if length not in shifts:
            shifts[length] = field.shift(length)
        total = field.multiply(shifts[length], total) ^ crc
    return total
