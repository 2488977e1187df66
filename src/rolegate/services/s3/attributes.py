"""GetObjectAttributes: an object's ETag, checksum, parts, storage class and size in one XML document.

S3 needs both s3:GetObject and s3:GetObjectAttributes (s3:GetObjectVersion and s3:GetObjectVersionAttributes
for a named version), and keeps its missing-key rule (NoSuchKey only for
callers who may list the bucket). The answer differs from HeadObject's in ways clients notice: the ETag
comes without its quotes, a multipart object's checksum without its "-<parts>" suffix (the part count is
in ObjectParts), and parts are listed only when they carry checksums; otherwise ObjectParts holds just
the count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolegate.errors import InvalidArgument, InvalidRequest
from rolegate.services.context import CallContext
from rolegate.services.registry import operation
from rolegate.services.s3.access import authorize, bucket_of, existing_tag_keys, object_arn
from rolegate.services.s3.multipart import paged_parts, part_checksum_members
from rolegate.services.s3.objects import NULL_VERSION, versioned_action
from rolegate.services.s3.reads import checksum_members, readable_object
from rolegate.services.s3.rules import refuse_customer_keys
from rolegate.services.s3.storage import parts_of
from rolegate.store.records import S3Object

ATTRIBUTES = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")


def requested_attributes(params: Mapping[str, Any]) -> set[str]:
    """The attributes asked for. Names S3 does not know are ignored beside known ones and refused alone."""
    names = [str(name).strip() for name in params.get("ObjectAttributes") or () if str(name).strip()]
    if not names:
        raise InvalidRequest(
            "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty"
        )
    known = {name for name in names if name in ATTRIBUTES}
    if not known:
        raise InvalidArgument(
            "Invalid attribute name specified.", ArgumentName="x-amz-object-attributes", ArgumentValue=names[0]
        )
    return known


@operation("s3", "GetObjectAttributes", auth="handler")
def get_object_attributes(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    wanted = requested_attributes(params)
    refuse_customer_keys(params)
    version_id = params.get("VersionId")
    bucket = bucket_of(call, params)
    key = str(params.get("Key", ""))
    obj = readable_object(call, bucket, key, versioned_action(version_id, "s3:GetObject", "s3:GetObjectVersion"))
    attributes_action = versioned_action(version_id, "s3:GetObjectAttributes", "s3:GetObjectVersionAttributes")
    authorize(call, attributes_action, object_arn(bucket.name, key), bucket, existing_tag_keys(obj))
    result: dict[str, Any] = {"LastModified": obj.last_modified}
    if version_id is not None:
        result["VersionId"] = NULL_VERSION
    if "ETag" in wanted:
        result["ETag"] = obj.etag.strip('"')
    if "Checksum" in wanted and obj.checksum:
        result["Checksum"] = {name: value.split("-", 1)[0] for name, value in checksum_members(obj).items()}
    if "ObjectParts" in wanted and obj.upload_id:
        result["ObjectParts"] = _object_parts(call, obj, params)
    if "StorageClass" in wanted:
        result["StorageClass"] = "STANDARD"
    if "ObjectSize" in wanted:
        result["ObjectSize"] = obj.size
    return result


def _object_parts(call: CallContext, obj: S3Object, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a completed multipart upload: listed (a page at a time) when they have checksums."""
    parts = parts_of(call, obj.upload_id)
    summary: dict[str, Any] = {"TotalPartsCount": obj.parts_count or len(parts)}
    if not any(part.checksum for part in parts):
        return summary
    page, paging = paged_parts(parts, params)
    summary.update(paging)
    summary["Parts"] = [
        {"PartNumber": part.part_number, "Size": part.size, **part_checksum_members(part.checksum)} for part in page
    ]
    return summary
