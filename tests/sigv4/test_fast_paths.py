"""The shortcuts verification takes on its hot path give exactly what the general code gives.

Each shortcut (pre-padded HMAC states, records built as a plain class of their layout, header and query lookups kept on
the view, regex-gated encoding, fromisoformat dates) is checked against the plain computation it stands for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import random
from datetime import UTC, datetime
from urllib.parse import quote, unquote

import pytest

from rolegate.clock import FixedClock
from rolegate.errors import AwsError
from rolegate.sigv4 import ChunkSigner, CredentialScope, HttpRequestView, SignedCredentials, VerifiedRequest
from rolegate.sigv4.canonical import (
    KeyedSha256,
    authorization_header,
    canonical_header_lines,
    canonical_headers,
    canonical_uri,
    credential_scope,
    query_pairs,
    signature,
    signing_hmac,
    signing_key,
    uri_encode,
)
from rolegate.sigv4.checksums import claims_by_name, parse_claims
from rolegate.sigv4.verify import (
    _auth_params,
    _new_credentials,
    _new_scope,
    _new_verified,
    _parse_amz_date,
    parse_credentials,
    raw_layout,
    verify,
)

ACCESS_KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)


@pytest.mark.parametrize("key", [b"", b"k", bytes(range(32)), bytes(64), bytes(range(65)), b"x" * 200])
@pytest.mark.parametrize("message", [b"", b"abc", bytes(range(256)) * 3])
def test_keyed_sha256_is_hmac_sha256(key: bytes, message: bytes) -> None:
    assert KeyedSha256(key).hexdigest(message) == hmac.new(key, message, hashlib.sha256).hexdigest()


def test_keyed_sha256_signs_like_signature_and_can_be_reused() -> None:
    key = signing_key(SECRET, "20150830", "us-east-1", "iam")
    mac = signing_hmac(SECRET, "20150830", "us-east-1", "iam")
    assert mac is signing_hmac(SECRET, "20150830", "us-east-1", "iam")
    for text in ("one", "two", "", "ü"):
        assert mac.sign(text) == signature(key, text) == hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    assert SECRET not in repr(mac) and key.hex() not in repr(mac)


def test_chunk_signer_takes_raw_or_prepared_keys() -> None:
    key = signing_key(SECRET, "20150830", "us-east-1", "s3")
    raw = ChunkSigner(key, access_key_id=ACCESS_KEY, request_date="20150830T123600Z", scope="s")
    prepared = ChunkSigner(KeyedSha256(key), access_key_id=ACCESS_KEY, request_date="20150830T123600Z", scope="s")
    assert raw.sign("to sign") == prepared.sign("to sign") == signature(key, "to sign")


def all_slots(record: object) -> tuple[object, ...]:
    return tuple(getattr(record, item.name) for item in dataclasses.fields(record))  # type: ignore[arg-type]


def test_records_built_through_slots_equal_the_dataclass_constructors() -> None:
    scope = _new_scope("20150830", "us-east-1", "s3", "aws4_request")
    assert scope == CredentialScope("20150830", "us-east-1", "s3", "aws4_request")
    assert repr(scope) == repr(CredentialScope("20150830", "us-east-1", "s3", "aws4_request"))
    values = {
        "access_key_id": ACCESS_KEY,
        "scope": scope,
        "signed_headers": ("host",),
        "signature": "ab",
        "request_date": "20150830T123600Z",
        "request_time": NOW,
        "session_token": "token",
    }
    fast, slow = _new_credentials(**values), SignedCredentials(**values)  # type: ignore[arg-type]
    assert fast == slow and all_slots(fast) == all_slots(slow) and repr(fast) == repr(slow)
    presigned = {**values, "expires": 60, "presigned": True}
    assert all_slots(_new_credentials(**presigned)) == all_slots(SignedCredentials(**presigned))  # type: ignore[arg-type]
    signer = ChunkSigner(b"k", access_key_id=ACCESS_KEY, request_date="d", scope="s")
    verified = _new_verified(fast, signer)
    expected = VerifiedRequest(
        access_key_id=ACCESS_KEY,
        session_token="token",
        region="us-east-1",
        service="s3",
        signed_at=NOW,
        presigned=False,
        signature="ab",
        signer=signer,
    )
    assert all_slots(verified) == all_slots(expected) and repr(verified) == repr(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verified.region = "x"  # type: ignore[misc]


def test_raw_layout_refuses_a_class_it_cannot_stand_for() -> None:
    @dataclasses.dataclass(frozen=True)
    class Unslotted:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Extended:
        a: int

    class Drifted(Extended):
        __slots__ = ("b",)

    with pytest.raises(TypeError, match="slotted dataclass"):
        raw_layout(Unslotted)
    assert isinstance(raw_layout(Extended)(), object)
    with pytest.raises(TypeError, match="slotted dataclass"):
        raw_layout(Drifted)  # slots that are not its fields: the records would be left half set


def test_view_groups_headers_and_decodes_the_query_once() -> None:
    headers = [("Host", "h"), (" X-Amz-Meta-A ", " 1 "), ("x-amz-meta-a", "2"), ("HOST", "h2")]
    view = HttpRequestView("GET", "/", "b=2&a=1&a&c=x+y", headers, "")
    assert dict(view.headers_by_name()) == {"host": ["h", "h2"], "x-amz-meta-a": [" 1 ", "2"]}
    assert view.header("X-AMZ-META-A") == "1" and view.header("absent") is None
    assert view.query_pairs() == tuple(query_pairs(view.raw_query))
    changed = dataclasses.replace(view, raw_query="d=4", headers=[("Date", "x")])
    assert changed.query_pairs() == (("d", "4"),) and changed.header("host") is None and changed.header("date") == "x"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "A-Z_a.z~0",
        "a b",
        "a/b",
        "/a/b/",
        "é",
        "%41",
        "a+b",
        "\udcff",
        "\n",
        "abc\n",
        "x" * 300,
    ],
)
def test_uri_encode_shortcut_matches_quote(text: str) -> None:
    for keep_slash in (False, True):
        expected = quote(text, safe="/" if keep_slash else "", encoding="utf-8", errors="surrogateescape")
        assert uri_encode(text, keep_slash=keep_slash) == expected


def test_s3_path_shortcut_matches_decoding_and_encoding_once() -> None:
    rng = random.Random(7)
    alphabet = "aZ09-._~/%2F+ é\n"
    for _ in range(3000):
        path = "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
        decoded = unquote(path or "/", encoding="utf-8", errors="surrogateescape")
        decoded = decoded if decoded.startswith("/") else "/" + decoded
        expected = quote(decoded, safe="/", encoding="utf-8", errors="surrogateescape")
        assert canonical_uri(path, normalize=False) == expected


def test_canonical_header_lines_match_canonical_headers() -> None:
    headers = [("Host", "h"), ("X-A", "  a   b "), ("x-a", "c\td"), ("Other", "o"), ("B", "")]
    names = ["b", "host", "missing", "x-a"]
    assert canonical_header_lines(HttpRequestView("GET", "/", "", headers, "").headers_by_name(), names) == (
        canonical_headers(headers, ["X-A", "host", "missing", "b", "host"])
    )
    assert canonical_headers(headers, names) == "b:\nhost:h\nmissing:\nx-a:a b,c d\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20150830T123600Z", datetime(2015, 8, 30, 12, 36, tzinfo=UTC)),
        ("20151330T123600Z", None),
        ("20150230T000000Z", None),
        ("20150830T240000Z", None),  # some Pythons read 24:00 as the next midnight; the basic format does not
        ("20150830T236000Z", None),
        ("20150830T235960Z", None),
        ("00000101T000000Z", None),
        ("20150830T123600", None),
        ("2015-08-30T12:36:00Z", None),
        ("20150830T123600Z\n", None),
        ("\uff120150830T123600Z", None),  # a full-width digit is not an ASCII digit
    ],
)
def test_amz_dates(text: str, expected: datetime | None) -> None:
    parsed = _parse_amz_date(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "rest",
    [
        "Credential=a/b, SignedHeaders=host, Signature=ff",
        "Credential=a/b,SignedHeaders=host,Signature=ff",
        " Credential = a/b ,  SignedHeaders=host;x , Signature=ff ",
        "Credential=a=b, Credential=c, Signature=, Signature= , SignedHeaders",
        "Credential, =x, ,,",
        "",
    ],
)
def test_auth_params_read_like_the_general_rule(rest: str) -> None:
    expected: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if sep and value.strip():
            expected.setdefault(name.strip(), value.strip())
    assert _auth_params(rest) == expected


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="), ("x-amz-checksum-crc32", "AAAAAA==")],
        [("x-amz-checksum-crc32", "AAAAAA=="), ("X-Amz-Checksum-CRC32", "AAAAAA==")],
        [("x-amz-checksum-crc32", "AAAAAA=="), ("x-amz-checksum-sha1", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=")],
        [("x-amz-trailer", "x-amz-checksum-crc32"), ("x-amz-sdk-checksum-algorithm", "crc32")],
        [("x-amz-checksum-algorithm", "CRC32"), ("x-amz-sdk-checksum-algorithm", "SHA1")],
        [(" content-md5 ", "bad"), ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")],
        [("x-amz-trailer", "x-amz-checksum-crc32,x-amz-checksum-crc32c")],
    ],
)
@pytest.mark.parametrize("describes_body", [True, False])
def test_claims_by_name_match_parse_claims(headers: list[tuple[str, str]], describes_body: bool) -> None:
    def outcome(call: object) -> object:
        try:
            return call()  # type: ignore[operator]
        except AwsError as error:
            return (type(error).__name__, error.message, error.extra)

    view = HttpRequestView("PUT", "/", "", headers, "")
    grouped = outcome(
        lambda: claims_by_name(view.headers_by_name(), content_sha256=None, checksum_describes_body=describes_body)
    )
    listed = outcome(lambda: parse_claims(headers, content_sha256=None, checksum_describes_body=describes_body))
    assert grouped == listed


def signed_view(headers: list[tuple[str, str]], signed: list[str], *, payload: str = "") -> HttpRequestView:
    """A GET signed with the general canonical functions, so verification's shortcuts are checked against them."""
    date = "20150830T123600Z"
    headers = [*headers, ("X-Amz-Date", date)]
    scope = credential_scope("20150830", "us-east-1", "iam")
    canonical = "\n".join(
        (
            "GET",
            "/",
            "",
            canonical_headers(headers, signed),
            ";".join(sorted({s.strip().lower() for s in signed})),
            payload,
        )
    )
    to_sign = "\n".join(("AWS4-HMAC-SHA256", date, scope, hashlib.sha256(canonical.encode()).hexdigest()))
    sig = signature(signing_key(SECRET, "20150830", "us-east-1", "iam"), to_sign)
    signed_text = ";".join(signed)
    header = authorization_header(ACCESS_KEY, scope, signed_text, sig)
    return HttpRequestView("GET", "/", "", [*headers, ("Authorization", header)], payload)


@pytest.mark.parametrize(
    "signed",
    [["host", "x-amz-date"], ["x-amz-date", "HOST", "host"], ["host", " x-amz-date ", "X-Amz-Meta-B", "missing"]],
)
def test_verify_canonicalizes_signed_headers_like_canonical_headers(signed: list[str]) -> None:
    view = signed_view([("Host", "h"), ("X-Amz-Meta-B", "  two   words "), ("x-amz-meta-b", "again")], signed)
    verified = verify(view, {ACCESS_KEY: SECRET}.get, FixedClock(NOW), service="iam")
    assert verified.access_key_id == ACCESS_KEY
    creds = parse_credentials(view)
    assert creds is not None and creds.signed_headers == tuple(signed)
