"""Who signed a request: parse SigV4 credentials (header or presigned query), check scope and time, recompute, compare.

Checks run in a fixed order so that each failure maps to one AWS-shaped error: the form of the credentials
(IncompleteSignature), which headers are signed, the credential scope, the clock, the access key, and last the
signature itself, compared in constant time. Query APIs (IAM, STS) and S3 word their errors differently; the
`s3` flag selects S3's codes, texts and extra fields. Presigned requests are checked against `X-Amz-Expires`
instead of the ±15 minute window, but may never be dated more than 15 minutes in the future.

A verified S3 request carries a `ChunkSigner` (the derived signing key, never the secret) so that the body
reader in `rolegate.sigv4.streaming` can check the chained chunk signatures of an aws-chunked body.

Nothing here logs. No error or result carries a secret key, and session tokens and signing keys are kept out of
`repr` and of error fields, so callers may log what they get back.
"""

from __future__ import annotations

import binascii
import functools
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Generic, NamedTuple, TypeVar

from rolegate.clock import Clock
from rolegate.errors import (
    AccessDenied,
    AwsError,
    IncompleteSignature,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidClientTokenId,
    InvalidRequest,
    MissingAuthenticationToken,
    SignatureDoesNotMatch,
    aws_error,
)
from rolegate.sigv4.canonical import (
    ALGORITHM,
    TERMINATOR,
    UNSIGNED_PAYLOAD,
    KeyedSha256,
    amz_date,
    canonical_header_lines,
    canonical_query_string,
    canonical_request,
    canonical_uri,
    query_pairs,
    signing_hmac,
    spaced_hex,
    string_to_sign,
    without_token,
)

# S3's own authentication errors (query APIs use the shared classes from rolegate.errors).
RequestTimeTooSkewed = aws_error("RequestTimeTooSkewed", 403)
AuthorizationHeaderMalformed = aws_error("AuthorizationHeaderMalformed", 400)
AuthorizationQueryParametersError = aws_error("AuthorizationQueryParametersError", 400)

MAX_SKEW = timedelta(minutes=15)
S3_MAX_EXPIRES_MESSAGE = (  # S3 words the query-API limit differently
    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than "
    "604800 seconds"
)
# The literal x-amz-content-sha256 values S3 accepts besides a hex SHA-256 (ECDSA ones are SigV4a, not verified here).
PAYLOAD_LITERALS = (
    UNSIGNED_PAYLOAD,
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
)
MAX_PRESIGN_EXPIRES = 604800
SECURITY_TOKEN_HEADER = "x-amz-security-token"
CONTENT_SHA256_HEADER = "x-amz-content-sha256"

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details."
)
S3_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)
_CREDENTIAL_FORM = 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
_ISO_DATE_HELP = "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601"
ONE_MECHANISM = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter "
    "or the Authorization header should be specified"
)

# Parsing caches are keyed by request text; longer text (never that of a real client) is parsed without them.
_CACHE_SIZE = 512
_CACHEABLE_LENGTH = 512
_AMZ_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_INTEGER = re.compile(r"(-?)([0-9]+)")
_HEADER_PARTS = ("Credential", "Signature", "SignedHeaders")
_HEADER_PARTS_SET = frozenset(_HEADER_PARTS)
PRESIGN_MARKERS = frozenset({"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"})
_PRESIGN_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders")


@dataclass(frozen=True, slots=True, init=False)
class HttpRequestView:
    """A request as plain values: wire-form path and query, headers in arrival order, and the payload hash.

    `payload_hash` is the hex SHA-256 of the body, or for S3 the literal `x-amz-content-sha256` value
    (`UNSIGNED-PAYLOAD`, `STREAMING-…`); checking an S3 body against that header is the caller's job.
    """

    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]
    payload_hash: str
    _index: dict[str, list[str]] = field(init=False, repr=False, compare=False)
    _query: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    # Built in __new__ rather than by a generated __init__: a frozen dataclass's __init__ stores each field
    # through object.__setattr__, which cost as much as grouping the headers (see `raw_layout` below).
    def __new__(
        cls, method: str, raw_path: str, raw_query: str, headers: list[tuple[str, str]], payload_hash: str
    ) -> HttpRequestView:
        view: Any = _RawView()
        view.method = method
        view.raw_path = raw_path
        view.raw_query = raw_query
        view.headers = headers
        view.payload_hash = payload_hash
        view._index = _group_headers(headers)  # verification looks headers up ~8 times per request
        # Every mechanism looks at the query (presigned or not, which parameters to sign): decode it once.
        view._query = tuple(query_pairs(raw_query)) if raw_query else ()
        view.__class__ = cls
        built: HttpRequestView = view
        return built

    def __reduce__(self) -> tuple[type[HttpRequestView], tuple[str, str, str, list[tuple[str, str]], str]]:
        """Copies and pickles are built by the constructor, which alone fills the derived fields."""
        return type(self), (self.method, self.raw_path, self.raw_query, self.headers, self.payload_hash)

    def header(self, name: str) -> str | None:
        """The first value of a header, trimmed; None when absent."""
        values = self._index.get(name.lower())
        return values[0].strip() if values else None

    def _header(self, lower_name: str) -> str | None:
        """`header()` of a name already in lower case: the package's own lookups, several per request."""
        values = self._index.get(lower_name)
        return values[0].strip() if values else None

    def headers_by_name(self) -> Mapping[str, Sequence[str]]:
        """Raw values grouped by trimmed lower-case name, each group in arrival order (read-only by convention)."""
        return self._index

    def query_pairs(self) -> tuple[tuple[str, str], ...]:
        """The decoded query (`canonical.query_pairs`) in arrival order, repeats and blank values kept."""
        return self._query


_T = TypeVar("_T")
_MISSING: Any = object()


class NamesMemo(Generic[_T]):
    """A pure function of a request's header names, remembered per tuple of names.

    A client sends the same names request after request while the values change, so what depends on the names
    alone (which x-amz-* headers must be signed, which carry checksums, the canonical form of a SignedHeaders
    list) is worked out once per set. Only names are kept, never a value, and only bounded: at most `entries`
    tuples of at most 64 names and 2048 characters, forgotten all at once when full. Each result is a pure
    function of its key, so no entry can answer for a request other than one with exactly those names.
    """

    __slots__ = ("_compute", "_entries", "_memo")

    def __init__(self, compute: Callable[[tuple[str, ...]], _T], *, entries: int = _CACHE_SIZE) -> None:
        self._compute = compute
        self._entries = entries
        self._memo: dict[tuple[str, ...], _T] = {}

    def __call__(self, names: tuple[str, ...]) -> _T:
        found = self._memo.get(names, _MISSING)
        if found is _MISSING:
            found = self._compute(names)
            if len(names) <= 64 and sum(map(len, names)) <= 2048:  # measured on a miss only
                if len(self._memo) >= self._entries:
                    self._memo.clear()
                self._memo[names] = found
        result: _T = found  # a typed local, not typing.cast(): that is a function call per request
        return result


# Trimmed lower-case forms of header names already seen: a request repeats the names of the last one, and a dict
# lookup costs less than strip() and lower(). Bounded, so arbitrary names cannot grow it without limit.
_HEADER_NAMES: dict[str, str] = {}
_HEADER_NAMES_MAX = 1024
_HEADER_NAME_MAX_LENGTH = 128


def _header_name(key: str) -> str:
    name = key.strip().lower()
    if len(_HEADER_NAMES) < _HEADER_NAMES_MAX and len(key) <= _HEADER_NAME_MAX_LENGTH:
        _HEADER_NAMES[key] = name
    return name


def _group_headers(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Raw values grouped by trimmed lower-case name, each group in arrival order."""
    names = _HEADER_NAMES
    try:  # every name seen before (subscripts cost less than .get() calls), none repeated: nearly every request
        index = {names[key]: [value] for key, value in headers}
    except KeyError:
        index = {names.get(key) or _header_name(key): [value] for key, value in headers}
    if len(index) == len(headers):
        return index
    index = {}
    for key, value in headers:
        name = names.get(key) or _header_name(key)
        values = index.get(name)
        if values is None:
            index[name] = [value]
        else:
            values.append(value)
    return index


@dataclass(frozen=True, slots=True)
class CredentialScope:
    date: str
    region: str
    service: str
    terminator: str

    def __str__(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


@dataclass(frozen=True, slots=True)
class SignedCredentials:
    """What a request claims about its signer, well-formed but not yet checked."""

    access_key_id: str
    scope: CredentialScope
    signed_headers: tuple[str, ...]
    signature: str
    request_date: str  # YYYYMMDDTHHMMSSZ, as it enters the string to sign
    request_time: datetime
    session_token: str | None = field(default=None, repr=False)
    expires: int | None = None  # seconds, presigned requests only
    presigned: bool = False


class ChunkSigner:
    """Signs the links of a SigV4 streaming chain (chunks, then trailer) under the request's derived key.

    It holds the signing key scoped to one day, region and service, never the secret, and its repr shows
    neither; `access_key_id` is there for the extra fields of S3's SignatureDoesNotMatch.
    """

    __slots__ = ("_mac", "access_key_id", "request_date", "scope")

    def __init__(self, key: bytes | KeyedSha256, *, access_key_id: str, request_date: str, scope: str) -> None:
        self._mac = key if isinstance(key, KeyedSha256) else KeyedSha256(key)
        self.access_key_id = access_key_id
        self.request_date = request_date
        self.scope = scope

    def string_to_sign(self, algorithm: str, previous_signature: str, *hashes: str) -> str:
        """`algorithm`, request date, scope, previous signature, then the hashes, one per line, as the spec lays out."""
        return "\n".join((algorithm, self.request_date, self.scope, previous_signature, *hashes))

    def sign(self, to_sign: str) -> str:
        return self._mac.sign(to_sign)

    def __repr__(self) -> str:
        return f"ChunkSigner(access_key_id={self.access_key_id!r}, scope={self.scope!r})"


def _new_signer(mac: KeyedSha256, access_key_id: str, request_date: str, scope: str) -> ChunkSigner:
    """`ChunkSigner(mac, access_key_id=…, request_date=…, scope=…)` for a prepared key: no keyword call, no check."""
    signer = object.__new__(ChunkSigner)
    signer._mac = mac
    signer.access_key_id = access_key_id
    signer.request_date = request_date
    signer.scope = scope
    return signer


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """A request whose signature checked out: who signed it, for which region and service, and when.

    `signature` seeds the chunk-signature chain of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body and `signer` signs
    its links (SigV4 header authentication only). `signature_version` is S3's `s3:signatureversion` value.
    """

    access_key_id: str
    session_token: str | None = field(repr=False)
    region: str
    service: str
    signed_at: datetime
    presigned: bool
    signature: str = field(default="", compare=False)
    signer: ChunkSigner | None = field(default=None, repr=False, compare=False)
    signature_version: str = ALGORITHM

    @property
    def auth_type(self) -> str:
        """S3's `s3:authType`: `REST-QUERY-STRING` for presigned URLs, else `REST-HEADER`."""
        return "REST-QUERY-STRING" if self.presigned else "REST-HEADER"


# --- the records built per request, without the dataclass __init__ --------------------------------------------
#
# A frozen dataclass's generated __init__ stores each field through object.__setattr__, which made building the
# records of one verification cost about as much as hashing its canonical request. Each record built per request
# is instead filled as an instance of a plain class with the same slots, where a field store is an ordinary
# attribute store, and then becomes the frozen class (`raw_layout`). The result is the object the dataclass
# __init__ builds; the tests compare every field of each builder's records with the constructor's.


def raw_layout(cls: type) -> type:
    """A plain class with the slots of the frozen, slotted dataclass `cls`, whose filled instances become `cls`.

    Python allows assigning `__class__` between classes of one layout; `raw()`, a store per field and
    `obj.__class__ = cls` cost about a third of the descriptor stores, and two fifths of the generated __init__.
    The layouts are compared here, at import: a `cls` that ever stops matching fails loudly, not per request.
    """
    names = tuple(item.name for item in fields(cls))
    if getattr(cls, "__slots__", None) != names:
        raise TypeError(f"{cls.__name__} must be a slotted dataclass with the slots {names!r}")
    raw = type(f"_Raw{cls.__name__}", (), {"__slots__": names, "__module__": cls.__module__})
    raw().__class__ = cls  # TypeError now if Python finds the layouts incompatible
    return raw


_RawView = raw_layout(HttpRequestView)
_RawScope = raw_layout(CredentialScope)
_RawCredentials = raw_layout(SignedCredentials)
_RawVerified = raw_layout(VerifiedRequest)


def _new_scope(date: str, region: str, service: str, terminator: str) -> CredentialScope:
    """`CredentialScope(date, region, service, terminator)`."""
    scope: Any = _RawScope()
    scope.date = date
    scope.region = region
    scope.service = service
    scope.terminator = terminator
    scope.__class__ = CredentialScope
    built: CredentialScope = scope
    return built


def _new_credentials(
    access_key_id: str,
    scope: CredentialScope,
    signed_headers: tuple[str, ...],
    signature: str,
    request_date: str,
    request_time: datetime,
    session_token: str | None,
    expires: int | None = None,
    presigned: bool = False,
) -> SignedCredentials:
    """`SignedCredentials(...)` with the same arguments and defaults."""
    creds: Any = _RawCredentials()
    creds.access_key_id = access_key_id
    creds.scope = scope
    creds.signed_headers = signed_headers
    creds.signature = signature
    creds.request_date = request_date
    creds.request_time = request_time
    creds.session_token = session_token
    creds.expires = expires
    creds.presigned = presigned
    creds.__class__ = SignedCredentials
    built: SignedCredentials = creds
    return built


def _new_verified(creds: SignedCredentials, signer: ChunkSigner) -> VerifiedRequest:
    """The VerifiedRequest of SigV4 credentials whose signature checked out."""
    verified: Any = _RawVerified()
    verified.access_key_id = creds.access_key_id
    verified.session_token = creds.session_token
    verified.region = creds.scope.region
    verified.service = creds.scope.service
    verified.signed_at = creds.request_time
    verified.presigned = creds.presigned
    verified.signature = creds.signature
    verified.signer = signer
    verified.signature_version = ALGORITHM
    verified.__class__ = VerifiedRequest
    built: VerifiedRequest = verified
    return built


def parse_credentials(view: HttpRequestView, *, s3: bool = False) -> SignedCredentials | None:
    """The signer's claims from the Authorization header or the presigned query; None for an unsigned request.

    Raises the AWS error for malformed credentials. None leaves the caller to decide between
    MissingAuthenticationToken and an anonymous S3 request.
    """
    return credentials_of(view, view._header("authorization") or "", s3=s3)


def credentials_of(view: HttpRequestView, authorization: str, *, s3: bool) -> SignedCredentials | None:
    """`parse_credentials` for a caller that has already read the Authorization header (`verify_s3`)."""
    query = view._query
    presigned = bool(query) and any(name in PRESIGN_MARKERS for name, _ in query)
    if authorization and presigned:
        raise (InvalidArgument if s3 else IncompleteSignature)(ONE_MECHANISM)
    if authorization:
        return _from_header(view, authorization, s3=s3)
    if presigned:
        params: dict[str, str] = {}
        for name, value in query:
            params.setdefault(name, value)
        return _from_query(params, s3=s3)
    return None


def verify(
    view: HttpRequestView,
    secret_for: Callable[[str], str | None],
    clock: Clock,
    *,
    service: str,
    region: str | None = None,
    s3: bool = False,
    claimed: SignedCredentials | None = None,
) -> VerifiedRequest:
    """Check a request's SigV4 signature; `region=None` accepts any region in the credential scope.

    `claimed` is what `parse_credentials(view)` already returned, when the caller needed it first."""
    creds = claimed if claimed is not None else parse_credentials(view, s3=s3)
    if creds is None:
        raise (
            AccessDenied("Access Denied")
            if s3
            else MissingAuthenticationToken("Request is missing Authentication Token")
        )
    names = _signed_names(creds.signed_headers)  # the checks and the canonical request both read it
    _check_signed_headers(view, creds, names, s3=s3)
    _check_scope(creds, service=service, region=region, s3=s3)
    _check_time(creds, as_utc(clock.now()), s3=s3)
    secret = secret_for(creds.access_key_id)
    if secret is None:
        if s3:
            raise InvalidAccessKeyId(
                "The AWS Access Key Id you provided does not exist in our records.", AWSAccessKeyId=creds.access_key_id
            )
        raise InvalidClientTokenId("The security token included in the request is invalid.")
    scope = str(creds.scope)
    key = _check_signature(view, creds, names, secret, scope, s3=s3)
    return _new_verified(creds, _new_signer(key, creds.access_key_id, creds.request_date, scope))


# --- parsing -------------------------------------------------------------------------------------------------


def _from_header(view: HttpRequestView, authorization: str, *, s3: bool) -> SignedCredentials:
    scheme, _, rest = authorization.partition(" ")
    if s3 and scheme != ALGORITHM:
        raise InvalidRequest(
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
        )
    x_amz_date = view._header("x-amz-date")
    http_date = None if x_amz_date else view._header("date")  # Date counts only without a usable x-amz-date
    has_date = bool(x_amz_date or http_date)
    head = _known_head(rest) if scheme == ALGORITHM and has_date else None
    if head is not None:  # every part there and well formed: what the checks below would find, parsed before
        (access_key_id, scope), signed_headers, signature = head
    else:
        params = _auth_params(rest) if scheme == ALGORITHM else {}
        if not has_date or not params.keys() >= _HEADER_PARTS_SET:
            missing = [name for name in _HEADER_PARTS if name not in params]
            raise _incomplete_header(missing, has_date, authorization, s3=s3)
        access_key_id, scope = _parse_credential(params["Credential"], s3=s3, presigned=False)
        signed_headers, signature = _split_signed_headers(params["SignedHeaders"]), params["Signature"]
    request_time = _parse_amz_date(x_amz_date) if x_amz_date else parse_http_date(http_date or "")
    if request_time is None:
        raise _bad_date(x_amz_date or http_date or "", s3=s3, presigned=False)
    return _new_credentials(  # positionally: keywords cost a tenth of the call on this path
        access_key_id,
        scope,
        signed_headers,
        signature,
        x_amz_date if x_amz_date else amz_date(request_time),
        request_time,
        view._header(SECURITY_TOKEN_HEADER),
    )


class _AuthHead(NamedTuple):
    """What precedes `, Signature=` in an Authorization header, read once per signer, day and header list."""

    params: dict[str, str]  # shared between requests: read, never changed
    credential: tuple[str, CredentialScope] | None  # None: no Credential, or a malformed one
    signed_headers: tuple[str, ...] | None  # None: no SignedHeaders


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _auth_head(head: str) -> _AuthHead:
    params = _read_auth_params(head)
    credential, signed = params.get("Credential"), params.get("SignedHeaders")
    return _AuthHead(
        params,
        None if credential is None else _read_credential(credential),
        None if signed is None else _split_signed_headers(signed),
    )


def _known_head(rest: str) -> tuple[tuple[str, CredentialScope], tuple[str, ...], str] | None:
    """(credential, signed headers, signature) when the header has all three and a well-formed credential.

    That is the header of nearly every request; anything else (None) takes the general path, which raises the
    error it deserves. The signature is the one `_auth_params` would give: the head's own, else the tail's.
    """
    head, separator, tail = rest.rpartition(", Signature=")
    if not separator or "," in tail or len(head) > _CACHEABLE_LENGTH:
        return None
    parsed = _auth_head(head)
    signature = parsed.params.get("Signature") or tail.strip()
    if parsed.credential is None or parsed.signed_headers is None or not signature:
        return None
    return parsed.credential, parsed.signed_headers, signature


def _auth_params(rest: str) -> dict[str, str]:
    """`Credential=…, SignedHeaders=…, Signature=…` as a dict; the first of a repeated name wins."""
    # Only the signature changes from one request to the next: parse what precedes it once per signer and day.
    # With no comma after it, ", Signature=x" is exactly the last part `_read_auth_params` would split off.
    head, separator, signature = rest.rpartition(", Signature=")
    if not separator or "," in signature or len(head) > _CACHEABLE_LENGTH:
        return _read_auth_params(rest)
    params = dict(_auth_head(head).params)  # a copy: the cached dict is shared
    signature = signature.strip()
    if signature:
        params.setdefault("Signature", signature)
    return params


def _read_auth_params(rest: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.partition("=")  # the outer blanks of `part` end up in what is stripped below
        value = value.strip()
        if sep and value:
            params.setdefault(name.strip(), value)
    return params


def _incomplete_header(missing: list[str], has_date: bool, authorization: str, *, s3: bool) -> AwsError:
    if s3:
        if missing:
            return AuthorizationHeaderMalformed(
                "The authorization header is malformed; the authorization header requires three components: "
                "Credential, SignedHeaders, and Signature."
            )
        return AccessDenied("AWS authentication requires a valid Date or x-amz-date header")
    sentences = [f"Authorization header requires '{name}' parameter." for name in missing]
    if not has_date:
        sentences.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    sentences.append(f"Authorization={authorization}")
    return IncompleteSignature(" ".join(sentences))


def _from_query(params: dict[str, str], *, s3: bool) -> SignedCredentials:
    required = (*_PRESIGN_PARAMS, "X-Amz-Expires") if s3 else _PRESIGN_PARAMS
    missing = [name for name in required if name not in params]
    if missing:
        raise _presign_error(
            f"AWS query-string parameters must include '{missing[0]}'. Re-examine the query-string parameters.",
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
            "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            s3=s3,
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise _presign_error(
            f"Unsupported AWS 'algorithm': '{params['X-Amz-Algorithm']}'.",
            f'X-Amz-Algorithm only supports "{ALGORITHM}"',
            s3=s3,
        )
    access_key_id, scope = _parse_credential(params["X-Amz-Credential"], s3=s3, presigned=True)
    request_time = _parse_amz_date(params["X-Amz-Date"])
    if request_time is None:
        raise _bad_date(params["X-Amz-Date"], s3=s3, presigned=True)
    return _new_credentials(
        access_key_id=access_key_id,
        scope=scope,
        signed_headers=_split_signed_headers(params["X-Amz-SignedHeaders"]),
        signature=params["X-Amz-Signature"],
        request_date=params["X-Amz-Date"],
        request_time=request_time,
        session_token=params.get("X-Amz-Security-Token"),
        expires=_parse_expires(params.get("X-Amz-Expires"), s3=s3),
        presigned=True,
    )


def _presign_error(query_api_message: str, s3_message: str, *, s3: bool) -> AwsError:
    if s3:
        return AuthorizationQueryParametersError(s3_message)
    return IncompleteSignature(query_api_message)


def _parse_expires(text: str | None, *, s3: bool) -> int | None:
    if text is None:
        return None
    match = _INTEGER.fullmatch(text)
    problem = s3_problem = ""
    if match is None:
        problem = s3_problem = "X-Amz-Expires should be a number"
    elif match.group(1) and match.group(2).strip("0"):
        problem = s3_problem = "X-Amz-Expires must be non-negative"
    elif len(match.group(2)) > 7 or int(match.group(2)) > MAX_PRESIGN_EXPIRES:  # length first: int() caps digits
        problem = f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}"
        s3_problem = S3_MAX_EXPIRES_MESSAGE
    if match is None or problem:
        raise _presign_error(problem, s3_problem, s3=s3)
    return int(match.group(2))


def _parse_credential(text: str, *, s3: bool, presigned: bool) -> tuple[str, CredentialScope]:
    parsed = _credential_parts(text) if len(text) <= _CACHEABLE_LENGTH else _read_credential(text)
    if parsed is None:
        if s3:
            raise _s3_malformed(_CREDENTIAL_FORM, presigned=presigned)
        raise IncompleteSignature(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{text}'"
        )
    return parsed


def _read_credential(text: str) -> tuple[str, CredentialScope] | None:
    parts = text.split("/")
    if len(parts) != 5:
        return None
    access_key_id, date, region, service, terminator = parts
    return access_key_id, _new_scope(date, region, service, terminator)


# One access key signs many requests a day with the same credential; the scope records are immutable.
_credential_parts = functools.lru_cache(maxsize=_CACHE_SIZE)(_read_credential)


def _s3_malformed(detail: str, *, presigned: bool, **extra: Any) -> AwsError:
    if presigned:
        return AuthorizationQueryParametersError(f"Error parsing the X-Amz-Credential parameter; {detail}", **extra)
    return AuthorizationHeaderMalformed(f"The authorization header is malformed; {detail}", **extra)


def _split_signed_headers(text: str) -> tuple[str, ...]:
    if len(text) <= _CACHEABLE_LENGTH:
        return _cached_signed_headers(text)
    return tuple(filter(None, text.split(";")))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _cached_signed_headers(text: str) -> tuple[str, ...]:
    return tuple(filter(None, text.split(";")))


class _SignedNames(NamedTuple):
    """What the checks and the canonical request derive from a SignedHeaders list."""

    lowered: frozenset[str]  # as `_check_signed_headers` compares them: lower case, not trimmed
    canonical: tuple[str, ...]  # trimmed, lower case, unique and sorted, as the canonical request lists them
    joined: str  # `canonical` joined by `;`, the canonical request's SignedHeaders line


def _signed_names(signed: Sequence[str]) -> _SignedNames:
    return _known_signed_names(tuple(signed))  # clients send the same few lists again and again


def _read_signed_names(signed: tuple[str, ...]) -> _SignedNames:
    canonical = tuple(sorted(set(map(str.lower, map(str.strip, signed)))))
    return _SignedNames(frozenset(map(str.lower, signed)), canonical, ";".join(canonical))


_known_signed_names = NamesMemo(_read_signed_names)


def _parse_amz_date(text: str) -> datetime | None:
    # Exactly 16 characters or no match, so only short keys reach the cache; many requests share a second.
    return _read_amz_date(text) if len(text) == len("YYYYMMDDTHHMMSSZ") else None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _read_amz_date(text: str) -> datetime | None:
    # Newer Pythons read hour 24 as the next midnight; the basic format allows 00-23 only.
    if not _AMZ_DATE.fullmatch(text) or text[9:11] >= "24":
        return None
    try:  # the regex leaves only the basic form, which fromisoformat (C, Z -> UTC) reads far faster than strptime
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_http_date(text: str) -> datetime | None:
    try:
        return as_utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _bad_date(text: str, *, s3: bool, presigned: bool) -> AwsError:
    if not s3:
        return IncompleteSignature(_ISO_DATE_HELP.format(text))
    if presigned:
        return AuthorizationQueryParametersError(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        )
    return AccessDenied("AWS authentication requires a valid Date or x-amz-date header")


def as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is UTC:  # what every Clock returns: nothing to convert
        return instant
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


# --- checks --------------------------------------------------------------------------------------------------


def _check_signed_headers(view: HttpRequestView, creds: SignedCredentials, names: _SignedNames, *, s3: bool) -> None:
    """`host` must be signed; S3 also wants its payload header and every `x-amz-*` header signed."""
    signed = names.lowered
    if "host" not in signed:
        message = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        raise _s3_malformed(message, presigned=creds.presigned) if s3 else IncompleteSignature(message)
    if not s3:
        return
    if not creds.presigned:
        _check_content_sha256(view._header(CONTENT_SHA256_HEADER))
    unsigned = _amz_names(tuple(view._index)) - signed
    if unsigned:
        raise AccessDenied(
            "There were headers present in the request which were not signed",
            HeadersNotSigned=", ".join(sorted(unsigned)),
        )


def _read_amz_names(names: tuple[str, ...]) -> frozenset[str]:
    """The x-amz-* names among a request's (trimmed lower-case) header names that S3 wants signed."""
    return frozenset(name for name in names if name.startswith("x-amz-") and name != SECURITY_TOKEN_HEADER)


_amz_names = NamesMemo(_read_amz_names)


def _check_content_sha256(value: str | None) -> None:
    """Header-signed S3 requests must say how their payload is signed, even a GET's."""
    if value is None:
        raise InvalidRequest(f"Missing required header for this request: {CONTENT_SHA256_HEADER}")
    if value in PAYLOAD_LITERALS or (len(value) == 64 and _is_hex(value)):
        return
    raise InvalidArgument(
        f"{CONTENT_SHA256_HEADER} must be {', '.join(PAYLOAD_LITERALS)} or a valid sha256 value.",
        ArgumentName=CONTENT_SHA256_HEADER,
        ArgumentValue=value,
    )


def _is_hex(value: str) -> bool:
    """Only [0-9a-fA-F], and an even count: a2b_hex refuses anything else, non-ASCII text included (ValueError).

    It reads the text in C, a fraction of what a regex or `strip(digits)` costs for 64 characters."""
    try:
        binascii.a2b_hex(value)
    except (binascii.Error, ValueError):
        return False
    return True


def _check_scope(creds: SignedCredentials, *, service: str, region: str | None, s3: bool) -> None:
    scope, day = creds.scope, creds.request_date[:8]
    if scope.date != day:
        if s3:
            detail = f'Invalid credential date "{scope.date}". This date is not the same as X-Amz-Date: "{day}".'
            raise _s3_malformed(detail, presigned=creds.presigned)
        raise SignatureDoesNotMatch(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{scope.date}' != '{day}', from '{creds.request_date}'."
        )
    if scope.service == service and scope.terminator == TERMINATOR and (region is None or scope.region == region):
        return
    problems = _scope_problems(scope, service=service, region=region)
    if s3:
        _, detail, extra = problems[0]
        raise _s3_malformed(detail, presigned=creds.presigned, **extra)
    raise SignatureDoesNotMatch("".join(message for message, _, _ in problems))


_ScopeProblem = tuple[str, str, dict[str, str]]  # (query API sentence, S3 detail, S3 extra fields)


def _scope_problems(scope: CredentialScope, *, service: str, region: str | None) -> list[_ScopeProblem]:
    """Every way the scope is wrong, in AWS's order: query APIs report them all, S3 only the first."""
    problems: list[_ScopeProblem] = []
    if region is not None and scope.region != region:
        sentence = f"Credential should be scoped to a valid region, not '{scope.region}'. "
        detail = f"the region '{scope.region}' is wrong; expecting '{region}'"
        problems.append((sentence, detail, {"Region": region}))
    if scope.service != service:
        sentence = f"Credential should be scoped to correct service: '{service}'. "
        detail = f'incorrect service "{scope.service}". This endpoint belongs to "{service}".'
        problems.append((sentence, detail, {}))
    if scope.terminator != TERMINATOR:
        sentence = f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{scope.terminator}'. "
        detail = f'incorrect terminal "{scope.terminator}". This endpoint uses "{TERMINATOR}".'
        problems.append((sentence, detail, {}))
    return problems


def _check_time(creds: SignedCredentials, now: datetime, *, s3: bool) -> None:
    """±15 minutes for signed headers; presigned requests live for X-Amz-Expires but are never post-dated."""
    if creds.request_time > now + MAX_SKEW:
        raise _skewed(creds, now, future=True, s3=s3)
    if creds.expires is None:
        if creds.request_time < now - MAX_SKEW:
            raise _skewed(creds, now, future=False, s3=s3)
        return
    deadline = creds.request_time + timedelta(seconds=creds.expires)
    if now > deadline:
        extra = {"X-Amz-Expires": str(creds.expires), "Expires": iso_time(deadline), "ServerTime": iso_time(now)}
        raise AccessDenied("Request has expired", **(extra if s3 else {}))


def _skewed(creds: SignedCredentials, now: datetime, *, future: bool, s3: bool) -> AwsError:
    if s3:
        return RequestTimeTooSkewed(
            "The difference between the request time and the current time is too large.",
            RequestTime=creds.request_date,
            ServerTime=iso_time(now),
            MaxAllowedSkewMilliseconds=str(int(MAX_SKEW.total_seconds() * 1000)),
        )
    if future:
        bound = amz_date(now + MAX_SKEW)
        return SignatureDoesNotMatch(
            f"Signature not yet current: {creds.request_date} is still later than {bound} ({amz_date(now)} + 15 min.)"
        )
    bound = amz_date(now - MAX_SKEW)
    return SignatureDoesNotMatch(
        f"Signature expired: {creds.request_date} is now earlier than {bound} ({amz_date(now)} - 15 min.)"
    )


def iso_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_signature(
    view: HttpRequestView, creds: SignedCredentials, names: _SignedNames, secret: str, scope: str, *, s3: bool
) -> KeyedSha256:
    """Recompute and compare in constant time; the derived key is returned for the chunk-signature chain."""
    canonical = _canonical_request_for(view, creds, names, s3=s3)
    to_sign = string_to_sign(creds.request_date, scope, canonical)
    key = signing_hmac(secret, creds.scope.date, creds.scope.region, creds.scope.service)
    if hmac.compare_digest(key.sign(to_sign).encode("ascii"), creds.signature.encode("utf-8", "replace")):
        return key
    if s3:  # S3 shows what it signed, so that a client can find where its own canonical request differs
        shown = without_token(canonical, creds.session_token)
        raise SignatureDoesNotMatch(
            S3_SIGNATURE_MISMATCH,
            AWSAccessKeyId=creds.access_key_id,
            StringToSign=to_sign,
            SignatureProvided=creds.signature,
            StringToSignBytes=spaced_hex(to_sign),
            CanonicalRequest=shown,
            CanonicalRequestBytes=spaced_hex(shown),
        )
    raise SignatureDoesNotMatch(SIGNATURE_MISMATCH)


def _canonical_request_for(view: HttpRequestView, creds: SignedCredentials, names: _SignedNames, *, s3: bool) -> str:
    """The canonical request as the signer must have built it, from what arrived."""
    payload_hash = view.payload_hash
    if s3 and creds.presigned:
        # A presigned URL cannot know its body: S3 signs UNSIGNED-PAYLOAD unless the header says otherwise.
        payload_hash = view._header(CONTENT_SHA256_HEADER) or UNSIGNED_PAYLOAD
    query = view._query
    return canonical_request(
        view.method,
        canonical_uri(view.raw_path, normalize=not s3),
        canonical_query_string(query, exclude=("X-Amz-Signature",) if creds.presigned else ()) if query else "",
        canonical_header_lines(view._index, names.canonical),
        names.joined,
        payload_hash,
    )
