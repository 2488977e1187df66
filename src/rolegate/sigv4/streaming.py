"""S3 request bodies as the glue hands them on: plain or aws-chunked, decoded and checked against what they claim.

An aws-chunked body is `hex-size[;chunk-signature=sig]\\r\\n data \\r\\n` chunks, a zero-size chunk, then
trailer lines (`x-amz-checksum-crc32:…`, and `x-amz-trailer-signature:…` when signed) and a blank line. The
reader decodes it a block at a time from any binary file object, so memory stays bounded whatever the body's
size, and checks as it goes: each chunk signature against the chain seeded by the Authorization header's
signature, the chunk framing, the announced decoded length, the trailing checksum and its signature.

Invariant relied on by callers: a reader never hands out the last byte of a body (nor its end) before every
check has passed; failures surface as S3's AwsErrors from `read`. A consumer that stores what it reads must
therefore discard it when `read` raises, or drain the reader into a spool first.

Which checks apply follows S3: only header-signed SigV4 requests may stream (STREAMING-*); for presigned,
SigV2 and anonymous requests an x-amz-content-sha256 header is a literal the body must hash to.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import BinaryIO, Protocol

from rolegate.digests import DIGEST_SIZES
from rolegate.errors import (
    AwsError,
    EntityTooLarge,
    IncompleteBody,
    InternalFailure,
    InvalidRequest,
    MissingContentLength,
    SignatureDoesNotMatch,
    aws_error,
)
from rolegate.sigv4.canonical import ALGORITHM, EMPTY_SHA256, UNSIGNED_PAYLOAD, spaced_hex
from rolegate.sigv4.checksums import (
    READ_SIZE,
    BodyDigests,
    CheckedReader,
    PayloadClaims,
    S3NotImplemented,
    VerifiedBody,
    algorithm_of,
    claims_by_name,
    decode_digest,
    incomplete_body,
)
from rolegate.sigv4.verify import (
    CONTENT_SHA256_HEADER,
    S3_SIGNATURE_MISMATCH,
    ChunkSigner,
    HttpRequestView,
    VerifiedRequest,
)

MalformedTrailerError = aws_error("MalformedTrailerError", 400)
InvalidChunkSizeError = aws_error("InvalidChunkSizeError", 403)

STREAMING_PREFIX = "STREAMING-"
SIGNED_STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_STREAMING_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_STREAMING_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
DECODED_LENGTH_HEADER = "x-amz-decoded-content-length"
TRAILER_SIGNATURE = "x-amz-trailer-signature"
MAX_OBJECT_SIZE = 5 * 1024**4  # S3's largest object, 5 TiB
MIN_SIGNED_CHUNK = 8192  # S3: every signed chunk but the last carries at least 8 KiB
MAX_LINE = 4096  # chunk headers are ~90 bytes and trailer lines shorter; anything longer is not aws-chunked
MAX_TRAILER_LINES = 16

_CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
_TRAILER_ALGORITHM = "AWS4-HMAC-SHA256-TRAILER"
_HEX_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,16}")
_NO_CONTENT_CHECK = frozenset({"GET", "HEAD"})
_NO_CLAIMS = PayloadClaims()  # frozen, so one instance serves every read


class _NoBody:
    """The body of a read without one (GetObject, HeadObject): no bytes, no claims, so nothing to check or keep.

    What a `VerifiedBody` of zero bytes and no claims gives, without its hashers and state; it has no state at
    all (empty __slots__, class attributes that an instance cannot rebind), so one instance serves every read.
    """

    __slots__ = ()
    decoded_length = 0
    checksum = None

    def read(self, size: int = -1, /) -> bytes:
        return b""


_NO_BODY = _NoBody()


class PayloadReader(Protocol):
    """What the glue passes on as the body: `read(n)` of the decoded, verified payload."""

    decoded_length: int

    def read(self, size: int = -1, /) -> bytes: ...

    @property
    def checksum(self) -> tuple[str, str] | None:
        """(algorithm, base64 value) of the verified flexible checksum, once the whole body has been read."""
        ...


def s3_payload_reader(
    view: HttpRequestView, verified: VerifiedRequest | None, source: BinaryIO, *, length: int
) -> PayloadReader:
    """The reader for an S3 request's body: aws-chunked decoding for header-signed STREAMING-* payloads, else plain.

    `verified` is what authentication returned (None for an anonymous request), `source` the spooled body at
    position 0 and `length` its size in bytes. Malformed claims raise here, before any body is read.
    """
    value = view._header(CONTENT_SHA256_HEADER)
    method = view.method.upper()
    if (
        value is not None
        and value.startswith(STREAMING_PREFIX)
        and verified is not None
        and verified.signature_version == ALGORITHM
        and not verified.presigned
    ):
        return _streaming_reader(view, verified, source, value, _describes_body(view, method))
    if method in _NO_CONTENT_CHECK:  # S3 checks no body claims on reads
        return VerifiedBody(source, _NO_CLAIMS, length) if length else _NO_BODY
    literal = None if value is None or value == UNSIGNED_PAYLOAD else value
    describes_body = method != "POST" or _describes_body(view, method)  # no call for a PUT
    claims = claims_by_name(view.headers_by_name(), content_sha256=literal, checksum_describes_body=describes_body)
    if claims.trailer is not None:
        raise _malformed_trailer()
    return VerifiedBody(source, claims, length)


def _streaming_reader(
    view: HttpRequestView, verified: VerifiedRequest, source: BinaryIO, mode: str, describes_body: bool
) -> PayloadReader:
    if mode not in {SIGNED_STREAMING, SIGNED_STREAMING_TRAILER, UNSIGNED_STREAMING_TRAILER}:
        raise S3NotImplemented(
            "A header you provided implies functionality that is not implemented.", Header=CONTENT_SHA256_HEADER
        )
    decoded_length = _decoded_length(view._header(DECODED_LENGTH_HEADER))
    claims = claims_by_name(view.headers_by_name(), content_sha256=None, checksum_describes_body=describes_body)
    trailer_mode = mode.endswith("-TRAILER")
    if claims.trailer is not None and not trailer_mode:
        raise _malformed_trailer()
    signed = mode != UNSIGNED_STREAMING_TRAILER
    if signed and verified.signer is None:  # fail closed: never decode signed chunks without checking them
        raise InternalFailure("We encountered an internal error. Please try again.")
    return chunked_reader(
        source,
        decoded_length=decoded_length,
        claims=claims,
        signer=verified.signer if signed else None,
        seed_signature=verified.signature,
        signed_trailer=signed and trailer_mode,
    )


def chunked_reader(
    source: BinaryIO,
    *,
    decoded_length: int,
    claims: PayloadClaims | None = None,
    signer: ChunkSigner | None = None,
    seed_signature: str = "",
    signed_trailer: bool = False,
) -> ChunkedReader:
    """Decode an aws-chunked body; with a `signer`, every chunk must carry the next signature of the chain.

    `seed_signature` is the verified Authorization header's signature, `claims` what the headers said the
    decoded body hashes to (x-amz-trailer, x-amz-checksum-*, Content-MD5), `signed_trailer` whether the
    trailer carries its own signature (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER).
    """
    return ChunkedReader(
        source,
        decoded_length=decoded_length,
        claims=claims or PayloadClaims(),
        signer=signer,
        seed_signature=seed_signature,
        signed_trailer=signed_trailer,
    )


def strip_aws_chunked(content_encoding: str | None) -> str | None:
    """The Content-Encoding to store: the header without its `aws-chunked` coding; None when nothing remains."""
    if content_encoding is None:
        return None
    codings = [coding.strip() for coding in content_encoding.split(",")]
    kept = [coding for coding in codings if coding and coding.lower() != "aws-chunked"]
    return ", ".join(kept) or None


def _describes_body(view: HttpRequestView, method: str) -> bool:
    """Whether x-amz-checksum-* headers describe this body: not so for CompleteMultipartUpload (POST ?uploadId)."""
    return not (method == "POST" and _has_query_name(view.raw_query, "uploadId"))


def _has_query_name(raw_query: str, name: str) -> bool:
    return any(piece.partition("=")[0] == name for piece in raw_query.split("&"))


def _decoded_length(text: str | None) -> int:
    if text is None or not _DIGITS.fullmatch(text.strip()):
        raise MissingContentLength("You must provide the Content-Length HTTP header.")
    length = int(text)
    if length > MAX_OBJECT_SIZE:
        raise EntityTooLarge(
            "Your proposed upload exceeds the maximum allowed size",
            ProposedSize=str(length),
            MaxSizeAllowed=str(MAX_OBJECT_SIZE),
        )
    return length


def _truncated() -> AwsError:
    return IncompleteBody("The request body terminated unexpectedly")


def _malformed_trailer() -> AwsError:
    return MalformedTrailerError(
        "The request contained trailing data that was not well-formed or did not conform to our published schema."
    )


class _Wire:
    """Buffered reads of the encoded body: CRLF-terminated lines of bounded length and exact byte counts."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._buffer = bytearray()
        self._eof = False

    def _fill(self) -> bool:
        block = b"" if self._eof else self._source.read(READ_SIZE)
        self._eof = not block
        self._buffer += block
        return bool(block)

    def line(self) -> bytes | None:
        """The next line without its CRLF; None at the very end of the input. A bare LF is a framing error."""
        while (end := self._buffer.find(b"\n", 0, MAX_LINE)) < 0:
            if len(self._buffer) >= MAX_LINE:
                raise _truncated()
            if not self._fill():
                if self._buffer:
                    raise _truncated()
                return None
        raw = bytes(self._buffer[: end + 1])
        del self._buffer[: end + 1]
        if not raw.endswith(b"\r\n"):
            raise _truncated()
        return raw[:-2]

    def exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not self._fill():
                raise _truncated()
        taken = bytes(self._buffer[:size])
        del self._buffer[:size]
        return taken


class ChunkedReader(CheckedReader):
    """`read(n)` over the decoded payload of an aws-chunked body, checking it chunk by chunk (see the module doc)."""

    def __init__(
        self,
        source: BinaryIO,
        *,
        decoded_length: int,
        claims: PayloadClaims,
        signer: ChunkSigner | None,
        seed_signature: str,
        signed_trailer: bool,
    ) -> None:
        self.decoded_length = decoded_length
        self._wire = _Wire(source)
        self._digests = BodyDigests(claims)
        self._signer = signer
        self._previous = seed_signature
        self._signed_trailer = signed_trailer
        self._chunk_number = 0
        self._chunk_size = 0
        self._chunk_left = 0
        self._chunk_signature = ""
        # Each chunk's SHA-256 feeds its signature's string to sign: unsigned streams are not hashed at all.
        self._chunk_hash: hashlib._Hash | None = None
        self._ready = b""
        self._held = b""
        self._done = False

    def _step(self) -> None:
        if self._chunk_left:
            self._read_data()
        else:
            self._read_chunk_header()

    def _read_chunk_header(self) -> None:
        line = self._wire.line()
        if line is None:
            raise _truncated()
        size, signature = self._parse_chunk_header(line)
        self._chunk_number += 1
        if self._signer is not None and size and self._chunk_number > 1 and self._chunk_size < MIN_SIGNED_CHUNK:
            raise InvalidChunkSizeError(
                f"Only the last chunk is allowed to have a size less than {MIN_SIGNED_CHUNK} bytes",
                Chunk=str(self._chunk_number),
                BadChunkSize=str(self._chunk_size),
            )
        decoded = self._digests.length
        if decoded + size > self.decoded_length or (not size and decoded < self.decoded_length):
            raise incomplete_body(decoded + size, self.decoded_length)
        self._chunk_size = self._chunk_left = size
        self._chunk_signature = signature
        if self._signer is not None:
            self._chunk_hash = hashlib.sha256()
        if not size:
            self._finish()

    def _parse_chunk_header(self, line: bytes) -> tuple[int, str]:
        size_text, separator, extensions = line.partition(b";")
        if not _HEX_SIZE.fullmatch(size_text.strip()):
            raise _truncated()
        size = int(size_text.strip(), 16)
        if self._signer is None:
            return size, ""
        parameters = extensions.split(b";")
        name, _, value = parameters[0].partition(b"=")
        if not separator or len(parameters) > 1 or not value.strip():
            raise _truncated()
        signature = value.strip().decode("ascii", "replace")
        return size, signature if name.strip() == b"chunk-signature" else ""

    def _read_data(self) -> None:
        data = self._wire.exact(min(READ_SIZE, self._chunk_left))
        self._chunk_left -= len(data)
        if self._chunk_hash is not None:
            self._chunk_hash.update(data)
        self._digests.update(data)
        if not self._chunk_left:
            if self._wire.exact(2) != b"\r\n":
                raise _truncated()
            self._check_chunk_signature()
        if self._digests.length == self.decoded_length:
            self._held = data  # released only once the final chunk and the trailer have checked out
        else:
            self._ready = data

    def _check_chunk_signature(self) -> None:
        if self._signer is None:
            return
        if self._chunk_hash is None:  # fail closed; a signed chunk's header always starts its hash
            raise InternalFailure("We encountered an internal error. Please try again.")
        to_sign = self._signer.string_to_sign(
            _CHUNK_ALGORITHM, self._previous, EMPTY_SHA256, self._chunk_hash.hexdigest()
        )
        self._previous = _check_link(self._signer, to_sign, self._chunk_signature)

    def _finish(self) -> None:
        self._check_chunk_signature()
        trailer_value = self._read_trailer()
        self._digests.verify(trailer_value)
        self._ready, self._held = self._held, b""
        self._done = True

    def _read_trailer(self) -> bytes | None:
        """Trailer lines up to the blank line; returns the decoded checksum the trailer carried."""
        declared = self._digests.claims.trailer
        value: str | None = None
        signed = False
        for _ in range(MAX_TRAILER_LINES):
            line = self._wire.line()
            if line is None and self._signed_trailer:
                raise _truncated()
            if not line:
                break
            name, colon, text = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if not colon or signed or name not in {declared, TRAILER_SIGNATURE}:
                raise _malformed_trailer()
            if name == TRAILER_SIGNATURE:
                signed = self._check_trailer_signature(declared, value, text.strip())
            else:
                value = text.strip()
        else:
            raise _malformed_trailer()
        if self._signed_trailer and not signed:
            raise _truncated()
        if declared is None:
            return None
        if value is None:
            raise _malformed_trailer()
        return _trailer_digest(declared, value)

    def _check_trailer_signature(self, declared: str | None, value: str | None, provided: str) -> bool:
        if self._signer is None or not self._signed_trailer:
            raise _malformed_trailer()
        canonical = f"{declared}:{value}\n" if declared is not None and value is not None else "\n"
        trailer_hash = hashlib.sha256(canonical.encode("latin-1")).hexdigest()
        to_sign = self._signer.string_to_sign(_TRAILER_ALGORITHM, self._previous, trailer_hash)
        _check_link(self._signer, to_sign, provided)
        return True


def _trailer_digest(header: str, value: str) -> bytes:
    """The trailer's checksum as bytes; its bad value is not echoed back, as S3 does not."""
    digest = decode_digest(value, DIGEST_SIZES.get(algorithm_of(header) or "", 0))
    if digest is None:
        raise InvalidRequest(f"Value for {header} trailing header is invalid.")
    return digest


def _check_link(signer: ChunkSigner, to_sign: str, provided: str) -> str:
    """Compare one link of the chain in constant time; returns it to seed the next link."""
    expected = signer.sign(to_sign)
    if hmac.compare_digest(expected.encode("ascii"), provided.encode("utf-8", "replace")):
        return expected
    raise SignatureDoesNotMatch(
        S3_SIGNATURE_MISMATCH,
        AWSAccessKeyId=signer.access_key_id,
        StringToSign=to_sign,
        SignatureProvided=provided,
        StringToSignBytes=spaced_hex(to_sign),
    )
