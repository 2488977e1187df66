"""CopyObject: s3:GetObject on the source and s3:PutObject on the destination, each with its own bucket's
policy and owner. An inline source's bytes are copied into a new inline blob; a single-file source is copied
by linking its immutable blob; a multipart source is
streamed into one new blob, and the copy's ETag is then the MD5 of the whole object, as S3's is.

Checksums: without `x-amz-checksum-algorithm` the copy keeps the source's algorithm, and its value when that
covers the whole object (the bytes are the same). A multipart source's COMPOSITE value describes parts the
copy does not have, so the copy gets the full-object value in that algorithm; so does a copy that names an
algorithm. Either is hashed from the source's bytes before the write transaction begins.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from rolegate.digests import b64, new_hasher
from rolegate.errors import InvalidArgument, InvalidRequest
from rolegate.services.context import CallContext
from rolegate.services.registry import operation
from rolegate.services.s3.access import (
    authorize,
    bucket_of,
    check_expected_owner,
    get_bucket,
    header_keys,
    object_arn,
    request_tag_keys,
)
from rolegate.services.s3.errors import MAX_PART_SIZE
from rolegate.services.s3.objects import check_write_conditions, etag_of, object_fields, stamp
from rolegate.services.s3.reads import check_copy_conditions, checksum_members, readable_object
from rolegate.services.s3.rules import checksum_algorithm, header_tags
from rolegate.services.s3.storage import (
    StoredBody,
    blobs_of,
    inline_bytes,
    purge,
    release,
    removed_on_error,
    segments,
    stream,
)
from rolegate.store.records import S3Object, Tags

DIRECTIVES = ("COPY", "REPLACE")


def copy_source(value: Any) -> tuple[str, str]:
    """`bucket/key` (URL-encoded, optionally with a leading slash and `?versionId=`) → (bucket, key)."""
    text = str(value or "").split("?", 1)[0].lstrip("/")
    bucket, _, key = text.partition("/")
    if not bucket or not key:
        raise InvalidArgument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            ArgumentName="x-amz-copy-source",
            ArgumentValue=str(value),
        )
    return unquote(bucket), unquote(key)


def _directive(params: dict[str, Any], name: str) -> str:
    value = str(params.get(name) or "COPY")
    if value not in DIRECTIVES:
        raise InvalidArgument(f"Unknown {name.replace('Directive', '').lower()} directive.", ArgumentValue=value)
    return value


def _fields(params: dict[str, Any], source: S3Object) -> dict[str, Any]:
    replace_meta = _directive(params, "MetadataDirective") == "REPLACE"
    replace_tags = _directive(params, "TaggingDirective") == "REPLACE"
    tags = header_tags(params.get("Tagging")) if replace_tags else source.tags
    fields = object_fields(params, tags)
    if not replace_meta:
        fields.update(
            content_type=source.content_type, metadata=source.metadata, headers=source.headers, expires=source.expires
        )
    return fields


def _check_not_self(params: dict[str, Any], same: bool) -> None:
    changes = params.get("MetadataDirective") == "REPLACE" or any(
        params.get(n) for n in ("StorageClass", "ServerSideEncryption", "WebsiteRedirectLocation", "SSEKMSKeyId")
    )
    if same and not changes:
        raise InvalidRequest(
            "This copy request is illegal because it is trying to copy an object to itself without changing the"
            " object's metadata, storage class, website redirect location or encryption attributes."
        )


@operation("s3", "CopyObject", auth="handler")
def copy_object(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    source_bucket_name, source_key = copy_source(params.get("CopySource"))
    key = str(params.get("Key", ""))
    source_bucket = get_bucket(call, source_bucket_name)
    check_expected_owner(source_bucket, params.get("ExpectedSourceBucketOwner"))
    algorithm = checksum_algorithm(params)
    source = readable_object(call, source_bucket, source_key)
    check_copy_conditions(source, params)
    if source.size > MAX_PART_SIZE:
        raise InvalidRequest(
            f"The specified copy source is larger than the maximum allowable size for a copy source: {MAX_PART_SIZE}"
        )
    bucket = bucket_of(call, params)
    _check_not_self(params, (source_bucket.name, source_key) == (bucket.name, key))
    fields = _fields(params, source)
    keys = header_keys(params) | request_tag_keys(fields["tags"])
    authorize(call, "s3:PutObject", object_arn(bucket.name, key), bucket, keys)
    checksum = _copy_checksum(call, source, algorithm)  # before purge(), which may begin the write transaction
    purge(call)
    existing = call.tx.get(S3Object, bucket.name, key)
    check_write_conditions(existing, params, key)
    body, etag = _copied_bytes(call, source)
    with removed_on_error(call, body):
        obj = S3Object(
            bucket.name,
            key,
            body.size,
            etag,
            stamp(call.now),
            blob=body.name,
            checksum=checksum,
            inline=body.data is not None,
            data=body.data,
            **fields,
        )
        call.tx.put(obj)
        if existing is not None:
            release(call, existing)
    copied = {"ETag": obj.etag, "LastModified": obj.last_modified, **checksum_members(obj)}
    return {"CopyObjectResult": copied, "ServerSideEncryption": "AES256"}


def _copy_checksum(call: CallContext, source: S3Object, requested: str) -> Tags:
    """The copy's checksum: the requested algorithm, else the source's; its value copied when the source's
    covers the whole object in that algorithm, else hashed from the bytes."""
    present = source.checksum[0] if source.checksum else None
    algorithm = requested or (present[0] if present else "")
    if not algorithm:
        return ()
    if present is not None and present[0] == algorithm and "-" not in present[1]:
        return (present,)
    hasher = new_hasher(algorithm)
    for chunk in stream(call, source, 0, source.size):
        hasher.update(chunk)
    return ((algorithm, b64(hasher.digest())),)


def _copied_bytes(call: CallContext, source: S3Object) -> tuple[StoredBody, str]:
    """The copy's bytes and ETag: the same inline bytes, a hard link to the same file, or one new file made
    of a multipart source's parts (whose ETag is then the whole object's MD5)."""
    blobs = blobs_of(call)
    if source.inline:
        return StoredBody("", source.size, b"", inline_bytes(call, source)), source.etag
    if source.upload_id:
        info = blobs.concat(segments(call, source))
        return StoredBody(info.name, info.size, info.md5), etag_of(info.md5)
    return StoredBody(blobs.link(source.blob), source.size, b""), source.etag
