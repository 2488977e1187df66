"""Multipart uploads: create, upload part, complete, abort, list parts, list uploads.

Parts are blobs. Completing an upload does not copy bytes: the object keeps the chosen parts as its
segments (reads stream across them), so completing a 5 GiB upload costs a few rows, not 5 GiB of I/O
under the database's write lock. Parts left out of the completion are dropped. The ETag is S3's:
the MD5 of the concatenated binary MD5s of the parts, then `-<number of parts>`.

Flexible checksums follow S3. An upload created with a checksum algorithm keeps each part's checksum (the
one its request was verified against, or, for a FULL_OBJECT upload whose part came without one, the CRC of
its stored bytes) and gives the object a checksum when it completes: COMPOSITE, the algorithm's digest of
the concatenated binary part checksums then `-<number of parts>`; FULL_OBJECT, the CRC of the whole object,
combined from the part CRCs without reading a byte (crc_combine.py). The "-N" of a composite value is how
reads tell the two kinds apart. Uploads created without an algorithm give their objects no checksum.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import quote

from rolegate.digests import CRC_POLYNOMIALS, b64, new_hasher
from rolegate.errors import AwsError, BadDigest, InvalidArgument, InvalidRequest
from rolegate.services.context import CallContext
from rolegate.services.lazy_transaction import get_ahead
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
from rolegate.services.s3.crc_combine import combined_crc, width_bytes
from rolegate.services.s3.errors import (
    MAX_PART_SIZE,
    MIN_PART_SIZE,
    EntityTooSmall,
    InvalidPart,
    InvalidPartOrder,
    malformed_xml,
    no_such_upload,
)
from rolegate.services.s3.objects import check_write_conditions, etag_of, object_fields, stamp, verified_checksum
from rolegate.services.s3.reads import checksum_members, etag_matches
from rolegate.services.s3.rules import checksum_algorithm, max_count, refuse_customer_keys
from rolegate.services.s3.storage import (
    StoredBody,
    blobs_of,
    discard,
    drop_parts,
    parts_of,
    purge,
    release,
    removed_on_error,
    write_body,
)
from rolegate.store.blobs import Segment
from rolegate.store.records import Bucket, MultipartUpload, ObjectPart, S3Object, Tags

MAX_PARTS = 10_000
UPLOAD_ID_LENGTH = 64
COMPOSITE, FULL_OBJECT = "COMPOSITE", "FULL_OBJECT"
# The checksum types each algorithm allows: a composite CRC64NVME and a full-object SHA do not exist in S3.
ALLOWED_ALGORITHMS = {
    COMPOSITE: frozenset({"CRC32", "CRC32C", "SHA1", "SHA256"}),
    FULL_OBJECT: frozenset(CRC_POLYNOMIALS),
}


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
    algorithm, kind = _checksum_settings(params)
    bucket = bucket_of(call, params)
    keys = header_keys(params) | request_tag_keys(fields["tags"])
    authorize(call, "s3:PutObject", object_arn(bucket.name, key), bucket, keys)
    upload_id = call.ids.token(UPLOAD_ID_LENGTH)
    caller = call.caller
    upload = MultipartUpload(
        upload_id,
        bucket.name,
        key,
        stamp(call.now),
        caller.arn,
        caller.user_id,
        **fields,
        checksum_algorithm=algorithm,
        checksum_type=kind,
    )
    call.tx.insert(upload)
    result: dict[str, Any] = {
        "Bucket": bucket.name,
        "Key": key,
        "UploadId": upload_id,
        "ServerSideEncryption": "AES256",
    }
    result.update(_upload_checksum(upload))
    return result


def _checksum_settings(params: Mapping[str, Any]) -> tuple[str, str]:
    """(algorithm, type) of a new upload, with S3's defaults (CRC64NVME is always FULL_OBJECT, the others
    COMPOSITE unless asked) and its refusals; ("", "") for an upload without a checksum."""
    algorithm = checksum_algorithm(params)
    kind = str(params.get("ChecksumType") or "").strip().upper()
    if not algorithm:
        if kind:
            raise InvalidRequest(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
            )
        return "", ""
    if kind and kind not in ALLOWED_ALGORITHMS:
        raise InvalidRequest("Value for x-amz-checksum-type header is invalid.")
    kind = kind or (FULL_OBJECT if algorithm == "CRC64NVME" else COMPOSITE)
    if algorithm not in ALLOWED_ALGORITHMS[kind]:
        raise InvalidRequest(
            f"The {kind} checksum type cannot be used with the {algorithm.lower()} checksum algorithm."
        )
    return algorithm, kind


def _upload_checksum(upload: MultipartUpload) -> dict[str, str]:
    """ChecksumAlgorithm and ChecksumType of an upload created with them (nothing otherwise)."""
    if not upload.checksum_algorithm:
        return {}
    return {"ChecksumAlgorithm": upload.checksum_algorithm, "ChecksumType": upload.checksum_type}


def part_checksum_members(checksum: Tags) -> dict[str, str]:
    """`Checksum<ALGORITHM>` members of a part's response or listing entry."""
    return {f"Checksum{algorithm}": value for algorithm, value in checksum}


def _raw(value: str) -> bytes | None:
    """The digest a base64 checksum value encodes; None for text that is not base64."""
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


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
        claimed = verified_checksum(params.get("Body"))
        computed = () if claimed else _computed_ahead(call, params, info)
        _, upload = _upload(call, params, "s3:PutObject")
        checksum = _part_checksum(call, upload, claimed, computed, info)
        purge(call)
        previous = call.tx.get(ObjectPart, upload.upload_id, str(number))
        part = ObjectPart(
            upload.upload_id, number, info.name, info.size, etag_of(info.md5), stamp(call.now), checksum=checksum
        )
        call.tx.put(part)
        if previous is not None:
            discard(call, previous.blob)
    result: dict[str, Any] = {"ETag": part.etag, "ServerSideEncryption": "AES256"}
    result.update(part_checksum_members(part.checksum))
    return result


def _computed_ahead(call: CallContext, params: Mapping[str, Any], info: StoredBody) -> Tags:
    """The CRC of a part sent without a checksum to a FULL_OBJECT upload, hashed from its stored bytes before
    the write transaction begins (the upload's checksum settings never change, so reading them ahead is safe;
    `_part_checksum` decides with the upload read inside)."""
    upload_id = str(params.get("UploadId") or "")
    ahead = get_ahead(call.tx, MultipartUpload, upload_id) if upload_id else None
    if ahead is None or ahead.checksum_type != FULL_OBJECT:
        return ()
    if (ahead.bucket, ahead.key) != (params.get("Bucket"), params.get("Key")):
        return ()  # not this request's upload: `_upload` refuses it
    return _hash_stored(call, ahead.checksum_algorithm, info)


def _hash_stored(call: CallContext, algorithm: str, info: StoredBody) -> Tags:
    hasher = new_hasher(algorithm)
    for chunk in blobs_of(call).read([Segment(info.name, 0, info.size)]):
        hasher.update(chunk)
    return ((algorithm, b64(hasher.digest())),)


def _part_checksum(call: CallContext, upload: MultipartUpload, claimed: Tags, computed: Tags, info: StoredBody) -> Tags:
    """The checksum a part keeps: the verified one its request carried, which must be in the upload's
    algorithm when it has one; a COMPOSITE upload's part must carry one, a FULL_OBJECT upload's part that
    does not gets the CRC of its bytes."""
    algorithm = upload.checksum_algorithm
    if not algorithm:
        return claimed
    if claimed:
        if claimed[0][0] != algorithm:
            raise _type_mismatch(algorithm, claimed[0][0])
        return claimed
    if upload.checksum_type != FULL_OBJECT:
        raise _type_mismatch(algorithm, None)
    if computed and computed[0][0] == algorithm:
        return computed
    return _hash_stored(call, algorithm, info)  # the upload was not seen ahead: hashed under the write lock


def _type_mismatch(expected: str, actual: str | None) -> AwsError:
    return InvalidRequest(
        f"Checksum Type mismatch occurred, expected checksum Type: {expected.lower()}, actual checksum Type: "
        f"{actual.lower() if actual else 'null'}"
    )


class _Requested(NamedTuple):
    """A part as the complete request lists it."""

    number: int
    etag: str
    item: Mapping[str, Any]  # the whole entry, with its Checksum<ALGORITHM> members


def _requested_parts(params: Mapping[str, Any], upload_id: str) -> list[_Requested]:
    request = params.get("MultipartUpload")
    parts = request.get("Parts") if isinstance(request, Mapping) else None
    if not isinstance(parts, list) or not parts or len(parts) > MAX_PARTS:
        raise malformed_xml()
    chosen: list[_Requested] = []
    for item in parts:
        number = item.get("PartNumber") if isinstance(item, Mapping) else None
        etag = item.get("ETag") if isinstance(item, Mapping) else None
        if not isinstance(number, int) or not isinstance(etag, str):
            raise malformed_xml()
        if chosen and number <= chosen[-1].number:
            raise InvalidPartOrder(
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
                UploadId=upload_id,
            )
        chosen.append(_Requested(number, etag, item))
    return chosen


def _check_request_checksums(params: Mapping[str, Any], upload: MultipartUpload, requested: list[_Requested]) -> None:
    """An upload with an algorithm is completed in its checksum type, with each part's checksum listed."""
    algorithm = upload.checksum_algorithm
    if not algorithm:
        return
    kind = str(params.get("ChecksumType") or "").strip().upper()
    if kind and kind != upload.checksum_type:
        raise InvalidRequest(
            f"The upload was created using the {upload.checksum_type} checksum mode. The complete request must use"
            " the same checksum mode."
        )
    for part in requested:
        if not part.item.get(f"Checksum{algorithm}"):
            raise InvalidRequest(
                f"The upload was created using a {algorithm.lower()} checksum. The complete request must include the"
                f" checksum for each part. It was missing for part {part.number} in the request."
            )


def _same_checksum(upload: MultipartUpload, part: ObjectPart, requested: _Requested) -> bool:
    """Whether the listed checksum is the part's (always, for an upload without an algorithm)."""
    algorithm = upload.checksum_algorithm
    if not algorithm:
        return True
    stored = dict(part.checksum).get(algorithm)
    listed = requested.item.get(f"Checksum{algorithm}")
    if stored is None or not isinstance(listed, str):
        return False
    raw = _raw(listed)
    return raw is not None and raw == _raw(stored)


def _chosen_parts(call: CallContext, upload: MultipartUpload, requested: list[_Requested]) -> list[ObjectPart]:
    stored = {p.part_number: p for p in parts_of(call, upload.upload_id)}
    chosen: list[ObjectPart] = []
    for index, wanted in enumerate(requested):
        number, etag = wanted.number, wanted.etag
        part = stored.get(number)
        if (
            part is None
            or not etag_matches(etag, part.etag)
            or etag.strip() == "*"
            or not _same_checksum(upload, part, wanted)
        ):
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
    requested = _requested_parts(params, upload.upload_id)
    _check_request_checksums(params, upload, requested)
    chosen = _chosen_parts(call, upload, requested)
    checksum = _object_checksum(upload, chosen)
    _check_object_checksum(params, checksum)
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
        checksum=checksum,
    )
    call.tx.delete(MultipartUpload, upload.upload_id)
    call.tx.put(obj)
    if existing is not None:
        release(call, existing)
    result: dict[str, Any] = {
        "Location": f"/{bucket.name}/{quote(upload.key)}",
        "Bucket": bucket.name,
        "Key": upload.key,
        "ETag": obj.etag,
        "ServerSideEncryption": "AES256",
    }
    result.update(checksum_members(obj))
    return result


def _object_checksum(upload: MultipartUpload, chosen: list[ObjectPart]) -> Tags:
    """The completed object's checksum, from the part checksums `_chosen_parts` matched (S3Object.checksum)."""
    algorithm = upload.checksum_algorithm
    if not algorithm:
        return ()
    digests = [_raw(dict(part.checksum)[algorithm]) or b"" for part in chosen]
    if upload.checksum_type == FULL_OBJECT:
        pieces = ((int.from_bytes(raw, "big"), part.size) for raw, part in zip(digests, chosen, strict=True))
        whole = combined_crc(algorithm, pieces).to_bytes(width_bytes(algorithm), "big")
        return ((algorithm, b64(whole)),)
    hasher = new_hasher(algorithm)
    for raw in digests:
        hasher.update(raw)
    return ((algorithm, f"{b64(hasher.digest())}-{len(chosen)}"),)


def _check_object_checksum(params: Mapping[str, Any], checksum: Tags) -> None:
    """A whole-object checksum sent with the complete request (x-amz-checksum-*) must be the one computed;
    a composite one may come with or without its "-N". An upload without an algorithm computes none, and
    the header is let pass, as it always was."""
    if not checksum:
        return
    algorithm, value = checksum[0]
    for member, sent in params.items():
        if not member.startswith("Checksum") or member == "ChecksumType" or not sent:
            continue
        sent_algorithm = member.removeprefix("Checksum")
        if sent_algorithm != algorithm:
            raise _type_mismatch(algorithm, sent_algorithm)
        if str(sent).strip() not in {value, value.partition("-")[0]}:
            raise BadDigest(f"The {algorithm} you specified did not match the calculated checksum.")


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
    page, paging = paged_parts(parts_of(call, upload.upload_id), params)
    result: dict[str, Any] = {
        "Bucket": bucket.name,
        "Key": upload.key,
        "UploadId": upload.upload_id,
        **paging,
        "Parts": [
            {
                "PartNumber": p.part_number,
                "LastModified": p.last_modified,
                "ETag": p.etag,
                "Size": p.size,
                **part_checksum_members(p.checksum),
            }
            for p in page
        ],
        "Initiator": {"ID": upload.initiator_arn, "DisplayName": upload.initiator_arn.rsplit("/", 1)[-1]},
        "Owner": owner(bucket.account_id),
        "StorageClass": "STANDARD",
        **_upload_checksum(upload),
    }
    return result


def paged_parts(parts: list[ObjectPart], params: Mapping[str, Any]) -> tuple[list[ObjectPart], dict[str, Any]]:
    """The page of `parts` after `PartNumberMarker`, at most `MaxParts` long, and the paging members
    (PartNumberMarker, MaxParts, IsTruncated, NextPartNumberMarker) ListParts and GetObjectAttributes answer."""
    limit = max_count(params, "MaxParts")
    marker = params.get("PartNumberMarker") or 0
    after = [part for part in parts if part.part_number > marker]
    page = after[:limit]
    paging: dict[str, Any] = {"PartNumberMarker": marker, "MaxParts": limit, "IsTruncated": len(after) > limit}
    if page:
        paging["NextPartNumberMarker"] = page[-1].part_number
    return page, paging


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
        **_upload_checksum(upload),
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
