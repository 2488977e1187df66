"""The parsing caches and string shortcuts of S3 authentication give exactly what the plain computation gives.

Each cached or rewritten step (Authorization parameters, credential, SignedHeaders, x-amz-date, header-name
grouping, the hex SHA-256 check, base64 digests, checksum header names, the claim records) is compared with a
reference written the straightforward way, cold and warm, and a signature is still checked on every request.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegate.clock import FixedClock
from rolegate.errors import AwsError
from rolegate.sigv4 import HttpRequestView, verify_s3
from rolegate.sigv4.canonical import authorization_header, credential_scope, signature, signing_key
from rolegate.sigv4.checksums import (
    ALGORITHMS,
    CHECKSUM_PREFIX,
    NOT_IMPLEMENTED,
    ChecksumClaim,
    PayloadClaims,
    S3NotImplemented,
    _new_checksum_claim,
    _new_claims,
    algorithm_of,
    decode_digest,
)
from rolegate.sigv4.verify import (
    _CACHEABLE_LENGTH,
    _HEADER_NAMES,
    _HEADER_NAMES_MAX,
    _auth_params,
    _check_content_sha256,
    _credential_parts,
    _group_headers,
    _parse_amz_date,
    _parse_credential,
    _read_auth_params,
    _signed_names,
    _split_signed_headers,
)

SETTINGS = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
ACCESS_KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)


def outcome(call: object) -> object:
    """The value of `call()`, or the AWS error it raises as (code, message, extra fields)."""
    try:
        return call()  # type: ignore[operator]
    except AwsError as error:
        return (type(error).__name__, error.message, error.extra)


# --- Authorization header parameters --------------------------------------------------------------------------

AUTH_PIECES = st.lists(
    st.sampled_from(
        [", Signature=", ",", "=", " ", "  ", "Credential", "SignedHeaders", "Signature", "a", "ff", "/", ";", "\t"]
    ),
    max_size=14,
).map("".join)


@SETTINGS
@given(AUTH_PIECES)
def test_auth_params_match_the_general_rule_cold_and_warm(rest: str) -> None:
    expected = _read_auth_params(rest)
    assert _auth_params(rest) == expected
    assert _auth_params(rest) == expected


def test_auth_params_are_a_fresh_dict_each_time() -> None:
    rest = "Credential=a/b, SignedHeaders=host, Signature=ff"
    first = _auth_params(rest)
    first["Credential"] = "changed"
    assert _auth_params(rest) == {"Credential": "a/b", "SignedHeaders": "host", "Signature": "ff"}


def test_long_auth_params_bypass_the_cache() -> None:
    rest = f"Credential={'k' * (_CACHEABLE_LENGTH + 1)}, SignedHeaders=host, Signature=ff"
    assert _auth_params(rest) == _read_auth_params(rest)


# --- credential, SignedHeaders, x-amz-date ---------------------------------------------------------------------


@SETTINGS
@given(st.text(alphabet="ab/1 é", max_size=12), st.booleans(), st.booleans())
def test_parse_credential_cold_and_warm(text: str, s3: bool, presigned: bool) -> None:
    def parsed() -> object:
        access_key_id, scope = _parse_credential(text, s3=s3, presigned=presigned)
        return access_key_id, dataclasses.astuple(scope)

    _credential_parts.cache_clear()
    cold = outcome(parsed)
    assert outcome(parsed) == cold
    parts = text.split("/")
    if len(parts) == 5:
        assert cold == (parts[0], tuple(parts[1:]))
    else:
        codes = {(True, True): "AuthorizationQueryParametersError", (True, False): "AuthorizationHeaderMalformed"}
        assert isinstance(cold, tuple) and cold[0] == codes.get((s3, presigned), "IncompleteSignature")


def test_credential_errors_name_the_mechanism() -> None:
    query = outcome(lambda: _parse_credential("a/b", s3=True, presigned=True))
    header = outcome(lambda: _parse_credential("a/b", s3=True, presigned=False))
    assert isinstance(query, tuple) and query[0] == "AuthorizationQueryParametersError"
    assert isinstance(header, tuple) and header[0] == "AuthorizationHeaderMalformed"
    long_text = "a/" * _CACHEABLE_LENGTH
    assert outcome(lambda: _parse_credential(long_text, s3=False, presigned=False)) == (
        "IncompleteSignature",
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
        f"got '{long_text}'",
        {},
    )


SIGNED_TEXT = st.lists(st.sampled_from(["host", "Host", " x-amz-date", "X-Amz-Date ", "", "a", ";", " "]), max_size=8)


@SETTINGS
@given(SIGNED_TEXT.map("".join))
def test_signed_headers_split_and_derived_names(text: str) -> None:
    split = _split_signed_headers(text)
    assert split == tuple(filter(None, text.split(";"))) == _split_signed_headers(text)
    names = _signed_names(split)
    assert names.lowered == set(map(str.lower, split))
    canonical = sorted(set(map(str.lower, map(str.strip, split))))
    assert list(names.canonical) == canonical and names.joined == ";".join(canonical)
    assert _signed_names(list(split)) == names  # any sequence, as a caller-built SignedCredentials may hold


def test_long_signed_header_lists_bypass_the_caches() -> None:
    text = ";".join(f"X-Amz-Meta-{index}" for index in range(_CACHEABLE_LENGTH))
    split = _split_signed_headers(text)
    assert split == tuple(text.split(";"))
    assert _signed_names(split).joined == ";".join(sorted(name.lower() for name in split))


_AMZ_DATE_REFERENCE = re.compile(r"[0-9]{8}T[0-9]{6}Z")


def reference_amz_date(text: str) -> datetime | None:
    if not _AMZ_DATE_REFERENCE.fullmatch(text) or text[9:11] >= "24":
        return None
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


@SETTINGS
@given(st.text(alphabet="0123456789TZ ", min_size=14, max_size=18))
def test_amz_dates_cold_and_warm(text: str) -> None:
    expected = reference_amz_date(text)
    assert _parse_amz_date(text) == expected == _parse_amz_date(text)


@pytest.mark.parametrize("text", ["20150830T123600Z", "20150830T123600Z" * 100, ""])
def test_amz_dates_of_any_length(text: str) -> None:
    assert _parse_amz_date(text) == reference_amz_date(text)


# --- header grouping -------------------------------------------------------------------------------------------


def reference_grouping(headers: list[tuple[str, str]]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for key, value in headers:
        index.setdefault(key.strip().lower(), []).append(value)
    return index


HEADER_LISTS = st.lists(
    st.tuples(
        st.sampled_from(["Host", "host", " HOST ", "x-amz-date", "X-Amz-Date", "", " ", "a\t"]), st.text(max_size=3)
    ),
    max_size=8,
)


@SETTINGS
@given(HEADER_LISTS)
def test_header_grouping_matches_the_plain_loop(headers: list[tuple[str, str]]) -> None:
    expected = reference_grouping(headers)
    for _ in range(2):
        grouped = _group_headers(headers)
        assert grouped == expected and list(grouped) == list(expected)
        assert all(type(values) is list for values in grouped.values())


def test_header_name_cache_is_bounded() -> None:
    headers = [(f"X-Amz-Meta-Bound-{index}", "v") for index in range(_HEADER_NAMES_MAX + 10)]
    headers.append(("X-" + "long" * 100, "v"))
    assert _group_headers(headers) == reference_grouping(headers)
    assert len(_HEADER_NAMES) <= _HEADER_NAMES_MAX
    assert "X-" + "long" * 100 not in _HEADER_NAMES


# --- payload claims ----------------------------------------------------------------------------------------------

_HEX_REFERENCE = re.compile(r"[0-9a-fA-F]{64}")


@SETTINGS
@given(st.text(alphabet="0123456789abcdefABCDEFgG -\n", min_size=62, max_size=66))
def test_content_sha256_check_matches_the_regex(value: str) -> None:
    result = outcome(lambda: _check_content_sha256(value))
    assert (result is None) == bool(_HEX_REFERENCE.fullmatch(value))


@pytest.mark.parametrize("value", ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "", "e3b0", "é" * 64])
def test_content_sha256_literals(value: str) -> None:
    result = outcome(lambda: _check_content_sha256(value))
    assert (result is None) == (value.startswith(("UNSIGNED", "STREAMING")) or bool(_HEX_REFERENCE.fullmatch(value)))


def reference_digest(value: str, size: int) -> bytes | None:
    text = value.strip()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != size or base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


DIGEST_TEXT = st.one_of(
    st.text(alphabet="AQgw+/=ab09 \n\té-_", max_size=14),
    st.binary(max_size=9).map(lambda raw: base64.b64encode(raw).decode()),
    st.binary(max_size=9).map(lambda raw: base64.b64encode(raw).decode().rstrip("=")),
    st.binary(max_size=9).map(lambda raw: " " + base64.urlsafe_b64encode(raw).decode() + "\n"),
)


@SETTINGS
@given(DIGEST_TEXT, st.sampled_from([0, 1, 4, 8, 16]))
def test_decode_digest_matches_strict_base64(value: str, size: int) -> None:
    assert decode_digest(value, size) == reference_digest(value, size)


@pytest.mark.parametrize(
    "value", ["y/Q5Jg==", "y/Q5Jh==", "y/Q5Jg=", "y/Q5Jg===", "y/Q5 Jg==", "y/Q5Jg==AA==", "\udcff"]
)
def test_decode_digest_examples(value: str) -> None:
    assert decode_digest(value, 4) == reference_digest(value, 4)


def reference_algorithm(header_name: str) -> object:
    name = header_name.strip().lower()
    if not name.startswith(CHECKSUM_PREFIX):
        return None
    algorithm = name[len(CHECKSUM_PREFIX) :].upper()
    if algorithm in NOT_IMPLEMENTED:
        return ("NotImplemented", name)
    return algorithm if algorithm in ALGORITHMS else None


CHECKSUM_NAMES = [
    *(CHECKSUM_PREFIX + name.lower() for name in (*ALGORITHMS, *NOT_IMPLEMENTED)),
    *(CHECKSUM_PREFIX + name for name in (*ALGORITHMS, *NOT_IMPLEMENTED)),
    " x-amz-checksum-crc32 ",
    "X-Amz-Checksum-Sha256",
    "x-amz-checksum-",
    "x-amz-checksum-md",
    "x-amz-checksum-algorithm",
    "content-md5",
]


@pytest.mark.parametrize("name", CHECKSUM_NAMES)
def test_algorithm_of_matches_the_general_rule(name: str) -> None:
    try:
        found: object = algorithm_of(name)
    except S3NotImplemented as error:
        found = ("NotImplemented", error.extra["Header"])
    assert found == reference_algorithm(name)


def test_claim_records_equal_their_constructors() -> None:
    claim = _new_checksum_claim("CRC32", b"abcd")
    assert claim == ChecksumClaim("CRC32", b"abcd") and repr(claim) == repr(ChecksumClaim("CRC32", b"abcd"))
    claims = _new_claims("ab", b"m", claim, "x-amz-checksum-crc32")
    expected = PayloadClaims(content_sha256="ab", content_md5=b"m", checksum=claim, trailer="x-amz-checksum-crc32")
    assert claims == expected and repr(claims) == repr(expected) and hash(claims) == hash(expected)
    assert _new_claims(None, None, None, None) == PayloadClaims()
    with pytest.raises(dataclasses.FrozenInstanceError):
        claims.trailer = None  # type: ignore[misc]


# --- a signature is checked on every request, whatever the caches hold --------------------------------------------


def s3_request(signed_signature: str | None = None, *, date: str = "20150830T123600Z") -> HttpRequestView:
    """A GET of /bucket/key signed for S3 by the plain canonical functions; `signed_signature` replaces the signature."""
    payload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    headers = [("Host", "s3.amazonaws.com"), ("x-amz-content-sha256", payload), ("X-Amz-Date", date)]
    scope = credential_scope(date[:8], "us-east-1", "s3")
    canonical = "\n".join(
        (
            "GET",
            "/bucket/key",
            "",
            f"host:s3.amazonaws.com\nx-amz-content-sha256:{payload}\nx-amz-date:{date}\n",
            "host;x-amz-content-sha256;x-amz-date",
            payload,
        )
    )
    to_sign = "\n".join(("AWS4-HMAC-SHA256", date, scope, hashlib.sha256(canonical.encode()).hexdigest()))
    sig = signature(signing_key(SECRET, date[:8], "us-east-1", "s3"), to_sign)
    header = authorization_header(ACCESS_KEY, scope, "host;x-amz-content-sha256;x-amz-date", signed_signature or sig)
    return HttpRequestView("GET", "/bucket/key", "", [*headers, ("Authorization", header)], payload)


def test_every_request_is_checked_on_warm_caches() -> None:
    clock = FixedClock(NOW)
    secret_for = {ACCESS_KEY: SECRET}.get
    good = s3_request()
    for _ in range(3):
        verified = verify_s3(good, secret_for, clock)
        assert verified is not None and verified.access_key_id == ACCESS_KEY
    tampered = s3_request("0" * 64)
    failure = outcome(lambda: verify_s3(tampered, secret_for, clock))
    assert isinstance(failure, tuple) and failure[0] == "SignatureDoesNotMatch"
    assert all(outcome(lambda: verify_s3(tampered, secret_for, clock)) == failure for _ in range(2))
    later = s3_request(date="20150830T124000Z")  # another second: its own date, its own signature
    assert verify_s3(later, secret_for, FixedClock(NOW + timedelta(minutes=4))) is not None
    wrong_secret = outcome(lambda: verify_s3(later, {ACCESS_KEY: "other"}.get, clock))
    assert isinstance(wrong_secret, tuple) and wrong_secret[0] == "SignatureDoesNotMatch"
