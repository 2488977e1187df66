"""The shortcuts of an S3 request's hot path give exactly what the general code gives.

Each is checked against the computation it stands for, cold and warm: the view and records built through a plain
class of the same layout, the memos kept per tuple of header names, the parsed Authorization head, the hex check
of x-amz-content-sha256, one hasher per algorithm for a body, unsigned streams left unhashed, and the shared
reader of a body-less read. Signatures are still recomputed on every request (see test_parse_caches).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import importlib
import io
import pickle
import re
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rolegate.errors import AwsError
from rolegate.sigv4 import ChunkSigner, HttpRequestView, chunked_reader, s3_payload_reader
from rolegate.sigv4.canonical import KeyedSha256, query_pairs, signing_hmac, signing_key
from rolegate.sigv4.checksums import (
    CHECKSUM_PREFIX,
    NOT_CHECKSUM_VALUES,
    BodyDigests,
    PayloadClaims,
    VerifiedBody,
    _checksum_names,
    b64,
    claims_by_name,
    new_hasher,
)
from rolegate.sigv4.verify import (
    SECURITY_TOKEN_HEADER,
    NamesMemo,
    _amz_names,
    _auth_params,
    _check_content_sha256,
    _is_hex,
    _known_head,
    _new_signer,
    _read_credential,
    _split_signed_headers,
    parse_credentials,
)

verify_module: Any = importlib.import_module("rolegate.sigv4.verify")  # the package exports a function of that name
SETTINGS = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def outcome(call: Callable[[], object]) -> object:
    """The value of `call()`, or the AWS error it raises as (code, message, extra fields)."""
    try:
        return call()
    except AwsError as error:
        return (type(error).__name__, error.message, error.extra)


# --- the view and the signer -----------------------------------------------------------------------------------


def test_the_view_is_an_ordinary_frozen_view() -> None:
    headers = [("Host", "h"), (" X-Amz-Meta-A ", " 1 "), ("x-amz-meta-a", "2")]
    view = HttpRequestView("GET", "/a", "b=2&a", headers, "hash")
    assert type(view) is HttpRequestView
    assert (view.method, view.raw_path, view.raw_query, view.headers, view.payload_hash) == (
        "GET",
        "/a",
        "b=2&a",
        headers,
        "hash",
    )
    assert view.query_pairs() == tuple(query_pairs("b=2&a")) and view.header("x-amz-meta-a") == "1"
    assert repr(view) == (
        "HttpRequestView(method='GET', raw_path='/a', raw_query='b=2&a', headers="
        + repr(headers)
        + ", payload_hash='hash')"
    )
    assert view == HttpRequestView("GET", "/a", "b=2&a", list(headers), "hash")
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.method = "PUT"  # type: ignore[misc]


@pytest.mark.parametrize(
    "clone",
    [copy.copy, copy.deepcopy, lambda view: pickle.loads(pickle.dumps(view))],
    ids=["copy", "deepcopy", "pickle"],
)
def test_copies_of_a_view_are_built_by_the_constructor(clone: Callable[[HttpRequestView], HttpRequestView]) -> None:
    view = HttpRequestView("PUT", "/k", "x=1", [("Host", "h"), ("X-A", "v")], "p")
    copied = clone(view)
    assert copied == view and type(copied) is HttpRequestView
    assert copied.headers_by_name() == view.headers_by_name() and copied.query_pairs() == view.query_pairs()


def test_replace_recomputes_what_the_view_derives() -> None:
    view = HttpRequestView("GET", "/", "a=1", [("Host", "h")], "")
    changed = dataclasses.replace(view, raw_query="b=2", headers=[("X-New", "n")])
    assert changed.query_pairs() == (("b", "2"),) and changed.header("x-new") == "n" and changed.header("host") is None


def test_a_prepared_signer_is_the_constructed_one() -> None:
    mac = signing_hmac(SECRET, "20150830", "us-east-1", "s3")
    built = _new_signer(mac, "AKID", "20150830T123600Z", "20150830/us-east-1/s3/aws4_request")
    expected = ChunkSigner(mac, access_key_id="AKID", request_date="20150830T123600Z", scope=built.scope)
    assert type(built) is ChunkSigner and repr(built) == repr(expected)
    assert (built.access_key_id, built.request_date, built.scope) == (
        expected.access_key_id,
        expected.request_date,
        expected.scope,
    )
    to_sign = built.string_to_sign("AWS4-HMAC-SHA256-PAYLOAD", "seed", "a", "b")
    assert to_sign == expected.string_to_sign("AWS4-HMAC-SHA256-PAYLOAD", "seed", "a", "b")
    assert (
        built.sign(to_sign)
        == expected.sign(to_sign)
        == KeyedSha256(signing_key(SECRET, "20150830", "us-east-1", "s3")).sign(to_sign)
    )


# --- memos per tuple of header names ---------------------------------------------------------------------------


def test_names_memo_gives_the_function_value_cold_and_warm() -> None:
    calls: list[tuple[str, ...]] = []

    def compute(names: tuple[str, ...]) -> int | None:
        calls.append(names)
        return None if "none" in names else len(names)

    memo = NamesMemo(compute, entries=4)
    for names in [("a", "b"), ("none",), ("a", "b"), ("none",), ("a",)]:
        assert memo(names) == compute(names)
    calls.clear()
    assert memo(("a", "b")) == 2 and memo(("none",)) is None  # a None result is remembered like any other
    assert calls == []


def test_names_memo_is_bounded_in_entries_and_key_size() -> None:
    memo = NamesMemo(len, entries=3)
    for index in range(10):
        assert memo((str(index),)) == 1
        assert len(memo._memo) <= 3
    many = tuple(f"n{index}" for index in range(65))
    long = ("x" * 2049,)
    assert memo(many) == 65 and memo(long) == 1
    assert many not in memo._memo and long not in memo._memo


HEADER_NAME = st.sampled_from(
    [
        "host",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-meta-a",
        "X-Amz-Meta-B",
        " x-amz-acl ",
        SECURITY_TOKEN_HEADER,
        "x-amz-checksum-crc32",
        "x-amz-checksum-sha256",
        "x-amz-checksum-algorithm",
        "x-amz-checksum-mode",
        "x-amz-checksum-type",
        "content-md5",
        "user-agent",
        "x-amz-",
        "x-amz-checksum-",
    ]
)


@SETTINGS
@given(st.lists(HEADER_NAME, max_size=8), st.lists(HEADER_NAME, max_size=6))
def test_unsigned_amz_headers_match_the_plain_rule(names: list[str], signed: list[str]) -> None:
    view = HttpRequestView("GET", "/", "", [(name, "v") for name in names], "")
    present = view.headers_by_name().keys()
    lowered = frozenset(map(str.lower, signed))
    expected = sorted(n for n in present - lowered if n.startswith("x-amz-") and n != SECURITY_TOKEN_HEADER)
    for _ in range(2):
        assert sorted(_amz_names(tuple(view.headers_by_name())) - lowered) == expected


@SETTINGS
@given(st.lists(HEADER_NAME, max_size=8))
def test_checksum_header_names_match_the_plain_rule(names: list[str]) -> None:
    grouped = HttpRequestView("PUT", "/", "", [(name, "v") for name in names], "").headers_by_name()
    expected = tuple(n for n in grouped if n.startswith(CHECKSUM_PREFIX) and n not in NOT_CHECKSUM_VALUES)
    assert _checksum_names(tuple(grouped)) == expected == _checksum_names(tuple(grouped))


# --- the Authorization head ------------------------------------------------------------------------------------

CREDENTIAL = "AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request"
AUTH_REST = st.lists(
    st.sampled_from(
        [
            f"Credential={CREDENTIAL}",
            "Credential=a/b",
            "SignedHeaders=host;x-amz-date",
            "SignedHeaders=",
            "Signature=ab12",
            "Signature=",
            "Signature= cd ",
            "Other=1",
            "",
            " ",
        ]
    ),
    max_size=5,
).map(", ".join)


USUAL_HEAD = f"Credential={CREDENTIAL}, SignedHeaders=host;x-amz-date"


@SETTINGS
@given(AUTH_REST)
@example(f"{USUAL_HEAD}, Signature=ab12, Signature= cd ")  # the head's own signature comes first
@example(f"{USUAL_HEAD}, Signature=, Signature=cd")
@example(f"{USUAL_HEAD}, Signature=ab12, Signature=")
def test_known_head_is_what_the_general_parse_finds(rest: str) -> None:
    params = _auth_params(rest)
    complete = {"Credential", "SignedHeaders", "Signature"} <= params.keys()
    credential = _read_credential(params["Credential"]) if "Credential" in params else None
    for _ in range(2):
        known = _known_head(rest)
        if known is None:
            continue  # the general path decides; the fast path may always decline
        assert complete and credential is not None
        assert known == (credential, _split_signed_headers(params["SignedHeaders"]), params["Signature"])


def test_known_head_takes_the_usual_header() -> None:
    known = _known_head(f"{USUAL_HEAD}, Signature=ab12")
    assert known is not None and known[0][0] == "AKIDEXAMPLE" and known[1:] == (("host", "x-amz-date"), "ab12")


@SETTINGS
@given(AUTH_REST, st.sampled_from(["AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"]), st.booleans(), st.booleans())
@example(f"{USUAL_HEAD}, Signature=ab12, Signature=cd", "AWS4-HMAC-SHA256", True, True)
@example("Credential=a/b, SignedHeaders=host, Signature=ab12", "AWS4-HMAC-SHA256", True, False)
def test_parsed_credentials_do_not_depend_on_the_fast_path(rest: str, scheme: str, dated: bool, s3: bool) -> None:
    headers = [("Host", "h"), ("Authorization", f"{scheme} {rest}")]
    if dated:
        headers.append(("X-Amz-Date", "20150830T123600Z"))
    view = HttpRequestView("GET", "/", "", headers, "")

    def parsed() -> object:
        creds = parse_credentials(view, s3=s3)
        return None if creds is None else [getattr(creds, item.name) for item in dataclasses.fields(creds)]

    fast = outcome(parsed)
    known_head = verify_module._known_head
    verify_module._known_head = lambda rest: None
    try:
        general = outcome(parsed)
    finally:
        verify_module._known_head = known_head
    assert fast == general


# --- x-amz-content-sha256 --------------------------------------------------------------------------------------

_HEX = re.compile(r"[0-9a-fA-F]*")


@pytest.mark.parametrize(
    "value",
    [
        "0" * 64,
        "aF" * 32,
        "0x" + "0" * 62,
        "_" * 64,
        "\u0660" * 64,
        "０" * 64,
        " " + "a" * 63,
        "+" + "a" * 63,
        "ab",
        "",
    ],
)
def test_hex_check_takes_ascii_hex_digits_only(value: str) -> None:
    assert _is_hex(value) == (len(value) % 2 == 0 and bool(_HEX.fullmatch(value)))
    assert (outcome(lambda: _check_content_sha256(value)) is None) == (len(value) == 64 and _is_hex(value))


# --- one hasher per algorithm ----------------------------------------------------------------------------------


def reference_verify(claims: PayloadClaims, body: bytes) -> object:
    """BodyDigests.verify's rule with a separate hasher per claim."""
    if claims.content_sha256 is not None and hashlib.sha256(body).hexdigest() != claims.content_sha256.lower():
        return "XAmzContentSHA256Mismatch"
    if claims.content_md5 is not None and hashlib.md5(body).digest() != claims.content_md5:
        return "BadDigest"
    if claims.checksum is not None:
        hasher = new_hasher(claims.checksum.algorithm)
        hasher.update(body)
        if hasher.digest() != claims.checksum.expected:
            return "BadDigest"
        return (claims.checksum.algorithm, b64(hasher.digest()))
    return None


BODY = b"x" * 1500
SHA256_HEX = hashlib.sha256(BODY).hexdigest()


@pytest.mark.parametrize(
    "headers",
    [
        [("x-amz-checksum-sha256", b64(hashlib.sha256(BODY).digest()))],
        [("x-amz-checksum-sha256", b64(hashlib.sha256(b"other").digest()))],
        [("x-amz-checksum-md5", b64(hashlib.md5(BODY).digest())), ("content-md5", b64(hashlib.md5(BODY).digest()))],
        [("x-amz-checksum-md5", b64(hashlib.md5(b"no").digest())), ("content-md5", b64(hashlib.md5(BODY).digest()))],
        [("x-amz-checksum-crc32", b64(zlib.crc32(BODY).to_bytes(4, "big")))],
    ],
)
@pytest.mark.parametrize("content_sha256", [SHA256_HEX, SHA256_HEX.upper(), "0" * 64, None])
def test_each_algorithm_hashes_the_body_once(headers: list[tuple[str, str]], content_sha256: str | None) -> None:
    claims = claims_by_name(
        HttpRequestView("PUT", "/", "", headers, "").headers_by_name(), content_sha256=content_sha256
    )
    digests = BodyDigests(claims)
    algorithms = [
        name
        for name, present in (
            ("SHA256", claims.content_sha256 is not None or claims.checksum.algorithm == "SHA256"),  # type: ignore[union-attr]
            ("MD5", claims.content_md5 is not None or claims.checksum.algorithm == "MD5"),  # type: ignore[union-attr]
            ("CRC32", claims.checksum.algorithm == "CRC32"),  # type: ignore[union-attr]
        )
        if present
    ]
    assert len(digests._hashers) == len(algorithms)  # a second hasher of one algorithm would hash every byte twice
    for start in range(0, len(BODY), 700):
        digests.update(BODY[start : start + 700])
    result = outcome(digests.verify)
    expected = reference_verify(claims, BODY)
    if isinstance(expected, str):
        assert isinstance(result, tuple) and result[0] == expected
    else:
        assert result is None and digests.checksum == expected


# --- streams and body-less reads -------------------------------------------------------------------------------


def unsigned_stream(data: bytes, size: int) -> bytes:
    chunks = [data[start : start + size] for start in range(0, len(data), size)]
    return b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for chunk in chunks) + b"0\r\n\r\n"


def test_an_unsigned_stream_is_decoded_without_hashing_its_chunks() -> None:
    data = bytes(range(256)) * 70
    reader = chunked_reader(io.BytesIO(unsigned_stream(data, 9000)), decoded_length=len(data))
    received = b"".join(iter(lambda: reader.read(5000), b""))
    assert received == data and reader._chunk_hash is None


def test_a_signed_stream_still_hashes_each_chunk() -> None:
    key = signing_key(SECRET, "20150830", "us-east-1", "s3")
    signer = ChunkSigner(key, access_key_id="AKID", request_date="20150830T123600Z", scope="s")
    body = b"400;chunk-signature=" + b"0" * 64 + b"\r\n" + b"a" * 1024 + b"\r\n"
    reader = chunked_reader(io.BytesIO(body), decoded_length=1024, signer=signer, seed_signature="seed")
    failure = outcome(lambda: reader.read(4096))
    assert isinstance(failure, tuple) and failure[0] == "SignatureDoesNotMatch"
    assert reader._chunk_hash is not None


def body_facts(reader: Any) -> tuple[object, ...]:
    reads = [reader.read(size) for size in (0, 1, 65536, -1)]
    return reader.decoded_length, reads, reader.read(), reader.checksum


@pytest.mark.parametrize("method", ["GET", "HEAD", "get"])
def test_a_body_less_read_gets_the_empty_reader(method: str) -> None:
    view = HttpRequestView(method, "/b/k", "", [("Host", "h"), ("x-amz-checksum-crc32", "bad")], "")
    empty = s3_payload_reader(view, None, io.BytesIO(b"ignored"), length=0)
    assert body_facts(empty) == body_facts(VerifiedBody(io.BytesIO(b""), PayloadClaims(), 0))
    assert s3_payload_reader(view, None, io.BytesIO(b""), length=0) is empty  # stateless, so shared
    with pytest.raises(AttributeError):
        empty.decoded_length = 5
    with_body = s3_payload_reader(view, None, io.BytesIO(b"abc"), length=3)
    assert body_facts(with_body) == (3, [b"", b"a", b"bc", b""], b"", None)
