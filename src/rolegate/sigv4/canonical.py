"""The steps of AWS Signature Version 4, one function per step of the specification, over plain values.

Inputs are the request as it arrived on the wire: `raw_path` and `raw_query` keep their percent-encoding
(any raw non-ASCII is text decoded as UTF-8) and header values are text decoded as Latin-1, which is what
HTTP clients put on the wire for `str` headers. Decisions that are not obvious:

- Non-S3 paths are normalized (`.`, `..`, `//`) and then URI-encoded *as received*. A client has already
  encoded each segment once to build the URL, so this second pass is the "encode twice" of the spec: the
  wire path `/a%20b` canonicalizes to `/a%2520b`, as botocore signs it. The official vectors put unencoded
  paths (`/example space/`, raw UTF-8) in their `.req` files, which this single pass encodes exactly once.
- S3 paths are never normalized and are encoded exactly once: the wire form is decoded and re-encoded, so
  `/my-object//photo` keeps its `//` and an S3 key's canonical form does not depend on which characters the
  client chose to escape.
- Query strings are decoded with `+` meaning a space (clients such as aws-sdk-go send `+` and sign `%20`),
  then every name and value is re-encoded, so encoded and unencoded wire forms canonicalize alike.
- Undecodable bytes survive the decode/encode round trip through `surrogateescape`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote, unquote, unquote_plus

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

_ENCODING = "utf-8"
_ERRORS = "surrogateescape"
# Text that percent-encoding leaves as it is; most paths, names and values are, and need no encode/quote round trip.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~\-]*")
_UNRESERVED_PATH = re.compile(r"[A-Za-z0-9_.~/\-]*")
_PLAIN_ABSOLUTE_PATH = re.compile(r"/[A-Za-z0-9_.~/\-]*")


def uri_encode(text: str, *, keep_slash: bool = False) -> str:
    """Percent-encode everything but RFC 3986 unreserved characters (`A-Za-z0-9-._~`), upper-case hex."""
    if (_UNRESERVED_PATH if keep_slash else _UNRESERVED).fullmatch(text):
        return text
    return quote(text, safe="/" if keep_slash else "", encoding=_ENCODING, errors=_ERRORS)


def normalize_path(path: str) -> str:
    """RFC 3986 dot-segment removal plus AWS's collapsing of empty segments; the result is absolute."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment in {"", "."}:
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    normalized = "/" + "/".join(kept)
    if kept and path.endswith("/"):
        normalized += "/"
    return normalized


def canonical_uri(raw_path: str, *, normalize: bool) -> str:
    """CanonicalURI: normalized and encoded again for most services; decoded and encoded once for S3."""
    if raw_path == "/":  # every query-API request: already canonical either way
        return raw_path
    if normalize:
        return uri_encode(normalize_path(raw_path), keep_slash=True)
    if _PLAIN_ABSOLUTE_PATH.fullmatch(raw_path):  # no escapes and nothing to escape: decoding and encoding are no-ops
        return raw_path
    decoded = unquote(raw_path or "/", encoding=_ENCODING, errors=_ERRORS)
    return uri_encode(decoded if decoded.startswith("/") else "/" + decoded, keep_slash=True)


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """Decode a raw query string into (name, value) pairs, keeping order, repeats and blank values."""
    pairs: list[tuple[str, str]] = []
    if not raw_query:
        return pairs
    for piece in raw_query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        pairs.append((_decode_query(name), _decode_query(value)))
    return pairs


def _decode_query(text: str) -> str:
    return unquote_plus(text, encoding=_ENCODING, errors=_ERRORS)


def canonical_query_string(query: str | Iterable[tuple[str, str]], *, exclude: Collection[str] = ()) -> str:
    """CanonicalQueryString: `encode(name)=encode(value)` sorted by encoded name, then value, joined by `&`.

    `query` is a raw query string or decoded pairs; names in `exclude` (presigned `X-Amz-Signature`) are left out.
    """
    if not query:
        return ""
    pairs = query_pairs(query) if isinstance(query, str) else query
    encoded = sorted((uri_encode(name), uri_encode(value)) for name, value in pairs if name not in exclude)
    return "&".join(f"{name}={value}" for name, value in encoded)


def trim_all(value: str) -> str:
    """Trimall: strip the ends and collapse inner whitespace runs (including folded lines) to one space."""
    return " ".join(value.split())


def canonical_headers(headers: Iterable[tuple[str, str]], signed: Iterable[str]) -> str:
    """CanonicalHeaders: one `name:value\\n` line per signed header, sorted by lower-case name.

    Repeated headers are joined with `,` in arrival order; a signed header that is absent gets an empty value.
    """
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.strip().lower(), []).append(value)
    return canonical_header_lines(values, sorted({name.strip().lower() for name in signed}))


def canonical_header_lines(values: Mapping[str, Sequence[str]], names: Iterable[str]) -> str:
    """CanonicalHeaders from raw values already grouped by lower-case name, for `names` already sorted and unique.

    Verification has that grouping at hand (`HttpRequestView`), so only the signed headers are trimmed.
    """
    lines: list[str] = []
    for name in names:
        found = values.get(name, ())
        if len(found) == 1:  # the usual case: skip the inner join
            lines.append(f"{name}:{' '.join(found[0].split())}\n")
        else:
            lines.append(f"{name}:{','.join([' '.join(value.split()) for value in found])}\n")
    return "".join(lines)


def signed_headers(names: Iterable[str]) -> str:
    """SignedHeaders: the lower-case header names, sorted, unique, joined by `;`."""
    return ";".join(sorted({name.strip().lower() for name in names}))


def hashed_payload(body: bytes) -> str:
    """HashedPayload: lower-case hex SHA-256 of the body (the empty body hashes to `e3b0c442…`)."""
    return hashlib.sha256(body).hexdigest()


def canonical_request(method: str, uri: str, query: str, headers: str, signed: str, payload_hash: str) -> str:
    """CanonicalRequest from its already-canonical parts; `headers` ends in a newline, hence the blank line."""
    return "\n".join((method, uri, query, headers, signed, payload_hash))


def amz_date(instant: datetime) -> str:
    """The ISO 8601 basic form `YYYYMMDDTHHMMSSZ` of an instant, in UTC."""
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC)
    return instant.strftime(AMZ_DATE_FORMAT)


def credential_scope(date: str, region: str, service: str) -> str:
    """CredentialScope: `YYYYMMDD/region/service/aws4_request`."""
    return f"{date}/{region}/{service}/{TERMINATOR}"


HIDDEN_TOKEN = "(session token not shown)"


def without_token(text: str, token: str | None) -> str:
    """`text` (a StringToSign or CanonicalRequest an error shows) with the session token's value, as sent or
    URI-encoded, replaced: a token is a credential, and error documents end up in logs."""
    if not token:
        return text
    return text.replace(uri_encode(token), HIDDEN_TOKEN).replace(token, HIDDEN_TOKEN)


def spaced_hex(text: str) -> str:
    """Text as the space-separated hex of its UTF-8 bytes: how S3's SignatureDoesNotMatch errors show the
    StringToSign and CanonicalRequest, so that invisible differences (spaces, encodings) can be seen."""
    return " ".join(f"{byte:02x}" for byte in text.encode("utf-8", "surrogateescape"))


def string_to_sign(request_date: str, scope: str, canonical: str) -> str:
    """StringToSign: algorithm, request date, credential scope and the hex SHA-256 of the canonical request."""
    digest = hashlib.sha256(canonical.encode(_ENCODING, _ERRORS)).hexdigest()
    return "\n".join((ALGORITHM, request_date, scope, digest))


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.digest(key, message.encode(_ENCODING, _ERRORS), "sha256")


@functools.lru_cache(maxsize=1024)  # one derivation per key and day, not per request
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived key: HMAC chain over date, region, service and the terminator, seeded by `AWS4` + secret."""
    k_date = _hmac(f"AWS4{secret}".encode(_ENCODING, _ERRORS), date)
    k_region = _hmac(k_date, region)
    k_service = _hmac(k_region, service)
    return _hmac(k_service, TERMINATOR)


def signature(key: bytes, to_sign: str) -> str:
    """Signature: lower-case hex HMAC-SHA256 of the string to sign under the derived key."""
    return hmac.digest(key, to_sign.encode(_ENCODING, _ERRORS), "sha256").hex()


_BLOCK = 64  # SHA-256's block size, which HMAC pads its key to
_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))


class KeyedSha256:
    """HMAC-SHA256 (RFC 2104) under one fixed key, its two padded-key hash states computed once.

    With OpenSSL 3 a one-shot HMAC of a short message costs several times a plain SHA-256, nearly all of it
    set-up; continuing two ready states gives what `signature` computes at a fraction of the cost. It holds
    key material, so its repr shows none.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(padded.translate(_INNER_PAD))
        self._outer = hashlib.sha256(padded.translate(_OUTER_PAD))

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def sign(self, to_sign: str) -> str:
        """The same value as `signature(key, to_sign)`."""
        return self.hexdigest(to_sign.encode(_ENCODING, _ERRORS))

    def __repr__(self) -> str:
        return "KeyedSha256(<key>)"


@functools.lru_cache(maxsize=1024)  # like signing_key: set up once per key, day, region and service
def signing_hmac(secret: str, date: str, region: str, service: str) -> KeyedSha256:
    """The derived key of `signing_key`, ready to sign with."""
    return KeyedSha256(signing_key(secret, date, region, service))


def authorization_header(access_key_id: str, scope: str, signed: str, signature_hex: str) -> str:
    """The `Authorization` header value that carries a signature."""
    return f"{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={signed}, Signature={signature_hex}"
