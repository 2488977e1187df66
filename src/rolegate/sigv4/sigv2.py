"""S3's legacy Signature Version 2 (presigned query and `Authorization: AWS`), and `verify_s3`, S3's one entry point.

`boto3`'s `generate_presigned_url` and `aws s3 presign` still produce SigV2 URLs by default for us-east-1 with a
custom endpoint (`?AWSAccessKeyId=…&Signature=…&Expires=<epoch>`), so S3 must take them. The string to sign is
S3's: method, Content-MD5, Content-Type, the date (the `Expires` epoch for presigned URLs; empty when an
x-amz-date header is present), the x-amz-* headers, then the canonicalized resource: the path-style path as
sent plus the sub-resources (`?uploads`, `?tagging`, `response-*` overrides, …) sorted by name. A presigned
URL carries its x-amz-* headers (a session token) as query parameters, and they are signed as headers.

Two spellings are accepted where S3's own documentation gives two: a bucket-only path signed as `/bucket/`
(what botocore signs) or `/bucket`, and with an x-amz-date header either the empty date line plus an
`x-amz-date:` header line (the documented rule) or that date on the date line (AWS's DELETE example). Every
candidate is computed with the secret, so accepting either forges nothing.

`verify_s3` picks the mechanism from the request: SigV4 header or query, SigV2 header or query, or none at
all, which is an anonymous request (None) for the caller to evaluate against the bucket policy alone.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from rolegate.clock import Clock
from rolegate.errors import AccessDenied, InvalidAccessKeyId, InvalidArgument, SignatureDoesNotMatch
from rolegate.sigv4.canonical import spaced_hex, without_token
from rolegate.sigv4.verify import (
    MAX_SKEW,
    ONE_MECHANISM,
    PRESIGN_MARKERS,
    S3_SIGNATURE_MISMATCH,
    SECURITY_TOKEN_HEADER,
    HttpRequestView,
    RequestTimeTooSkewed,
    VerifiedRequest,
    as_utc,
    credentials_of,
    iso_time,
    parse_http_date,
    verify,
)

SIGNATURE_VERSION = "AWS"  # S3's s3:signatureversion for SigV2
QUERY_PARAMS = ("AWSAccessKeyId", "Signature", "Expires")
_QUERY_PARAM_SET = frozenset(QUERY_PARAMS)
# The query parameters S3 signs as part of the resource (botocore's HmacV1Auth list).
SUBRESOURCES = frozenset(
    {
        "accelerate",
        "acl",
        "analytics",
        "cors",
        "defaultObjectAcl",
        "delete",
        "inventory",
        "lifecycle",
        "location",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "partNumber",
        "policy",
        "replication",
        "requestPayment",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
        "restore",
        "select",
        "select-type",
        "storageClass",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versionId",
        "versioning",
        "versions",
        "website",
    }
)

_EPOCH_SECONDS = re.compile(r"[0-9]{1,12}")
_NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"
_BAD_HEADER = "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature"


def verify_s3(
    view: HttpRequestView,
    secret_for: Callable[[str], str | None],
    clock: Clock,
    *,
    region: str | None = None,
    resource_path: str | None = None,
) -> VerifiedRequest | None:
    """Authenticate an S3 request by whichever mechanism it uses; None means anonymous.

    `view.raw_path` is the path as sent (SigV4 signs it); `resource_path` is the path-style `/bucket/key` form
    for a virtual-hosted request, which SigV2 signs. `region=None` accepts any SigV4 scope region.
    """
    authorization = view._header("authorization") or ""
    query = view.query_pairs()
    v2_query = bool(query) and any(name in _QUERY_PARAM_SET for name, _ in query)  # most S3 requests have none
    if v2_query and (authorization or any(name in PRESIGN_MARKERS for name, _ in query)):
        raise InvalidArgument(ONE_MECHANISM)
    if v2_query or authorization.partition(" ")[0] == SIGNATURE_VERSION:
        return verify_sigv2(view, secret_for, clock, resource_path=resource_path)
    claimed = credentials_of(view, authorization, s3=True)
    if claimed is None:
        return None
    return verify(view, secret_for, clock, service="s3", region=region, s3=True, claimed=claimed)


def verify_sigv2(
    view: HttpRequestView, secret_for: Callable[[str], str | None], clock: Clock, *, resource_path: str | None = None
) -> VerifiedRequest:
    """Check a SigV2 request, query (presigned) or header form, in S3's order: form, time, key, signature."""
    now = as_utc(clock.now())
    query = view.query_pairs()
    params: dict[str, str] = {}
    for name, value in query:
        params.setdefault(name, value)
    presigned = any(name in params for name in QUERY_PARAMS)
    if presigned:
        access_key_id, provided, date_line, signed_at = _from_query(params, now)
    else:
        access_key_id, provided, date_line, signed_at = _from_header(view, now)
    secret = secret_for(access_key_id)
    if secret is None:
        raise InvalidAccessKeyId(
            "The AWS Access Key Id you provided does not exist in our records.", AWSAccessKeyId=access_key_id
        )
    candidates = [
        string_to_sign(view, query, date, path, presigned=presigned, amz_date=amz_date)
        for path in _resource_paths(resource_path or view.raw_path)
        for date, amz_date in _date_forms(view, date_line, presigned=presigned)
    ]
    key, given = secret.encode("utf-8"), provided.encode("utf-8", "replace")
    matches = [hmac.compare_digest(_sign(key, candidate), given) for candidate in candidates]
    token = view.header(SECURITY_TOKEN_HEADER) or params.get(SECURITY_TOKEN_HEADER)
    if not any(matches):
        to_sign = without_token(candidates[0], token)
        raise SignatureDoesNotMatch(
            S3_SIGNATURE_MISMATCH,
            AWSAccessKeyId=access_key_id,
            StringToSign=to_sign,
            SignatureProvided=provided,
            StringToSignBytes=spaced_hex(to_sign),
        )
    return VerifiedRequest(
        access_key_id=access_key_id,
        session_token=token,
        region="",
        service="s3",
        signed_at=signed_at,
        presigned=presigned,
        signature_version=SIGNATURE_VERSION,
    )


def _sign(key: bytes, to_sign: str) -> bytes:
    return base64.b64encode(hmac.digest(key, to_sign.encode("utf-8", "surrogateescape"), "sha1"))


def _resource_paths(path: str) -> list[str]:
    """A bucket-only path is signed with its trailing slash (botocore) or, by some clients, without."""
    if path.count("/") == 1 and len(path) > 1:
        return [path + "/", path]
    return [path]


def _date_forms(view: HttpRequestView, date_line: str, *, presigned: bool) -> list[tuple[str, bool]]:
    """(date line, whether x-amz-date counts among the x-amz-* headers) for each accepted spelling."""
    amz_date = view.header("x-amz-date")
    if presigned or amz_date is None:
        return [(date_line, True)]
    return [("", True), (amz_date, False)]


def _from_query(params: dict[str, str], now: datetime) -> tuple[str, str, str, datetime]:
    """(access key, signature, the Expires line of the string to sign, when it was checked)."""
    if any(not params.get(name) for name in QUERY_PARAMS):
        raise AccessDenied("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
    expires = params["Expires"].strip()
    if not _EPOCH_SECONDS.fullmatch(expires):
        raise AccessDenied(f"Invalid date (should be seconds since epoch): {expires}")
    deadline = datetime.fromtimestamp(int(expires), UTC)
    if now > deadline:
        raise AccessDenied("Request has expired", Expires=iso_time(deadline), ServerTime=iso_time(now))
    # A '+' of the base64 signature sent unescaped arrives as a space; base64 has no spaces.
    return params["AWSAccessKeyId"], params["Signature"].replace(" ", "+"), expires, now


def _from_header(view: HttpRequestView, now: datetime) -> tuple[str, str, str, datetime]:
    authorization = view.header("authorization") or ""
    _, _, credentials = authorization.partition(" ")
    if " " in credentials:
        raise InvalidArgument(
            "Authorization header is invalid -- one and only one ' ' (space) required",
            ArgumentName="Authorization",
            ArgumentValue=authorization,
        )
    access_key_id, colon, provided = credentials.strip().rpartition(":")
    if not colon or not access_key_id or not provided:
        raise InvalidArgument(_BAD_HEADER, ArgumentName="Authorization", ArgumentValue=authorization)
    amz_date, http_date = view.header("x-amz-date"), view.header("date")
    signed_at = parse_http_date(amz_date if amz_date is not None else http_date or "")
    if signed_at is None:
        raise AccessDenied(_NO_DATE)
    if abs(now - signed_at) > MAX_SKEW:
        raise RequestTimeTooSkewed(
            "The difference between the request time and the current time is too large.",
            RequestTime=amz_date or http_date or "",
            ServerTime=iso_time(now),
            MaxAllowedSkewMilliseconds=str(MAX_SKEW // timedelta(milliseconds=1)),
        )
    return access_key_id, provided, http_date or "", signed_at


def string_to_sign(
    view: HttpRequestView,
    query: Iterable[tuple[str, str]],
    date_line: str,
    resource_path: str,
    *,
    presigned: bool,
    amz_date: bool = True,
) -> str:
    """S3's SigV2 StringToSign; a presigned URL's x-amz-*, Content-MD5 and Content-Type parameters count as headers.

    `amz_date=False` leaves an x-amz-date header out of the x-amz-* lines (it is then on the date line).
    """
    pairs = list(query)
    headers = [(name.strip().lower(), value.strip()) for name, value in view.headers]
    if not amz_date:
        headers = [(name, value) for name, value in headers if name != "x-amz-date"]
    if presigned:
        headers += [(name.lower(), value.strip()) for name, value in pairs if _is_header_param(name, headers)]
    standard = {name: value for name, value in reversed(headers) if name in {"content-md5", "content-type"}}
    amz: dict[str, list[str]] = {}
    for name, value in headers:
        if name.startswith("x-amz-"):
            amz.setdefault(name, []).append(value)
    lines = [view.method.upper(), standard.get("content-md5", ""), standard.get("content-type", ""), date_line]
    lines += [f"{name}:{','.join(values)}" for name, values in sorted(amz.items())]
    lines.append(resource_path + _subresources(view.raw_query))
    return "\n".join(lines)


def _is_header_param(name: str, headers: list[tuple[str, str]]) -> bool:
    lowered = name.lower()
    if lowered.startswith("x-amz-"):
        return True
    return lowered in {"content-md5", "content-type"} and all(header != lowered for header, _ in headers)


def _subresources(raw_query: str) -> str:
    """`?name[=value]&…` of the signed sub-resources, values decoded, sorted by name as the signer sorted them."""
    kept: list[tuple[str, str]] = []
    for piece in raw_query.split("&"):
        name, equals, value = piece.partition("=")
        if name in SUBRESOURCES:
            kept.append((name, f"{name}={unquote(value)}" if equals else name))
    kept.sort(key=lambda item: item[0])
    return "?" + "&".join(text for _, text in kept) if kept else ""
