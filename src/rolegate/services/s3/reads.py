"""Reading an object: authorization with S3's missing-key rule, conditional headers, byte ranges, and the
headers GetObject and HeadObject answer with."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from rolegate.errors import AwsError
from rolegate.services.context import CallContext
from rolegate.services.lazy_transaction import cached_get
from rolegate.services.s3.access import authorize, bucket_arn, decide, existing_tag_keys, object_arn
from rolegate.services.s3.errors import (
    InvalidPartNumber,
    InvalidRange,
    NotModified,
    access_denied,
    no_such_key,
    precondition_failed,
)
from rolegate.services.s3.storage import parts_of
from rolegate.store.records import Bucket, S3Object

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
STORED_HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "WebsiteRedirectLocation")
OVERRIDES = {
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseContentType": "ContentType",
    "ResponseExpires": "Expires",
}


def readable_object(
    call: CallContext, bucket: Bucket, key: str, action: str = "s3:GetObject", keys: dict[str, Any] | None = None
) -> S3Object:
    """The object, once `action` is allowed on it. A missing key is NoSuchKey only for callers who may list
    the bucket; others get AccessDenied, so that keys cannot be probed."""
    found = cached_get(call.tx, S3Object, bucket.name, key)
    authorize(call, action, object_arn(bucket.name, key), bucket, {**existing_tag_keys(found), **(keys or {})})
    if found is None:
        if decide(call, "s3:ListBucket", bucket_arn(bucket.name), bucket).allowed:
            raise no_such_key(key)
        raise access_denied()
    return found


def _utc_seconds(value: datetime) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


def etag_matches(header: str, etag: str) -> bool:
    wanted = etag.strip('"')
    for candidate in header.split(","):
        value = candidate.strip()
        if value == "*" or value.removeprefix("W/").strip('"') == wanted:
            return True
    return False


def not_modified(obj: S3Object) -> AwsError:
    """304 repeats the validators (ETag, Last-Modified) of the object that was not sent."""
    return NotModified("Not Modified", ETag=obj.etag, LastModified=obj.last_modified)


def check_conditions(obj: S3Object, params: dict[str, Any]) -> None:
    """If-Match / If-Unmodified-Since (412) and If-None-Match / If-Modified-Since (304), with S3's rule that
    a passing If-Match overrides If-Unmodified-Since and a failing If-None-Match overrides If-Modified-Since."""
    modified = _utc_seconds(obj.last_modified)
    if_match, unmodified_since = params.get("IfMatch"), params.get("IfUnmodifiedSince")
    if_none_match, modified_since = params.get("IfNoneMatch"), params.get("IfModifiedSince")
    if if_match is not None:
        if not etag_matches(str(if_match), obj.etag):
            raise precondition_failed("If-Match")
    elif isinstance(unmodified_since, datetime) and modified > _utc_seconds(unmodified_since):
        raise precondition_failed("If-Unmodified-Since")
    if if_none_match is not None:
        if etag_matches(str(if_none_match), obj.etag):
            raise not_modified(obj)
    elif isinstance(modified_since, datetime) and modified <= _utc_seconds(modified_since):
        raise not_modified(obj)


def check_copy_conditions(obj: S3Object, params: dict[str, Any]) -> None:
    """The x-amz-copy-source-if-* headers: every failure is 412."""
    modified = _utc_seconds(obj.last_modified)
    if_match, if_none_match = params.get("CopySourceIfMatch"), params.get("CopySourceIfNoneMatch")
    unmodified_since, modified_since = (
        params.get("CopySourceIfUnmodifiedSince"),
        params.get("CopySourceIfModifiedSince"),
    )
    if if_match is not None:
        if not etag_matches(str(if_match), obj.etag):
            raise precondition_failed("x-amz-copy-source-If-Match")
    elif isinstance(unmodified_since, datetime) and modified > _utc_seconds(unmodified_since):
        raise precondition_failed("x-amz-copy-source-If-Unmodified-Since")
    if if_none_match is not None:
        if etag_matches(str(if_none_match), obj.etag):
            raise precondition_failed("x-amz-copy-source-If-None-Match")
    elif isinstance(modified_since, datetime) and modified <= _utc_seconds(modified_since):
        raise precondition_failed("x-amz-copy-source-If-Modified-Since")


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, length) of a single `bytes=` range; None when the header is not one S3 honours (the whole
    object is sent); InvalidRange when it starts past the end."""
    match = RANGE.match(header.strip())
    if match is None or not (match[1] or match[2]):
        return None
    if match[1]:
        start = int(match[1])
        end = int(match[2]) if match[2] else size - 1
        if match[2] and end < start:
            return None
        if start >= size:
            raise _unsatisfiable(header, size)
        return start, min(end, size - 1) - start + 1
    suffix = int(match[2])
    if suffix == 0 or size == 0:
        raise _unsatisfiable(header, size)
    start = max(size - suffix, 0)
    return start, size - start


def _unsatisfiable(header: str, size: int) -> AwsError:
    return InvalidRange("The requested range is not satisfiable", RangeRequested=header, ActualObjectSize=str(size))


def part_range(call: CallContext, obj: S3Object, number: Any) -> tuple[int, int]:
    """(start, length) of part `number` (GetObject/HeadObject `partNumber`)."""
    if not obj.upload_id:
        if number == 1:
            return 0, obj.size
        raise InvalidPartNumber("The requested partnumber is not satisfiable", PartNumberRequested=str(number))
    start = 0
    for part in parts_of(call, obj.upload_id):
        if part.part_number == number:
            return start, part.size
        start += part.size
    raise InvalidPartNumber("The requested partnumber is not satisfiable", PartNumberRequested=str(number))


def describe(obj: S3Object, params: dict[str, Any]) -> dict[str, Any]:
    """The headers of GetObject/HeadObject for the whole object, with any response-* overrides."""
    result: dict[str, Any] = {
        "AcceptRanges": "bytes",
        "LastModified": obj.last_modified,
        "ContentLength": obj.size,
        "ETag": obj.etag,
        "ContentType": obj.content_type,
        "ServerSideEncryption": "AES256",
        "Metadata": dict(obj.metadata),
    }
    result.update((name, value) for name, value in obj.headers if name in STORED_HEADERS)
    if obj.expires is not None:
        result["Expires"] = obj.expires
    if obj.tags:
        result["TagCount"] = len(obj.tags)
    for parameter, member in OVERRIDES.items():
        if params.get(parameter) is not None:
            result[member] = params[parameter]
    return result


def checksum_members(obj: S3Object) -> dict[str, str]:
    """`ChecksumCRC32`... and `ChecksumType` for an object stored with a checksum. A multipart upload's
    composite checksum keeps S3's "-<number of parts>" suffix (never part of base64), which is how its type
    is known without storing it; every other stored checksum covers the whole object."""
    if not obj.checksum:
        return {}
    algorithm, value = obj.checksum[0]
    return {f"Checksum{algorithm}": value, "ChecksumType": "COMPOSITE" if "-" in value else "FULL_OBJECT"}


def requested_checksum(obj: S3Object, params: dict[str, Any], result: dict[str, Any]) -> dict[str, str]:
    """S3 returns the stored checksum when asked (ChecksumMode=ENABLED) and only for the whole object."""
    if params.get("ChecksumMode") != "ENABLED" or "ContentRange" in result or "PartsCount" in result:
        return {}
    return checksum_members(obj)


def select_range(call: CallContext, obj: S3Object, params: dict[str, Any], result: dict[str, Any]) -> tuple[int, int]:
    """The bytes to send, updating Content-Length/Content-Range (and PartsCount for partNumber reads)."""
    span: tuple[int, int] | None = None
    if params.get("PartNumber") is not None:
        span = part_range(call, obj, params["PartNumber"])
        result["PartsCount"] = max(obj.parts_count, 1)
    elif params.get("Range"):
        span = byte_range(str(params["Range"]), obj.size)
    if span is None:
        return 0, obj.size
    start, length = span
    result["ContentLength"] = length
    if obj.size:
        result["ContentRange"] = f"bytes {start}-{start + length - 1}/{obj.size}"
    return span
