"""What an S3 request claims about its body (x-amz-content-sha256, Content-MD5, x-amz-checksum-*), checked as read.

S3 reads these claims in a fixed order, and so does this module: the form of every claim is checked before a
byte of the body is read (InvalidDigest, InvalidRequest), then the body is hashed once, incrementally, and the
claims are compared in S3's precedence: x-amz-content-sha256 first, then Content-MD5, then the flexible
checksum. Wordings follow S3's error responses.

The digests themselves are in rolegate.digests. The XXHASH algorithms of the S3 model are answered NotImplemented.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from rolegate.digests import ALGORITHMS, DIGEST_SIZES, Hasher, b64, new_hasher
from rolegate.errors import AwsError, BadDigest, IncompleteBody, InvalidDigest, InvalidRequest, aws_error
from rolegate.sigv4.verify import NamesMemo, raw_layout

XAmzContentSHA256Mismatch = aws_error("XAmzContentSHA256Mismatch", 400)
S3NotImplemented = aws_error("NotImplemented", 501, sender_fault=False)

READ_SIZE = 64 * 1024
NOT_IMPLEMENTED = frozenset({"XXHASH64", "XXHASH3", "XXHASH128"})  # checksum algorithms of the model S3 refuses
CHECKSUM_PREFIX = "x-amz-checksum-"
# x-amz-checksum-* request headers that name a mode or an algorithm rather than carry a value.
NOT_CHECKSUM_VALUES = frozenset({"x-amz-checksum-algorithm", "x-amz-checksum-type", "x-amz-checksum-mode"})
MULTIPLE_CHECKSUMS = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."


_ALGORITHM_BY_HEADER = {CHECKSUM_PREFIX + algorithm.lower(): algorithm for algorithm in ALGORITHMS}


def algorithm_of(header_name: str) -> str | None:
    """`x-amz-checksum-crc32` -> `CRC32`; None for a name that is not a supported checksum header.

    Raises S3's NotImplemented for the algorithms in the S3 model that this server cannot compute.
    """
    algorithm = _ALGORITHM_BY_HEADER.get(header_name)
    if algorithm is not None:  # the name as clients send it (and as grouped headers hold it)
        return algorithm
    name = header_name.strip().lower()
    if not name.startswith(CHECKSUM_PREFIX):
        return None
    algorithm = name[len(CHECKSUM_PREFIX) :].upper()
    if algorithm in NOT_IMPLEMENTED:
        raise S3NotImplemented("A header you provided implies functionality that is not implemented.", Header=name)
    return algorithm if algorithm in ALGORITHMS else None


def decode_digest(value: str, size: int) -> bytes | None:
    """Strict base64: the canonical encoding of exactly `size` bytes, or None (`y/Q5Jh==` is not `y/Q5Jg==`)."""
    text = value.strip()
    try:
        # Lenient decoding (b64decode's validate=True costs a regex) is enough: only text that is the canonical
        # encoding of what it decodes to passes the check below, and such text decodes alike either way.
        raw = binascii.a2b_base64(text)
    except (binascii.Error, ValueError):  # ValueError: text that is not ASCII
        return None
    if len(raw) != size or binascii.b2a_base64(raw, newline=False).decode("ascii") != text:
        return None
    return raw


_SHA256 = hashlib.sha256()  # copied for each body: cheaper than looking the algorithm up again


def sha256_file(source: BinaryIO, *, chunk_size: int = READ_SIZE) -> str:
    """Hex SHA-256 of a file read from its current position to the end, a chunk at a time (for the glue)."""
    digest = hashlib.sha256()
    while block := source.read(chunk_size):
        digest.update(block)
    return digest.hexdigest()


# --- the claims a request makes -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChecksumClaim:
    """A flexible checksum: its algorithm and, when sent as a header, the digest it must equal."""

    algorithm: str
    expected: bytes | None  # None: the value comes in the aws-chunked trailer


@dataclass(frozen=True, slots=True)
class PayloadClaims:
    """Everything a request says its body must hash to, already checked for form."""

    content_sha256: str | None = None  # compared case-insensitively with the body's hex SHA-256
    content_md5: bytes | None = None
    checksum: ChecksumClaim | None = None
    trailer: str | None = None  # the checksum header name announced in x-amz-trailer


# Built per request as `rolegate.sigv4.verify` builds its records (see `raw_layout`): a frozen dataclass's
# generated __init__ cost more than the rest of reading the claims.
_RawChecksumClaim = raw_layout(ChecksumClaim)
_RawClaims = raw_layout(PayloadClaims)


def _new_checksum_claim(algorithm: str, expected: bytes | None) -> ChecksumClaim:
    """`ChecksumClaim(algorithm, expected)`."""
    claim: Any = _RawChecksumClaim()
    claim.algorithm = algorithm
    claim.expected = expected
    claim.__class__ = ChecksumClaim
    built: ChecksumClaim = claim
    return built


def _new_claims(
    content_sha256: str | None, content_md5: bytes | None, checksum: ChecksumClaim | None, trailer: str | None
) -> PayloadClaims:
    """`PayloadClaims(content_sha256, content_md5, checksum, trailer)`."""
    claims: Any = _RawClaims()
    claims.content_sha256 = content_sha256
    claims.content_md5 = content_md5
    claims.checksum = checksum
    claims.trailer = trailer
    claims.__class__ = PayloadClaims
    built: PayloadClaims = claims
    return built


def parse_claims(
    headers: Sequence[tuple[str, str]], *, content_sha256: str | None, checksum_describes_body: bool = True
) -> PayloadClaims:
    """Read and validate the body claims in S3's order; raises InvalidDigest / InvalidRequest before any body is read.

    `content_sha256` is the literal the body must hash to (None when the payload is unsigned or streamed).
    `checksum_describes_body=False` (CompleteMultipartUpload) keeps x-amz-checksum-* headers out of the body check:
    there they describe the assembled object.
    """
    by_name: dict[str, list[str]] = {}
    for name, value in headers:
        by_name.setdefault(name.strip().lower(), []).append(value)
    return claims_by_name(by_name, content_sha256=content_sha256, checksum_describes_body=checksum_describes_body)


def claims_by_name(
    by_name: Mapping[str, Sequence[str]], *, content_sha256: str | None, checksum_describes_body: bool = True
) -> PayloadClaims:
    """`parse_claims` over header values grouped by trimmed lower-case name, as `HttpRequestView` holds them."""
    found = by_name.get("content-md5")  # a group is never empty: `found[0]` is its first value
    md5 = _content_md5(found[0]) if found else None
    checksum_headers = [(name, value) for name in _checksum_names(tuple(by_name)) for value in by_name[name]]
    found = by_name.get("x-amz-trailer")
    trailers = _trailer_names(found[0]) if found else []
    if len(checksum_headers) > 1 or len(trailers) > 1 or len(checksum_headers) + len(trailers) > 2:
        raise InvalidRequest(MULTIPLE_CHECKSUMS)
    if checksum_headers and trailers:
        raise InvalidRequest("Expecting a single x-amz-checksum- header")
    claim = _header_claim(*checksum_headers[0]) if checksum_headers else None
    trailer = trailers[0] if trailers else None
    if trailer is not None:
        claim = _new_checksum_claim(algorithm_of(trailer) or "", None)
    found = by_name.get("x-amz-sdk-checksum-algorithm")
    if found:
        _check_sdk_algorithm(found[0], claim)
    return _new_claims(
        content_sha256,
        md5,
        claim if checksum_describes_body or claim is None or claim.expected is None else None,
        trailer,
    )


def _read_checksum_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The x-amz-checksum-* names that carry a value, in arrival order."""
    return tuple(name for name in names if name.startswith(CHECKSUM_PREFIX) and name not in NOT_CHECKSUM_VALUES)


_checksum_names = NamesMemo(_read_checksum_names)


def _content_md5(value: str) -> bytes:
    raw = decode_digest(value, 16)
    if raw is None:
        raise InvalidDigest("The Content-MD5 you specified was invalid.", **{"Content-MD5": value.strip()})
    return raw


def _header_claim(name: str, value: str) -> ChecksumClaim:
    algorithm = algorithm_of(name)
    if algorithm is None:
        raise InvalidRequest("The algorithm type you specified in x-amz-checksum- header is invalid.")
    expected = decode_digest(value, DIGEST_SIZES[algorithm])
    if expected is None:
        raise InvalidRequest(f"Value for {name} header is invalid.")
    return _new_checksum_claim(algorithm, expected)


def _trailer_names(value: str) -> list[str]:
    """x-amz-trailer as S3 reads it: trailing commas and blanks are tolerated, anything else must be a checksum."""
    names = [name.strip().lower() for name in value.strip().rstrip(",").split(",")]
    if any(algorithm_of(name) is None for name in names):
        raise InvalidRequest("The value specified in the x-amz-trailer header is not supported")
    return names


def _check_sdk_algorithm(declared: str, claim: ChecksumClaim | None) -> None:
    if claim is None:
        raise InvalidRequest(
            "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers "
            "were found."
        )
    if declared.strip().upper() != claim.algorithm:
        raise InvalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.")


# --- checking a body against its claims -----------------------------------------------------------------------


class BodyDigests:
    """Hashes a body as it streams past and, at the end, compares it with the claims in S3's precedence.

    Each byte goes through each algorithm once: a flexible checksum in the algorithm of another claim
    (x-amz-checksum-sha256 beside a hex x-amz-content-sha256, x-amz-checksum-md5 beside Content-MD5) reads
    the digest of the hasher already running, since reading a digest leaves the hasher as it was.
    """

    def __init__(self, claims: PayloadClaims) -> None:
        self.claims = claims
        self.length = 0
        self.checksum_value: str | None = None  # base64, once verified
        self._sha256 = sha256 = _SHA256.copy() if claims.content_sha256 is not None else None
        self._md5 = md5 = hashlib.md5(usedforsecurity=False) if claims.content_md5 is not None else None
        checksum = claims.checksum
        own: Hasher | None = None  # the checksum's hasher, when no other claim runs its algorithm already
        if checksum is None:
            self._checksum: tuple[ChecksumClaim, Hasher] | None = None
        elif checksum.algorithm == "SHA256" and sha256 is not None:
            self._checksum = (checksum, sha256)
        elif checksum.algorithm == "MD5" and md5 is not None:
            self._checksum = (checksum, md5)
        else:
            own = new_hasher(checksum.algorithm)
            self._checksum = (checksum, own)
        self._hashers: tuple[Hasher, ...] = tuple(filter(None, (sha256, md5, own)))  # hashers are always truthy

    def update(self, data: bytes) -> None:
        self.length += len(data)
        for hasher in self._hashers:
            hasher.update(data)

    def verify(self, trailer_value: bytes | None = None) -> None:
        """Raise for the first claim the body breaks; `trailer_value` is the digest an aws-chunked trailer carried."""
        claimed_sha256, claimed_md5 = self.claims.content_sha256, self.claims.content_md5
        if self._sha256 is not None and claimed_sha256 is not None:
            computed = self._sha256.hexdigest()
            if not hmac.compare_digest(computed, claimed_sha256.lower()):
                raise XAmzContentSHA256Mismatch(
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    ClientComputedContentSHA256=claimed_sha256,
                    S3ComputedContentSHA256=computed,
                )
        if self._md5 is not None and claimed_md5 is not None:
            computed_md5 = self._md5.digest()
            if not hmac.compare_digest(computed_md5, claimed_md5):
                raise BadDigest(
                    "The Content-MD5 you specified did not match what we received.",
                    ExpectedDigest=claimed_md5.hex(),
                    CalculatedDigest=b64(computed_md5),
                )
        if self._checksum is not None:
            claim, hasher = self._checksum
            expected = claim.expected if claim.expected is not None else trailer_value
            computed_checksum = hasher.digest()
            if expected is None or not hmac.compare_digest(computed_checksum, expected):
                raise BadDigest(f"The {claim.algorithm} you specified did not match the calculated checksum.")
            self.checksum_value = binascii.b2a_base64(computed_checksum, newline=False).decode("ascii")  # b64()

    @property
    def checksum(self) -> tuple[str, str] | None:
        """(algorithm, base64 value) of the verified flexible checksum, once `verify` has passed."""
        if self._checksum is None or self.checksum_value is None:
            return None
        return self._checksum[0].algorithm, self.checksum_value


def incomplete_body(provided: int, expected: int) -> AwsError:
    """S3's IncompleteBody for a body whose byte count differs from the announced one."""
    return IncompleteBody(
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
        NumberBytesExpected=str(expected),
        NumberBytesProvided=str(provided),
    )


class CheckedReader:
    """`read(n)` over a payload that a subclass decodes and checks a step at a time (`_step` fills `_ready`
    and sets `_done`); the checksum is the one its digests verified."""

    decoded_length: int
    _digests: BodyDigests
    _ready: bytes
    _done: bool

    @property
    def checksum(self) -> tuple[str, str] | None:
        """(algorithm, base64 value) of the verified flexible checksum, available once the body is read."""
        return self._digests.checksum

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            return b"".join(iter(lambda: self.read(READ_SIZE), b""))
        while not self._ready and not self._done:
            self._step()
        ready = self._ready
        if len(ready) <= size:  # the usual read: a whole block, handed out without copying it
            self._ready = b""
            return ready
        self._ready = ready[size:]
        return ready[:size]

    def _step(self) -> None:
        raise NotImplementedError


class VerifiedBody(CheckedReader):
    """A plain (not aws-chunked) body read through `read(n)`, its claims checked before its last byte is handed out.

    `length` is the body's size (the spooled Content-Length). Holding back the final block until every claim
    holds means no consumer sees a complete body that failed its checks, with memory bounded by one block.
    """

    def __init__(self, source: BinaryIO, claims: PayloadClaims, length: int) -> None:
        self.decoded_length = length
        self._source = source
        self._digests = BodyDigests(claims)
        self._remaining = length
        self._ready = b""
        self._done = False

    def _step(self) -> None:
        block = self._source.read(min(READ_SIZE, self._remaining)) if self._remaining else b""
        if self._remaining and not block:
            raise incomplete_body(self._digests.length, self.decoded_length)
        self._remaining -= len(block)
        self._digests.update(block)
        if not self._remaining:
            self._digests.verify()
            self._done = True
        self._ready = block
