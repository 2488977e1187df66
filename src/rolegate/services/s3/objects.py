"""Objects: put, get, head, delete, delete many.

The body is streamed into a blob before the transaction opens, or kept for the database when it is small
(storage.py explains why and how a failure cleans up); GetObject answers with the bytes of a small object or
an open chunk stream that the server glue sends on after the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rolegate.errors import InvalidArgument
from rolegate.services.context import CallContext
from rolegate.services.lazy_transaction import current_fields, prepare
from rolegate.services.registry import operation
from rolegate.services.s3.access import (
    authorize,
    bucket_of,
    check_expected_owner,
    decide,
    header_keys,
    object_arn,
    request_tag_keys,
    still_current,
)
from rolegate.services.s3.errors import (
    ACCESS_DENIED,
    AccessControlListNotSupported,
    malformed_xml,
    no_such_key,
    precondition_failed,
)
from rolegate.services.s3.reads import (
    STORED_HEADERS,
    check_conditions,
    checksum_members,
    describe,
    etag_matches,
    readable_object,
    requested_checksum,
    select_range,
)
from rolegate.services.s3.rules import check_key, header_tags, metadata_of, refuse_customer_keys
from rolegate.services.s3.storage import (
    REPLACED_FIELDS,
    Replaced,
    drop_object,
    purge,
    release,
    removed_on_error,
    stream,
    write_body,
)
from rolegate.store.records import Bucket, S3Object, Tags

MAX_DELETE_KEYS = 1000
NULL_VERSION = "null"  # the version id of every object in a bucket that never had versioning
ALLOWED_ACLS = frozenset({"private", "bucket-owner-full-control"})
GRANTS = ("GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP")
# An object whose bytes are in its own row: replacing the row is all an overwrite has to do with it, so an
# unconditional PutObject writes without reading the object it replaces first (`put_if`); any other
# object, or a conditional write, is read and handled.
NOTHING_TO_RELEASE = {"inline": True, "blob": "", "upload_id": ""}


def etag_of(md5: bytes) -> str:
    return f'"{md5.hex()}"'


def stamp(now: datetime) -> datetime:
    """S3 keeps modification times to the millisecond."""
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def check_acl(params: Mapping[str, Any]) -> None:
    """New buckets enforce bucket-owner ownership, so ACLs other than the owner's own are refused."""
    acl = params.get("ACL")
    if (acl is not None and acl not in ALLOWED_ACLS) or any(params.get(g) for g in GRANTS):
        raise AccessControlListNotSupported("The bucket does not allow ACLs")


def stored_headers(params: Mapping[str, Any]) -> Tags:
    pairs: list[tuple[str, str]] = []
    for name in STORED_HEADERS:
        value = params.get(name)
        if name == "ContentEncoding" and isinstance(value, str):
            value = ",".join(v.strip() for v in value.split(",") if v.strip() and v.strip() != "aws-chunked")
        if value:
            pairs.append((name, str(value)))
    return tuple(pairs)


def object_fields(params: Mapping[str, Any], tags: Tags | None = None) -> dict[str, Any]:
    """Content type, metadata, tags and stored headers of a new object, validated as S3 does."""
    check_key(str(params.get("Key", "")))
    check_acl(params)
    refuse_customer_keys(params)
    expires = params.get("Expires")
    return {
        "content_type": str(params.get("ContentType") or "binary/octet-stream"),
        "metadata": metadata_of(params),
        "tags": header_tags(params.get("Tagging")) if tags is None else tags,
        "headers": stored_headers(params),
        "expires": expires if isinstance(expires, datetime) else None,
    }


def check_write_conditions(existing: S3Object | Replaced | None, params: Mapping[str, Any], key: str) -> None:
    """Conditional writes: If-None-Match: * refuses to overwrite; If-Match needs the current ETag."""
    if_none_match, if_match = params.get("IfNoneMatch"), params.get("IfMatch")
    if if_none_match is not None and existing is not None and etag_matches(str(if_none_match), existing.etag):
        raise precondition_failed("If-None-Match")
    if if_match is not None:
        if existing is None:
            raise no_such_key(key)
        if not etag_matches(str(if_match), existing.etag):
            raise precondition_failed("If-Match")


@operation("s3", "PutObject", auth="handler")
def put_object(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    key = str(params.get("Key", ""))
    fields = object_fields(params)
    info = write_body(call, params, inline=True)
    with removed_on_error(call, info):
        # Authorized, and the new row built, before the write transaction begins: the writers' lock is held
        # only for the reads that must see the latest commit and for the writes.
        keys = header_keys(params) | request_tag_keys(fields["tags"])
        bucket = bucket_of(call, params, ahead=True)
        authorize(call, "s3:PutObject", object_arn(bucket.name, key), bucket, keys)
        obj = S3Object(
            bucket.name,
            key,
            info.size,
            etag_of(info.md5),
            stamp(call.now),
            blob=info.name,
            checksum=verified_checksum(params.get("Body")),
            inline=info.data is not None,
            data=info.data,
            **fields,
        )
        prepare(call.tx, obj)

        def recheck(current: Bucket) -> None:
            check_expected_owner(current, params.get("ExpectedBucketOwner"))
            authorize(call, "s3:PutObject", object_arn(current.name, key), current, keys)

        still_current(call, bucket, recheck)  # opens the write transaction
        purge(call)
        conditional = params.get("IfMatch") is not None or params.get("IfNoneMatch") is not None
        if conditional or not call.tx.put_if(obj, NOTHING_TO_RELEASE):
            current = current_fields(call.tx, S3Object, (bucket.name, key), REPLACED_FIELDS)
            existing = None if current is None else Replaced(*current)
            check_write_conditions(existing, params, key)
            call.tx.put(obj)
            if existing is not None:
                release(call, existing)
    result: dict[str, Any] = {"ETag": obj.etag, "ServerSideEncryption": "AES256"}
    result.update(checksum_members(obj))
    return result


def verified_checksum(body: Any) -> Tags:
    """The flexible checksum the request's body was verified against (the payload reader knows it)."""
    claimed = getattr(body, "checksum", None)
    if isinstance(claimed, tuple) and len(claimed) == 2 and all(isinstance(v, str) for v in claimed):
        return ((claimed[0].upper(), claimed[1]),)
    return ()


@operation("s3", "GetObject", auth="handler")
def get_object(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    obj, result = _read(call, params)
    start, length = select_range(call, obj, params, result)
    result.update(requested_checksum(obj, params, result))
    result["Body"] = stream(call, obj, start, length)
    return result


@operation("s3", "HeadObject", auth="handler")
def head_object(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    obj, result = _read(call, params)
    select_range(call, obj, params, result)
    result.update(requested_checksum(obj, params, result))
    return result


def _read(call: CallContext, params: dict[str, Any]) -> tuple[S3Object, dict[str, Any]]:
    """GetObject and HeadObject: the object, once readable (s3:GetObjectVersion when a version is named) and
    its conditions hold, and the headers describing it."""
    refuse_customer_keys(params)
    version_id = params.get("VersionId")
    action = versioned_action(version_id, "s3:GetObject", "s3:GetObjectVersion")
    bucket = bucket_of(call, params)
    obj = readable_object(call, bucket, str(params.get("Key", "")), action)
    check_conditions(obj, params)
    result = describe(obj, params)
    if version_id is not None:
        result["VersionId"] = NULL_VERSION
    return obj, result


def versioned_action(version_id: Any, action: str, on_version: str) -> str:
    """`action`, or `on_version` (s3:GetObjectVersion, s3:DeleteObjectVersion...) when the request names a
    version. Versioning is never on, so every object's only version is "null" (what ListObjectVersions
    lists); another id names no version."""
    if version_id is None:
        return action
    if version_id != NULL_VERSION:
        raise InvalidArgument("Invalid version id specified", ArgumentName="versionId", ArgumentValue=str(version_id))
    return on_version


def delete_action(version_id: Any) -> str:
    return versioned_action(version_id, "s3:DeleteObject", "s3:DeleteObjectVersion")


@operation("s3", "DeleteObject", auth="handler")
def delete_object(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(call, params)
    key = str(params.get("Key", ""))
    version_id = params.get("VersionId")
    authorize(call, delete_action(version_id), object_arn(bucket.name, key), bucket)
    purge(call)
    existing = call.tx.get(S3Object, bucket.name, key)
    if params.get("IfMatch") is not None:
        check_write_conditions(existing, {"IfMatch": params["IfMatch"]}, key)
    if existing is not None:
        drop_object(call, existing)
    return {"VersionId": NULL_VERSION} if version_id is not None else {}


def _delete_keys(params: Mapping[str, Any]) -> tuple[list[tuple[str, Any]], bool]:
    """(key, version id or None) of each object named, and whether the answer is quiet."""
    request = params.get("Delete")
    objects = request.get("Objects") if isinstance(request, Mapping) else None
    if not isinstance(objects, list) or not objects or len(objects) > MAX_DELETE_KEYS:
        raise malformed_xml()
    if not all(isinstance(item, Mapping) and isinstance(item.get("Key"), str) and item["Key"] for item in objects):
        raise malformed_xml()
    quiet = bool(request.get("Quiet")) if isinstance(request, Mapping) else False
    return [(str(item["Key"]), item.get("VersionId")) for item in objects], quiet


@operation("s3", "DeleteObjects", auth="handler")
def delete_objects(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Each key is authorized on its own (s3:DeleteObject); denials are reported per key, as S3 does."""
    keys, quiet = _delete_keys(params)
    bucket = bucket_of(call, params)
    purge(call)
    deleted: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for key, version_id in keys:
        named = {"Key": key} if version_id is None else {"Key": key, "VersionId": str(version_id)}
        if version_id is not None and version_id != NULL_VERSION:
            errors.append({**named, "Code": "NoSuchVersion", "Message": "The specified version does not exist."})
            continue
        if not decide(call, delete_action(version_id), object_arn(bucket.name, key), bucket).allowed:
            errors.append({**named, "Code": "AccessDenied", "Message": ACCESS_DENIED})
            continue
        existing = call.tx.get(S3Object, bucket.name, key)
        if existing is not None:
            drop_object(call, existing)
        if not quiet:
            deleted.append(named)
    result: dict[str, Any] = {}
    if deleted:
        result["Deleted"] = deleted
    if errors:
        result["Errors"] = errors
    return result
