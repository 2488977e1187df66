"""Multipart uploads: create, upload part, complete, abort, list parts, list uploads.

Parts are blobs. Completing an upload does not copy bytes: the object keeps the chosen parts as its
segments (reads stream across them), so completing a 5 GiB upload costs a few rows, not 5 GiB of I/O
under the database's write lock. Parts left out of the completion are dropped. The ETag is S3's:
the MD5 of the concatenated binary MD5s of the parts, then `-<number of parts>`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from rolegate.errors import InvalidArgument
from rolegate.services.context import CallContext
from rolegate.services.registry import operation
from rolegate.services.s3.access import (
    authorize,
    authorized_bucket,
    bucket_of,
    header_keys,
    object_arn,
    owner,
    request_tag_keys,
)
from rolegate.services.s3.errors import (
    MAX_PART_SIZE,
    MIN_PART_SIZE,
    EntityTooSmall,
    InvalidPart,
    InvalidPartOrder,
    malformed_xml,
    no_such_upload,
)
from rolegate.services.s3.objects import check_write_conditions, etag_of, object_fields, stamp
from rolegate.services.s3.reads import etag_matches
from rolegate.services.s3.rules import max_count, refuse_customer_keys
from rolegate.services.s3.storage import discard, drop_parts, parts_of, purge, release, removed_on_error, write_body
from rolegate.store.records import Bucket, MultipartUpload, ObjectPart, S3Object

MAX_PARTS = 10_000
UPLOAD_ID_LENGTH = 64


def _upload(call: CallContext, params: Mapping[str, Any], action: str) -> tuple[Bucket, MultipartUpload]:
    """The upload named by the request, once `action` is allowed on its key (so ids cannot be probed)."""
    bucket = bucket_of(call, params)
    key = str(params.get("Key", ""))
    authorize(call, action, object_arn(bucket.name, key), bucket)
    upload_id = str(params.get("UploadId") or "")
    upload = call.tx.get(MultipartUpload, upload_id) if upload_id else None
    if upload is None or upload.bucket != bucket.name or upload.key != key:
        raise no_such_upload(upload_id)
    return bucket, upload


@operation("s3", "CreateMultipartUpload", auth="handler")
def create_multipart_upload(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    key = str(params.get("Key", ""))
    fields = object_fields(params)
    bucket = bucket_of(call, params)
    keys = header_keys(params) | request_tag_keys(fields["tags"])
    authorize(call, "s3:PutObject", object_arn(bucket.name, key), bucket, keys)
    upload_id = call.ids.token(UPLOAD_ID_LENGTH)
    caller = call.caller
    call.tx.insert(MultipartUpload(upload_id, bucket.name, key, stamp(call.now), caller.arn, caller.user_id, **fields))
    return {"Bucket": bucket.name, "Key": key, "UploadId": upload_id, "ServerSideEncryption": "AES256"}


def _part_number(params: Mapping[str, Any]) -> int:
    number = params.get("PartNumber")
    if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= MAX_PARTS:
        raise InvalidArgument(
            "Part number must be an integer between 1 and 10000, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=str(number),
        )
    return number


@operation("s3", "UploadPart", auth="handler")
def upload_part(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    number = _part_number(params)
    refuse_customer_keys(params)
    info = write_body(call, params, MAX_PART_SIZE)
    with removed_on_error(call, info.name):
        _, upload = _upload(call, params, "s3:PutObject")
        purge(call)
        previous = call.tx.get(ObjectPart, upload.upload_id, str(number))
        part = ObjectPart(upload.upload_id, number, info.name, info.size, etag_of(info.md5), stamp(call.now))
        call.tx.put(part)
        if previous is not None:
            discard(call, previous.blob)
    return {"ETag": part.etag, "ServerSideEncryption": "AES256"}


def _requested_parts(params: Mapping[str, Any], upload_id: str) -> list[tuple[int, str]]:
    request = params.get("MultipartUpload")
    parts = request.get("Parts") if isinstance(request, Mapping) else None
    if not isinstance(parts, list) or not parts or len(parts) > MAX_PARTS:
        raise malformed_xml()
    chosen: list[tuple[int, str]] = []
    for item in parts:
        number = item.get("PartNumber") if isinstance(item, Mapping) else None
        etag = item.get("ETag") if isinstance(item, Mapping) else None
        if not isinstance(number, int) or not isinstance(etag, str):
            raise malformed_xml()
        if chosen and number <= chosen[-1][0]:
            raise InvalidPartOrder(
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
                UploadId=upload_id,
            )
        chosen.append((number, etag))
    return chosen


def _chosen_parts(call: CallContext, upload: MultipartUpload, requested: list[tuple[int, str]]) -> list[ObjectPart]:
    stored = {p.part_number: p for p in parts_of(call, upload.upload_id)}
    chosen: list[ObjectPart] = []
    for index, (number, etag) in enumerate(requested):
        part = stored.get(number)
        if part is None or not etag_matches(etag, part.etag) or etag.strip() == "*":
            raise InvalidPart(
                "One or more of the specified parts could not be found.  The part may not have been uploaded, or the"
                " specified entity tag may not match the part's entity tag.",
                UploadId=upload.upload_id,
                PartNumber=str(number),
                ETag=etag,
            )
        if part.size < MIN_PART_SIZE and index < len(requested) - 1:
            raise EntityTooSmall(
                "Your proposed upload is smaller than the minimum allowed size",
                ProposedSize=str(part.size),
                MinSizeAllowed=str(MIN_PART_SIZE),
                PartNumber=str(number),
                ETag=part.etag,
            )
        chosen.append(part)
    return chosen


def multipart_etag(parts: list[ObjectPart]) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for part in parts:
        digest.update(bytes.fromhex(part.etag.strip('"')))
    return f'"{digest.hexdigest()}-{len(parts)}"'


@operation("s3", "CompleteMultipartUpload", auth="handler")
def complete_multipart_upload(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket, upload = _upload(call, params, "s3:PutObject")
    purge(call)
    chosen = _chosen_parts(call, upload, _requested_parts(params, upload.upload_id))
    existing = call.tx.get(S3Object, bucket.name, upload.key)
    check_write_conditions(existing, params, upload.key)
    kept = {p.part_number for p in chosen}
    drop_parts(call, [p for p in parts_of(call, upload.upload_id) if p.part_number not in kept])
    obj = S3Object(
        bucket.name,
        upload.key,
        sum(p.size for p in chosen),
        multipart_etag(chosen),
        stamp(call.now),
        upload_id=upload.upload_id,
        parts_count=len(chosen),
        content_type=upload.content_type,
        metadata=upload.metadata,
        tags=upload.tags,
        headers=upload.headers,
        expires=upload.expires,
    )
    call.tx.delete(MultipartUpload, upload.upload_id)
    call.tx.put(obj)
    if existing is not None:
        release(call, existing)
    return {
        "Location": f"/{bucket.name}/{quote(upload.key)}",
        "Bucket": bucket.name,
        "Key": upload.key,
        "ETag": obj.etag,
        "ServerSideEncryption": "AES256",
    }


@operation("s3", "AbortMultipartUpload", auth="handler")
def abort_multipart_upload(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    _, upload = _upload(call, params, "s3:AbortMultipartUpload")
    purge(call)
    drop_parts(call, parts_of(call, upload.upload_id))
    call.tx.delete(MultipartUpload, upload.upload_id)
    return {}


@operation("s3", "ListParts", auth="handler")
def list_parts(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket, upload = _upload(call, params, "s3:ListMultipartUploadParts")
    limit = max_count(params, "MaxParts")
    marker = params.get("PartNumberMarker") or 0
    after = [p for p in parts_of(call, upload.upload_id) if p.part_number > marker]
    page = after[:limit]
    result: dict[str, Any] = {
        "Bucket": bucket.name,
        "Key": upload.key,
        "UploadId": upload.upload_id,
        "PartNumberMarker": marker,
        "MaxParts": limit,
        "IsTruncated": len(after) > limit,
        "Parts": [
            {"PartNumber": p.part_number, "LastModified": p.last_modified, "ETag": p.etag, "Size": p.size} for p in page
        ],
        "Initiator": {"ID": upload.initiator_arn, "DisplayName": upload.initiator_arn.rsplit("/", 1)[-1]},
        "Owner": owner(bucket.account_id),
        "StorageClass": "STANDARD",
    }
    if page:
        result["NextPartNumberMarker"] = page[-1].part_number
    return result


def _after_markers(uploads: list[MultipartUpload], key_marker: str, id_marker: str) -> list[MultipartUpload]:
    """Uploads after the (key, upload id) markers: later keys, or later uploads of the marker's key."""
    if not key_marker:
        return uploads
    if id_marker:
        for index, upload in enumerate(uploads):
            if (upload.key, upload.upload_id) == (key_marker, id_marker):
                return uploads[index + 1 :]
    return [u for u in uploads if u.key > key_marker]


def _upload_entry(upload: MultipartUpload, bucket: Bucket) -> dict[str, Any]:
    return {
        "UploadId": upload.upload_id,
        "Key": upload.key,
        "Initiated": upload.initiated,
        "StorageClass": "STANDARD",
        "Owner": owner(bucket.account_id),
        "Initiator": {"ID": upload.initiator_arn, "DisplayName": upload.initiator_arn.rsplit("/", 1)[-1]},
    }


@operation("s3", "ListMultipartUploads", auth="handler")
def list_multipart_uploads(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = authorized_bucket(call, params, "s3:ListBucketMultipartUploads")
    prefix = str(params.get("Prefix") or "")
    key_marker = str(params.get("KeyMarker") or "")
    id_marker = str(params.get("UploadIdMarker") or "")
    limit = max_count(params, "MaxUploads")
    uploads = sorted(
        (u for u in call.tx.find(MultipartUpload, bucket=bucket.name) if u.key.startswith(prefix)),
        key=lambda u: (u.key, u.initiated, u.upload_id),
    )
    uploads = _after_markers(uploads, key_marker, id_marker)
    page = uploads[:limit]
    result: dict[str, Any] = {
        "Bucket": bucket.name,
        "KeyMarker": key_marker,
        "UploadIdMarker": id_marker,
        "Prefix": prefix,
        "MaxUploads": limit,
        "IsTruncated": len(uploads) > limit,
        "Uploads": [_upload_entry(u, bucket) for u in page],
    }
    if params.get("EncodingType"):
        result["EncodingType"] = params["EncodingType"]
    if len(uploads) > limit and page:
        result["NextKeyMarker"], result["NextUploadIdMarker"] = page[-1].key, page[-1].upload_id
    return result
