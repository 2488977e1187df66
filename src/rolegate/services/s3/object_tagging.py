"""Object tags: put (replace the whole set), get, delete. Policies see the current tags as
`s3:ExistingObjectTag/<key>` and the requested ones as `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.registry import operation
from rolegate.services.s3.access import bucket_of, request_tag_keys
from rolegate.services.s3.reads import readable_object
from rolegate.services.s3.rules import MAX_OBJECT_TAGS, tag_list, tag_set


@operation("s3", "PutObjectTagging", auth="handler")
def put_object_tagging(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    tags = tag_set(params.get("Tagging"), MAX_OBJECT_TAGS, "Object")
    bucket = bucket_of(call, params)
    key = str(params.get("Key", ""))
    obj = readable_object(call, bucket, key, "s3:PutObjectTagging", request_tag_keys(tags))
    call.tx.put(replace(obj, tags=tags))
    return {}


@operation("s3", "GetObjectTagging", auth="handler")
def get_object_tagging(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(call, params)
    obj = readable_object(call, bucket, str(params.get("Key", "")), "s3:GetObjectTagging")
    return {"TagSet": tag_list(obj.tags)}


@operation("s3", "DeleteObjectTagging", auth="handler")
def delete_object_tagging(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(call, params)
    obj = readable_object(call, bucket, str(params.get("Key", "")), "s3:DeleteObjectTagging")
    call.tx.put(replace(obj, tags=()))
    return {}
