"""S3 bodies: aws-chunked decoding against AWS's published vectors and botocore's own encoders, checksums, tampering.

Requests come from botocore: its SigV4 signer for the seed of a signed chunk stream (S3SigV4Auth always
rewrites x-amz-content-sha256, SigV4Auth signs what it is given), and real boto3 clients whose prepared
requests are captured at `before-send`, so nothing leaves the process. Signed chunk streams are encoded here
from the specification; the encoder is itself checked against AWS's example first.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import io
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, cast
from unittest import mock
from urllib.parse import urlsplit

import boto3
import botocore.auth
import botocore.httpchecksum
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials

from rolegate.clock import FixedClock
from rolegate.digests import ALGORITHMS, new_hasher
from rolegate.errors import AwsError, SignatureDoesNotMatch
from rolegate.sigv4 import (
    HttpRequestView,
    VerifiedRequest,
    chunked_reader,
    s3_payload_reader,
    sha256_file,
    strip_aws_chunked,
    verify,
    verify_s3,
)
from rolegate.sigv4.canonical import signing_key
from rolegate.sigv4.checksums import ChecksumClaim, PayloadClaims, parse_claims

SESSION = boto3.session.Session()  # one session: the S3 model is loaded once
ACCESS_KEY = "AKIAROLEGATESTREAM01"
SECRET = "stream/secret+key/EXAMPLE0123456789abcdef"
SIGNED_AT = datetime(2026, 1, 15, 10, 0, 0)  # naive UTC, as botocore's get_current_datetime returns it
DATE = "20260115T100000Z"
SCOPE = "20260115/us-east-1/s3/aws4_request"
KEY = signing_key(SECRET, "20260115", "us-east-1", "s3")
EMPTY = hashlib.sha256(b"").hexdigest()
ENDPOINT = "127.0.0.1:9"  # never contacted: requests are captured before they are sent


def secret_for(access_key_id: str) -> str | None:
    return SECRET if access_key_id == ACCESS_KEY else None


def clock() -> FixedClock:
    return FixedClock(SIGNED_AT.replace(tzinfo=UTC) + timedelta(seconds=3))


@contextmanager
def botocore_time() -> Iterator[None]:
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=SIGNED_AT):
        yield


def header_text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def view_of(request: AWSRequest | AWSPreparedRequest) -> HttpRequestView:
    parts = urlsplit(request.url)
    headers = [(name, header_text(value)) for name, value in request.headers.items()]
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", parts.netloc))
    payload = next((value for name, value in headers if name.lower() == "x-amz-content-sha256"), "")
    return HttpRequestView(request.method or "GET", parts.path, parts.query, headers, payload)


def body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return bytes(body.read())


def read_all(reader: Any, size: int) -> bytes:
    return b"".join(iter(lambda: reader.read(size), b""))


def decode(view: HttpRequestView, verified: VerifiedRequest | None, body: bytes, read_size: int = 7000) -> bytes:
    return read_all(s3_payload_reader(view, verified, io.BytesIO(body), length=len(body)), read_size)


def rejects(
    view: HttpRequestView, verified: VerifiedRequest | None, body: bytes, code: str, message: str | None = None
) -> AwsError:
    with pytest.raises(AwsError) as raised:
        decode(view, verified, body)
    assert raised.value.code == code, raised.value
    if message is not None:
        assert raised.value.message == message
    return raised.value


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def crc32(data: bytes) -> str:
    return b64(zlib.crc32(data).to_bytes(4, "big"))


# --- a spec-built encoder for signed chunk streams -----------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def link(key: bytes, *lines: str) -> str:
    return hmac.new(key, "\n".join(lines).encode(), hashlib.sha256).hexdigest()


def encode_signed(
    chunks: list[bytes],
    *,
    seed: str,
    key: bytes = KEY,
    date: str = DATE,
    scope: str = SCOPE,
    trailer: tuple[str, str] | None = None,
) -> bytes:
    """`hex;chunk-signature=…` chunks chained from the seed, the zero chunk, then the blank line or a signed trailer."""
    out, previous = bytearray(), seed
    for data in [*chunks, b""]:
        previous = link(key, "AWS4-HMAC-SHA256-PAYLOAD", date, scope, previous, EMPTY, sha256_hex(data))
        out += f"{len(data):x};chunk-signature={previous}\r\n".encode() + data + (b"\r\n" if data else b"")
    if trailer is None:
        return bytes(out + b"\r\n")
    canonical = f"{trailer[0]}:{trailer[1]}\n"
    signature = link(key, "AWS4-HMAC-SHA256-TRAILER", date, scope, previous, sha256_hex(canonical.encode()))
    return bytes(
        out + canonical.replace("\n", "\r\n").encode() + f"x-amz-trailer-signature:{signature}\r\n\r\n".encode()
    )


def encode_unsigned(chunks: list[bytes], trailer: tuple[str, str] | None = None) -> bytes:
    out = b"".join(f"{len(data):x}\r\n".encode() + data + b"\r\n" for data in chunks) + b"0\r\n"
    return out + (f"{trailer[0]}:{trailer[1]}\r\n".encode() if trailer else b"") + b"\r\n"


# --- AWS's published example (Amazon S3 API Reference, "Transferring payload in multiple chunks") -------------

DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DOC_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
DOC_CHUNK_SIGNATURES = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
DOC_CHUNKS = [b"a" * 65536, b"a" * 1024]


def doc_view() -> HttpRequestView:
    signed = "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class"
    authorization = (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        f"SignedHeaders={signed},Signature={DOC_SEED}"
    )
    headers = [
        ("Host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("Authorization", authorization),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("Content-Length", "66824"),
    ]
    return HttpRequestView("PUT", "/examplebucket/chunkObject.txt", "", headers, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")


def doc_body() -> bytes:
    sizes = ["10000", "400", "0"]
    chunks = [*DOC_CHUNKS, b""]
    return b"".join(
        f"{size};chunk-signature={signature}\r\n".encode() + data + b"\r\n"
        for size, signature, data in zip(sizes, DOC_CHUNK_SIGNATURES, chunks, strict=True)
    )


def doc_verified() -> VerifiedRequest:
    doc_clock = FixedClock(datetime(2013, 5, 24, 0, 0, 5, tzinfo=UTC))
    secrets = {"AKIAIOSFODNN7EXAMPLE": DOC_SECRET}.get
    return verify(doc_view(), secrets, doc_clock, service="s3", region="us-east-1", s3=True)


def test_the_encoder_reproduces_the_aws_example() -> None:
    key = signing_key(DOC_SECRET, "20130524", "us-east-1", "s3")
    body = encode_signed(
        DOC_CHUNKS, seed=DOC_SEED, key=key, date="20130524T000000Z", scope="20130524/us-east-1/s3/aws4_request"
    )
    assert body == doc_body()
    assert len(body) == 66824


def test_decodes_the_aws_example() -> None:
    verified = doc_verified()
    assert verified.signature == DOC_SEED
    assert DOC_SECRET not in repr(verified) and "AKIAIOSFODNN7EXAMPLE" in repr(verified.signer)
    reader = s3_payload_reader(doc_view(), verified, io.BytesIO(doc_body()), length=66824)
    assert reader.decoded_length == 66560
    assert reader.read(-1) == b"a" * 66560
    assert reader.read(10) == b""


@pytest.mark.parametrize(
    ("tamper", "string_to_sign_start"),
    [
        (lambda body: body.replace(b"a", b"b", 1), "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z"),
        (lambda body: body.replace(DOC_CHUNK_SIGNATURES[1].encode(), b"0" * 64), "AWS4-HMAC-SHA256-PAYLOAD"),
        (lambda body: body.replace(DOC_CHUNK_SIGNATURES[2].encode(), DOC_CHUNK_SIGNATURES[1].encode()), "AWS4-"),
    ],
    ids=["chunk-data", "chunk-signature", "final-signature"],
)
def test_the_aws_example_tampered(tamper: Callable[[bytes], bytes], string_to_sign_start: str) -> None:
    body = tamper(doc_body())
    error = rejects(doc_view(), doc_verified(), body, "SignatureDoesNotMatch")
    assert error.http_status == 403
    assert error.extra["StringToSign"].startswith(string_to_sign_start)
    assert error.extra["AWSAccessKeyId"] == "AKIAIOSFODNN7EXAMPLE"
    assert DOC_SECRET not in repr(error.extra)


# --- signed streams with a signed trailer, seeded by botocore's SigV4 signer ----------------------------------


def seed(mode: str, decoded_length: int, **headers: str) -> tuple[HttpRequestView, VerifiedRequest]:
    request = AWSRequest(
        method="PUT",
        url=f"http://{ENDPOINT}/bucket/some/key.bin",
        headers={
            "X-Amz-Content-SHA256": mode,
            "Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": str(decoded_length),
            **headers,
        },
    )
    with botocore_time():
        botocore.auth.SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", "us-east-1").add_auth(request)
    view = view_of(request)
    verified = verify_s3(view, secret_for, clock())
    assert verified is not None
    return view, verified


def seed_signature(view: HttpRequestView) -> str:
    return (view.header("authorization") or "").rpartition("Signature=")[2]


PAYLOAD = bytes(range(256)) * 160  # 40 KiB
CHUNKS = [PAYLOAD[:16384], PAYLOAD[16384:32768], PAYLOAD[32768:]]
TRAILED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"


def signed_trailer_case() -> tuple[HttpRequestView, VerifiedRequest, bytes]:
    view, verified = seed(TRAILED, len(PAYLOAD), **{"x-amz-trailer": "x-amz-checksum-crc32"})
    body = encode_signed(CHUNKS, seed=seed_signature(view), trailer=("x-amz-checksum-crc32", crc32(PAYLOAD)))
    return view, verified, body


def test_signed_chunks_with_a_signed_trailer() -> None:
    view, verified, body = signed_trailer_case()
    reader = s3_payload_reader(view, verified, io.BytesIO(body), length=len(body))
    assert read_all(reader, 5000) == PAYLOAD
    assert reader.checksum == ("CRC32", crc32(PAYLOAD))


def _swap_first_chunks(body: bytes) -> bytes:
    first_end = body.index(b"\r\n", body.index(b"\r\n") + 2) + 2
    second_end = body.index(b"\r\n", body.index(b"\r\n", first_end) + 2) + 2
    return body[first_end:second_end] + body[:first_end] + body[second_end:]


def _replace_trailer_value(body: bytes) -> bytes:
    return body.replace(crc32(PAYLOAD).encode(), crc32(b"other").encode())


SIGNED_TAMPERS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "chunk-data": (lambda body: body.replace(PAYLOAD[100:120], bytes(20), 1), "SignatureDoesNotMatch"),
    "chunk-signature": (
        lambda body: body.replace(b"chunk-signature=", b"chunk-signature=0", 1),
        "SignatureDoesNotMatch",
    ),
    "chunk-order": (_swap_first_chunks, "SignatureDoesNotMatch"),
    "trailer-checksum": (_replace_trailer_value, "SignatureDoesNotMatch"),
    "trailer-signature": (
        lambda body: body.replace(b"x-amz-trailer-signature:", b"x-amz-trailer-signature:f"),
        "SignatureDoesNotMatch",
    ),
    "trailer-signature-missing": (lambda body: body[: body.index(b"x-amz-trailer-signature")], "IncompleteBody"),
    "truncated": (lambda body: body[: len(body) // 2], "IncompleteBody"),
    "no-signatures": (lambda body: encode_unsigned(CHUNKS), "IncompleteBody"),
    "extra-parameter-after": (lambda body: body.replace(b"\r\n", b";x=y\r\n", 1), "IncompleteBody"),
}


@pytest.mark.parametrize("name", SIGNED_TAMPERS)
def test_signed_stream_tampered(name: str) -> None:
    view, verified, body = signed_trailer_case()
    tamper, code = SIGNED_TAMPERS[name]
    tampered = tamper(body)
    assert tampered != body
    error = rejects(view, verified, tampered, code)
    if code == "IncompleteBody":
        assert error.message == "The request body terminated unexpectedly"


def read_up_to(reader: Any, size: int, received: bytearray) -> None:
    while len(received) < size:
        received += reader.read(size - len(received))


def test_the_last_byte_waits_for_the_trailer() -> None:
    """A consumer that stops at the announced length never gets the whole body from a stream that fails late."""
    view, verified, body = signed_trailer_case()
    reader = s3_payload_reader(view, verified, io.BytesIO(_replace_trailer_value(body)), length=len(body))
    received = bytearray()
    with pytest.raises(SignatureDoesNotMatch):
        read_up_to(reader, len(PAYLOAD), received)
    assert 0 < len(received) < len(PAYLOAD)


@pytest.mark.parametrize(
    ("announced", "provided"), [(len(PAYLOAD) - 1, len(PAYLOAD)), (len(PAYLOAD) + 1, len(PAYLOAD))]
)
def test_decoded_length_must_match(announced: int, provided: int) -> None:
    view, verified = seed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", announced)
    body = encode_signed(CHUNKS, seed=seed_signature(view))
    error = rejects(view, verified, body, "IncompleteBody")
    assert error.message == "You did not provide the number of bytes specified by the Content-Length HTTP header"
    assert error.extra == {"NumberBytesExpected": str(announced), "NumberBytesProvided": str(provided)}


def test_decoded_length_header_is_signed() -> None:
    view, _ = seed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(PAYLOAD))
    headers = [(n, "1" if n.lower() == "x-amz-decoded-content-length" else v) for n, v in view.headers]
    with pytest.raises(SignatureDoesNotMatch):
        verify_s3(
            HttpRequestView(view.method, view.raw_path, view.raw_query, headers, view.payload_hash), secret_for, clock()
        )


def test_signed_chunks_but_the_last_carry_eight_kib() -> None:
    view, verified = seed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 9 * 1024)
    body = encode_signed([b"x" * 1024, b"y" * 4096, b"z" * 4096], seed=seed_signature(view))
    error = rejects(
        view,
        verified,
        body,
        "InvalidChunkSizeError",
        "Only the last chunk is allowed to have a size less than 8192 bytes",
    )
    assert error.http_status == 403
    assert error.extra == {"Chunk": "2", "BadChunkSize": "1024"}


def test_missing_or_bad_decoded_length_is_length_required() -> None:
    view, verified = seed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 0)
    for value in (None, "ten", "-1"):
        headers = [(n, v) for n, v in view.headers if n.lower() != "x-amz-decoded-content-length"]
        if value is not None:
            headers.append(("x-amz-decoded-content-length", value))
        changed = HttpRequestView(view.method, view.raw_path, view.raw_query, headers, view.payload_hash)
        error = rejects(
            changed, verified, b"0\r\n\r\n", "MissingContentLength", "You must provide the Content-Length HTTP header."
        )
        assert error.http_status == 411


def test_signed_chunks_are_never_decoded_unchecked() -> None:
    view, verified = seed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(PAYLOAD))
    without_signer = dataclasses.replace(verified, signer=None)
    body = encode_signed(CHUNKS, seed=seed_signature(view))
    assert rejects(view, without_signer, body, "InternalFailure").http_status == 500


def test_sigv4a_streaming_is_not_implemented() -> None:
    view, verified = seed("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", 0)
    error = rejects(view, verified, b"", "NotImplemented")
    assert error.http_status == 501
    assert error.extra == {"Header": "x-amz-content-sha256"}


# --- what real boto3 clients send ---------------------------------------------------------------------------


class _EmptyBody:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""


def captured(
    operation: str, *, https: bool = False, config: Config | None = None, **params: Any
) -> tuple[HttpRequestView, bytes]:
    """The request a real boto3 S3 client prepares for an operation, stopped just before it would be sent."""
    client = SESSION.client(
        "s3",
        endpoint_url=f"{'https' if https else 'http'}://{ENDPOINT}",
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        config=config,
    )
    seen: list[AWSPreparedRequest] = []

    def intercept(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        seen.append(request)
        return AWSResponse(request.url, 200, {}, _EmptyBody())

    client.meta.events.register("before-send.s3", intercept)
    with botocore_time():
        getattr(client, operation)(**params)
    request = seen[0]
    return view_of(request), body_bytes(request.body)


BODY = b"The quick brown fox jumps over the lazy dog, again and again. " * 300
PUT = {"Bucket": "bucket", "Key": "dir/a b+c.txt", "Body": BODY}
PART = {"Bucket": "bucket", "Key": "big.bin", "UploadId": "upload-1", "PartNumber": 3, "Body": BODY}


def flip(body: bytes) -> bytes:
    index = body.index(b"lazy")
    return body[:index] + b"LAZY" + body[index + 4 :]


@pytest.mark.parametrize(("operation", "params"), [("put_object", PUT), ("upload_part", PART)])
def test_over_http_botocore_signs_the_payload_and_sends_a_crc32_header(operation: str, params: dict[str, Any]) -> None:
    view, body = captured(operation, **params)
    assert view.header("x-amz-content-sha256") == sha256_hex(BODY)
    assert view.header("x-amz-checksum-crc32") == crc32(BODY)
    verified = verify_s3(view, secret_for, clock())
    reader = s3_payload_reader(view, verified, io.BytesIO(body), length=len(body))
    assert reader.read(-1) == BODY
    assert reader.checksum == ("CRC32", crc32(BODY))
    error = rejects(
        view,
        verified,
        flip(body),
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    )
    assert error.extra == {
        "ClientComputedContentSHA256": sha256_hex(BODY),
        "S3ComputedContentSHA256": sha256_hex(flip(body)),
    }


def test_unsigned_payload_still_checks_the_crc32_and_content_md5() -> None:
    md5 = b64(hashlib.md5(BODY).digest())
    config = Config(s3={"payload_signing_enabled": False})
    view, body = captured("put_object", config=config, ContentMD5=md5, **PUT)
    assert view.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD"
    verified = verify_s3(view, secret_for, clock())
    assert decode(view, verified, body) == BODY
    error = rejects(
        view, verified, flip(body), "BadDigest", "The Content-MD5 you specified did not match what we received."
    )
    assert error.extra == {
        "ExpectedDigest": hashlib.md5(BODY).hexdigest(),
        "CalculatedDigest": b64(hashlib.md5(flip(body)).digest()),
    }
    without_md5 = HttpRequestView(
        view.method,
        view.raw_path,
        view.raw_query,
        [h for h in view.headers if h[0].lower() != "content-md5"],
        view.payload_hash,
    )
    rejects(
        without_md5, verified, flip(body), "BadDigest", "The CRC32 you specified did not match the calculated checksum."
    )


@pytest.mark.parametrize("algorithm", [None, "CRC32", "SHA1", "SHA256", "SHA512"])
@pytest.mark.parametrize(("operation", "params"), [("put_object", PUT), ("upload_part", PART)])
def test_over_https_botocore_streams_aws_chunked_with_a_trailing_checksum(
    operation: str, params: dict[str, Any], algorithm: str | None
) -> None:
    extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    view, body = captured(operation, https=True, **params, **extra)
    name = (algorithm or "CRC32").lower()
    assert view.header("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert view.header("x-amz-trailer") == f"x-amz-checksum-{name}"
    assert body.endswith(b"\r\n\r\n") and f"x-amz-checksum-{name}:".encode() in body
    verified = verify_s3(view, secret_for, clock())
    reader = s3_payload_reader(view, verified, io.BytesIO(body), length=len(body))
    assert reader.read(-1) == BODY
    hasher = new_hasher(algorithm or "CRC32")
    hasher.update(BODY)
    assert reader.checksum == (algorithm or "CRC32", b64(hasher.digest()))
    rejects(
        view,
        verified,
        flip(body),
        "BadDigest",
        f"The {algorithm or 'CRC32'} you specified did not match the calculated checksum.",
    )


def test_botocore_chunked_wrapper_bodies_decode_with_small_reads() -> None:
    data = bytes(range(251)) * 4000  # ~1 MiB: several of botocore's chunks
    for checksum_cls, header in [
        (botocore.httpchecksum.Crc32Checksum, "x-amz-checksum-crc32"),
        (botocore.httpchecksum.Sha256Checksum, "x-amz-checksum-sha256"),
    ]:
        wrapper = botocore.httpchecksum.AwsChunkedWrapper(
            io.BytesIO(data), checksum_cls=checksum_cls, checksum_name=header, chunk_size=300_000
        )
        encoded = wrapper.read()
        claims = parse_claims([("x-amz-trailer", header)], content_sha256=None)
        reader = chunked_reader(io.BytesIO(encoded), decoded_length=len(data), claims=claims)
        assert read_all(reader, 4093) == data


# --- framing and trailers as S3 reads them ------------------------------------------------------------------


def unsigned_view(*headers: tuple[str, str]) -> tuple[HttpRequestView, VerifiedRequest]:
    return seed("STREAMING-UNSIGNED-PAYLOAD-TRAILER", len(PAYLOAD), **dict(headers))


TRAILER = ("x-amz-trailer", "x-amz-checksum-crc32")
GOOD_TRAILER = f"x-amz-checksum-crc32: {crc32(PAYLOAD)}\r\n".encode()


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ((), encode_unsigned(CHUNKS)),
        ((), encode_unsigned(CHUNKS)[:-2]),  # the final CRLF may be missing
        ((("x-amz-checksum-crc32", crc32(PAYLOAD)),), encode_unsigned(CHUNKS)),
        ((TRAILER,), encode_unsigned(CHUNKS)[:-2] + GOOD_TRAILER),
        ((TRAILER,), encode_unsigned(CHUNKS)[:-2] + GOOD_TRAILER + b"\r\n\xff\xfe junk after the end"),
        ((TRAILER,), encode_unsigned(CHUNKS)[:-2] + f"x-amz-checksum-crc32:{crc32(b'x')}\r\n".encode() + GOOD_TRAILER),
        ((("x-amz-trailer", "x-amz-checksum-crc32, "),), encode_unsigned(CHUNKS)[:-2] + GOOD_TRAILER),
        ((), b"4000;ext=1\r\n" + CHUNKS[0] + b"\r\n" + encode_unsigned(CHUNKS[1:])),
    ],
    ids=[
        "plain",
        "no-final-crlf",
        "header-checksum",
        "trailer",
        "junk-after",
        "last-trailer-wins",
        "trailing-comma",
        "extension",
    ],
)
def test_unsigned_stream_accepted(headers: tuple[tuple[str, str], ...], body: bytes) -> None:
    view, verified = unsigned_view(*headers)
    assert decode(view, verified, body) == PAYLOAD


@pytest.mark.parametrize(
    ("headers", "body", "code", "message"),
    [
        ((TRAILER,), encode_unsigned(CHUNKS), "MalformedTrailerError", None),
        ((TRAILER,), encode_unsigned(CHUNKS)[:-2] + b"\r\n" + GOOD_TRAILER, "MalformedTrailerError", None),
        (
            (TRAILER,),
            encode_unsigned(CHUNKS)[:-2] + GOOD_TRAILER + b"bonus: trailer\r\n",
            "MalformedTrailerError",
            None,
        ),
        (
            (("x-amz-trailer", "x-amz-checksum-crc32c"),),
            encode_unsigned(CHUNKS)[:-2] + GOOD_TRAILER,
            "MalformedTrailerError",
            None,
        ),
        (
            (TRAILER,),
            encode_unsigned(CHUNKS)[:-2] + b"x-amz-checksum-crc32: not-base-64\r\n",
            "InvalidRequest",
            "Value for x-amz-checksum-crc32 trailing header is invalid.",
        ),
        (
            (TRAILER,),
            encode_unsigned(CHUNKS)[:-2] + f"x-amz-checksum-crc32: {crc32(b'x')}\r\n".encode(),
            "BadDigest",
            "The CRC32 you specified did not match the calculated checksum.",
        ),
        ((TRAILER,), encode_unsigned(CHUNKS)[:-2] + GOOD_TRAILER[:-2], "IncompleteBody", None),
        ((), encode_unsigned(CHUNKS).replace(b"\r\n", b"\n"), "IncompleteBody", None),
        ((), b"f" * 5000 + b"\r\n", "IncompleteBody", None),
        ((), encode_unsigned([PAYLOAD[:4], b"", PAYLOAD[4:]]), "IncompleteBody", None),
        ((), encode_unsigned([PAYLOAD * 2]), "IncompleteBody", None),
        ((), PAYLOAD, "IncompleteBody", "The request body terminated unexpectedly"),
        (
            (("x-amz-trailer", ", x-amz-checksum-crc32"),),
            b"",
            "InvalidRequest",
            "The value specified in the x-amz-trailer header is not supported",
        ),
        (
            (("x-amz-trailer", "x-amz-checksum-crc32, x-amz-checksum-sha256"),),
            b"",
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ),
        (
            (TRAILER, ("x-amz-checksum-crc32", crc32(PAYLOAD))),
            b"",
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header",
        ),
        (
            (("x-amz-trailer", "x-amz-content-sha256"),),
            b"",
            "InvalidRequest",
            "The value specified in the x-amz-trailer header is not supported",
        ),
    ],
    ids=[
        "declared-not-sent",
        "blank-line-before",
        "undeclared-extra",
        "other-algorithm",
        "invalid-value",
        "mismatch",
        "trailer-without-crlf",
        "bare-lf",
        "overlong-line",
        "zero-chunk-early",
        "too-many-bytes",
        "not-encoded",
        "leading-comma",
        "two-trailers",
        "header-and-trailer",
        "non-checksum-trailer",
    ],
)
def test_unsigned_stream_rejected(
    headers: tuple[tuple[str, str], ...], body: bytes, code: str, message: str | None
) -> None:
    view, verified = unsigned_view(*headers)
    rejects(view, verified, body, code, message)


def test_count_mismatches_name_both_counts() -> None:
    view, verified = unsigned_view()
    assert rejects(view, verified, encode_unsigned([PAYLOAD[:4], b"", PAYLOAD[4:]]), "IncompleteBody").extra == {
        "NumberBytesExpected": str(len(PAYLOAD)),
        "NumberBytesProvided": "4",
    }


# --- claims on plain bodies --------------------------------------------------------------------------------


def plain_view(method: str = "PUT", query: str = "", *headers: tuple[str, str]) -> HttpRequestView:
    return HttpRequestView(method, "/bucket/key", query, [("Host", ENDPOINT), *headers], "UNSIGNED-PAYLOAD")


@pytest.mark.parametrize(
    ("headers", "code", "message"),
    [
        (
            (("x-amz-checksum-crc32", "y/Q5Jh=="),),
            "InvalidRequest",
            "Value for x-amz-checksum-crc32 header is invalid.",
        ),
        (
            (("x-amz-checksum-crc32", "short==="),),
            "InvalidRequest",
            "Value for x-amz-checksum-crc32 header is invalid.",
        ),
        (
            (("x-amz-checksum-sha256", crc32(b"")),),
            "InvalidRequest",
            "Value for x-amz-checksum-sha256 header is invalid.",
        ),
        (
            (("x-amz-checksum-bad", "y/Q5Jg=="),),
            "InvalidRequest",
            "The algorithm type you specified in x-amz-checksum- header is invalid.",
        ),
        (
            (("x-amz-checksum-crc32", "y/Q5Jg=="), ("x-amz-checksum-sha1", "98O8HYCOBHMq32eZZczDTKeuNEE=")),
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ),
        (
            (("x-amz-sdk-checksum-algorithm", "CRC32C"), ("x-amz-checksum-crc32", "y/Q5Jg==")),
            "InvalidRequest",
            "Value for x-amz-sdk-checksum-algorithm header is invalid.",
        ),
        (
            (("x-amz-sdk-checksum-algorithm", "CRC32"),),
            "InvalidRequest",
            "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
        ),
        (
            (("x-amz-checksum-xxhash64", "AAAAAAAAAAA="),),
            "NotImplemented",
            "A header you provided implies functionality that is not implemented.",
        ),
        ((("Content-MD5", "invalid"),), "InvalidDigest", "The Content-MD5 you specified was invalid."),
        ((("x-amz-trailer", "x-amz-checksum-crc32"),), "MalformedTrailerError", None),
    ],
)
def test_malformed_claims_fail_before_the_body_is_read(
    headers: tuple[tuple[str, str], ...], code: str, message: str | None
) -> None:
    untouched = io.BytesIO(b"123456789")
    with pytest.raises(AwsError) as raised:
        s3_payload_reader(plain_view("PUT", "", *headers), None, untouched, length=9)
    assert (raised.value.code, raised.value.message if message else None) == (code, message)
    assert untouched.tell() == 0


KNOWN = {  # checksums of b"123456789"
    "CRC32": "y/Q5Jg==",
    "CRC32C": "4waSgw==",
    "CRC64NVME": "rosUhgp5mIg=",
    "SHA1": "98O8HYCOBHMq32eZZczDTKeuNEE=",
    "SHA256": "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=",
    "SHA512": b64(hashlib.sha512(b"123456789").digest()),
    "MD5": b64(hashlib.md5(b"123456789").digest()),
}


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_every_algorithm_checks_a_header_value(algorithm: str) -> None:
    header = (f"x-amz-checksum-{algorithm.lower()}", KNOWN[algorithm])
    reader = s3_payload_reader(plain_view("PUT", "", header), None, io.BytesIO(b"123456789"), length=9)
    assert reader.read(-1) == b"123456789"
    assert reader.checksum == (algorithm, KNOWN[algorithm])
    rejects(
        plain_view("PUT", "", header),
        None,
        b"123456780",
        "BadDigest",
        f"The {algorithm} you specified did not match the calculated checksum.",
    )


@pytest.mark.parametrize("algorithm", ["CRC32C", "CRC64NVME"])
def test_table_driven_crcs_agree_across_split_points(algorithm: str) -> None:
    data = bytes((index * 7 + 3) % 256 for index in range(1000))
    whole = new_hasher(algorithm)
    whole.update(data)
    for cut in (0, 1, 7, 8, 9, 500, 999):
        pieces = new_hasher(algorithm)
        pieces.update(data[:cut])
        pieces.update(data[cut:])
        assert pieces.digest() == whole.digest()
    reference = new_hasher(algorithm)
    for byte in data:  # one byte at a time takes only the byte-wise path
        reference.update(bytes([byte]))
    assert reference.digest() == whole.digest()


def test_sha256_literals_are_compared_for_presigned_and_anonymous_writes_only() -> None:
    body = b"payload"
    literal = ("x-amz-content-sha256", sha256_hex(body).upper())
    assert decode(plain_view("PUT", "", literal), None, body) == body  # hex compares case-insensitively
    for value in ("invalid", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "unsigned-payload", EMPTY):
        error = rejects(plain_view("PUT", "", ("x-amz-content-sha256", value)), None, body, "XAmzContentSHA256Mismatch")
        assert error.extra == {"ClientComputedContentSHA256": value, "S3ComputedContentSHA256": sha256_hex(body)}
    assert decode(plain_view("GET", "", ("x-amz-content-sha256", "invalid")), None, b"") == b""
    assert decode(plain_view("HEAD", "", ("Content-MD5", b64(hashlib.md5(body).digest()))), None, b"") == b""


def test_complete_multipart_upload_checksum_headers_describe_the_object() -> None:
    body = b"<CompleteMultipartUpload/>"
    header = ("x-amz-checksum-crc32", crc32(b"the whole object"))
    assert decode(plain_view("POST", "uploadId=abc", header), None, body) == body
    rejects(plain_view("POST", "delete", header), None, body, "BadDigest")


def test_checksum_mode_and_algorithm_headers_are_not_checksums() -> None:
    claims = parse_claims(
        [
            ("x-amz-checksum-mode", "ENABLED"),
            ("x-amz-checksum-algorithm", "CRC32"),
            ("x-amz-checksum-type", "COMPOSITE"),
        ],
        content_sha256=None,
    )
    assert claims == PayloadClaims()
    assert parse_claims([("X-Amz-Checksum-CRC32", "y/Q5Jg==")], content_sha256=None).checksum == ChecksumClaim(
        "CRC32", base64.b64decode("y/Q5Jg==")
    )


def test_a_short_plain_body_is_incomplete() -> None:
    reader = s3_payload_reader(plain_view(), None, io.BytesIO(b"12345"), length=9)
    with pytest.raises(AwsError) as raised:
        reader.read(-1)
    assert raised.value.code == "IncompleteBody"
    assert raised.value.extra == {"NumberBytesExpected": "9", "NumberBytesProvided": "5"}


# --- helpers for the glue -------------------------------------------------------------------------------------


def test_strip_aws_chunked() -> None:
    assert strip_aws_chunked("aws-chunked") is None
    assert strip_aws_chunked("gzip, aws-chunked") == "gzip"
    assert strip_aws_chunked("foo, aws-chunked, bar") == "foo, bar"
    assert strip_aws_chunked("AWS-Chunked,gzip") == "gzip"
    assert strip_aws_chunked(None) is None


def test_sha256_file_reads_from_the_current_position() -> None:
    source = io.BytesIO(b"skip" + BODY)
    source.seek(4)
    assert sha256_file(source, chunk_size=1000) == sha256_hex(BODY)


# --- bounded memory -------------------------------------------------------------------------------------------


class LazyStream:
    """A binary source produced on demand: the encoded body never exists whole."""

    def __init__(self, parts: Iterator[bytes]) -> None:
        self._parts = parts
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while len(self._buffer) < size and (part := next(self._parts, None)) is not None:
            self._buffer += part
        taken, self._buffer = self._buffer[:size], self._buffer[size:]
        return taken


def lazy_signed_stream(count: int, size: int, seed_value: str) -> Iterator[bytes]:
    previous, crc = seed_value, 0
    for index in range(count):
        data = bytes([index % 251]) * size
        crc = zlib.crc32(data, crc)
        previous = link(KEY, "AWS4-HMAC-SHA256-PAYLOAD", DATE, SCOPE, previous, EMPTY, sha256_hex(data))
        yield f"{size:x};chunk-signature={previous}\r\n".encode() + data + b"\r\n"
    previous = link(KEY, "AWS4-HMAC-SHA256-PAYLOAD", DATE, SCOPE, previous, EMPTY, EMPTY)
    canonical = f"x-amz-checksum-crc32:{b64(crc.to_bytes(4, 'big'))}\n"
    signature = link(KEY, "AWS4-HMAC-SHA256-TRAILER", DATE, SCOPE, previous, sha256_hex(canonical.encode()))
    yield f"0;chunk-signature={previous}\r\n".encode() + canonical.replace("\n", "\r\n").encode()
    yield f"x-amz-trailer-signature:{signature}\r\n\r\n".encode()


def test_a_64_mib_signed_stream_decodes_in_bounded_memory() -> None:
    count, size = 1024, 64 * 1024
    view, verified = seed(TRAILED, count * size, **{"x-amz-trailer": "x-amz-checksum-crc32"})
    expected = hashlib.sha256()
    for index in range(count):
        expected.update(bytes([index % 251]) * size)
    source = cast(BinaryIO, LazyStream(lazy_signed_stream(count, size, seed_signature(view))))
    tracemalloc.start()
    try:
        reader = s3_payload_reader(view, verified, source, length=0)
        received, digest = 0, hashlib.sha256()
        while block := reader.read(size):
            received += len(block)
            digest.update(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == count * size
    assert digest.hexdigest() == expected.hexdigest()
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes while decoding {count * size} bytes"
