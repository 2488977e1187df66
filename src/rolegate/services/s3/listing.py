"""ListObjects, ListObjectsV2 and ListObjectVersions: prefix, delimiter (common prefixes), max-keys,
markers, continuation tokens and start-after, in UTF-8 binary key order. With `encoding-type=url` the result
says so, and the rest-xml codec percent-encodes the key fields as S3 does.

The first two are `s3:ListBucket`, ListObjectVersions is `s3:ListBucketVersions`, all with the condition keys
`s3:prefix` ("" when absent, so policies can allow the bucket's top level), `s3:delimiter` and `s3:max-keys`
when given. Versioning is never enabled, so each object has one version, whose id is "null" as in any bucket
that never had versioning: that is what cleanup code (boto3's `bucket.object_versions.delete()`, Terraform's
force_destroy) reads before it deletes.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from rolegate.errors import InvalidArgument
from rolegate.services.context import CallContext
from rolegate.services.registry import operation
from rolegate.services.s3.access import authorize, bucket_arn, bucket_of, owner
from rolegate.services.s3.objects import NULL_VERSION
from rolegate.services.s3.rules import max_count
from rolegate.store.records import Bucket, S3Object

TOKEN_PREFIX = "1/"


@dataclass
class Page:
    contents: list[S3Object] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str = ""


def list_page(objects: list[S3Object], prefix: str, delimiter: str, after: str, limit: int) -> Page:
    """One page of keys after `after`; keys sharing a prefix up to the delimiter roll up into one entry."""
    page = Page()
    for obj in objects:
        key = obj.key
        if key <= after or not key.startswith(prefix):
            continue
        rolled = ""
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            rolled = key[: cut + len(delimiter)] if cut >= 0 else ""
            if rolled and (rolled == after or (page.prefixes and page.prefixes[-1] == rolled)):
                continue
        if len(page.contents) + len(page.prefixes) >= limit:
            page.truncated = limit > 0
            break
        if rolled:
            page.prefixes.append(rolled)
        else:
            page.contents.append(obj)
        page.last = rolled or key
    return page


def _check_encoding(params: dict[str, Any]) -> None:
    """`encoding-type=url` is echoed in the result; the codec percent-encodes the key fields S3 encodes."""
    encoding = params.get("EncodingType")
    if encoding is not None and encoding != "url":
        raise InvalidArgument("Invalid Encoding Method specified in Request", ArgumentName="encoding-type")


def _listing(
    call: CallContext, params: dict[str, Any], action: str = "s3:ListBucket"
) -> tuple[Bucket, list[S3Object], str, str, int]:
    bucket = bucket_of(call, params)
    prefix = str(params.get("Prefix") or "")
    delimiter = str(params.get("Delimiter") or "")
    limit = max_count(params, "MaxKeys")
    keys: dict[str, Any] = {"s3:prefix": prefix}
    if delimiter:
        keys["s3:delimiter"] = delimiter
    if params.get("MaxKeys") is not None:
        keys["s3:max-keys"] = str(params["MaxKeys"])
    authorize(call, action, bucket_arn(bucket.name), bucket, keys)
    objects = sorted(call.tx.find(S3Object, bucket=bucket.name), key=lambda o: o.key)
    return bucket, objects, prefix, delimiter, limit


def _entry(obj: S3Object, with_owner: bool, account: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Key": obj.key,
        "LastModified": obj.last_modified,
        "ETag": obj.etag,
        "Size": obj.size,
        "StorageClass": "STANDARD",
    }
    if with_owner:
        entry["Owner"] = owner(account)
    return entry


def _common(bucket: Bucket, page: Page, params: dict[str, Any], with_owner: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "Name": bucket.name,
        "Prefix": str(params.get("Prefix") or ""),
        "MaxKeys": max_count(params, "MaxKeys"),
        "IsTruncated": page.truncated,
    }
    if page.contents:
        result["Contents"] = [_entry(o, with_owner, bucket.account_id) for o in page.contents]
    if page.prefixes:
        result["CommonPrefixes"] = [{"Prefix": p} for p in page.prefixes]
    if params.get("Delimiter"):
        result["Delimiter"] = str(params["Delimiter"])
    if params.get("EncodingType"):
        result["EncodingType"] = params["EncodingType"]
    return result


def _token(key: str) -> str:
    return base64.urlsafe_b64encode((TOKEN_PREFIX + key).encode("utf-8")).decode("ascii")


def _untoken(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text.startswith(TOKEN_PREFIX):
        raise InvalidArgument("The continuation token provided is incorrect", ArgumentName="continuation-token")
    return text[len(TOKEN_PREFIX) :]


@operation("s3", "ListObjectsV2", auth="handler")
def list_objects_v2(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    _check_encoding(params)
    token = params.get("ContinuationToken")
    resumed = _untoken(str(token)) if token else ""
    bucket, objects, prefix, delimiter, limit = _listing(call, params)
    start_after = str(params.get("StartAfter") or "")
    page = list_page(objects, prefix, delimiter, max(resumed, start_after), limit)
    result = _common(bucket, page, params, bool(params.get("FetchOwner")))
    result["KeyCount"] = len(page.contents) + len(page.prefixes)
    if token:
        result["ContinuationToken"] = token
    if start_after:
        result["StartAfter"] = start_after
    if page.truncated:
        result["NextContinuationToken"] = _token(page.last)
    return result


@operation("s3", "ListObjects", auth="handler")
def list_objects(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    _check_encoding(params)
    bucket, objects, prefix, delimiter, limit = _listing(call, params)
    marker = str(params.get("Marker") or "")
    page = list_page(objects, prefix, delimiter, marker, limit)
    result = _common(bucket, page, params, True)
    result["Marker"] = marker
    if page.truncated and delimiter:
        result["NextMarker"] = page.last
    return result


@operation("s3", "ListObjectVersions", auth="handler")
def list_object_versions(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    _check_encoding(params)
    key_marker = str(params.get("KeyMarker") or "")
    version_marker = params.get("VersionIdMarker")
    if version_marker and not key_marker:
        raise InvalidArgument(
            "A version-id marker cannot be specified without a key marker.",
            ArgumentName="version-id-marker",
            ArgumentValue=str(version_marker),
        )
    if version_marker and version_marker != NULL_VERSION:
        raise InvalidArgument("Invalid version id specified", ArgumentName="version-id-marker")
    bucket, objects, prefix, delimiter, limit = _listing(call, params, "s3:ListBucketVersions")
    page = list_page(objects, prefix, delimiter, key_marker, limit)
    result = _common(bucket, page, params, True)
    result["KeyMarker"] = key_marker
    if version_marker is not None:
        result["VersionIdMarker"] = str(version_marker)
    versions = result.pop("Contents", [])
    if versions:
        result["Versions"] = [{**entry, "VersionId": NULL_VERSION, "IsLatest": True} for entry in versions]
    if page.truncated:
        result["NextKeyMarker"] = page.last
        if page.contents and page.contents[-1].key == page.last:
            result["NextVersionIdMarker"] = NULL_VERSION
    return result
