"""Buckets: list, create (names are global), head, delete, location, and bucket tags.

Bucket names are one namespace across every account, so existence is not a secret: a missing bucket is
NoSuchBucket whoever asks, and authorization decides only about buckets that exist.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from typing import Any

from rolegate.errors import InvalidArgument
from rolegate.services.context import CallContext
from rolegate.services.registry import operation
from rolegate.services.s3.access import authorize, authorized_bucket, bucket_arn, header_keys, owner
from rolegate.services.s3.errors import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    IllegalLocationConstraintException,
    InvalidLocationConstraint,
    NoSuchTagSet,
    TooManyBuckets,
    access_denied,
)
from rolegate.services.s3.public_policy import SETTINGS as PUBLIC_ACCESS_DEFAULTS
from rolegate.services.s3.rules import MAX_BUCKET_TAGS, check_bucket_name, max_count, tag_list, tag_set
from rolegate.services.s3.storage import drop_parts, parts_of, purge
from rolegate.store.interface import Conflict
from rolegate.store.records import Bucket, MultipartUpload, S3Object

DEFAULT_REGION = "us-east-1"
MAX_BUCKETS_PER_ACCOUNT = 10_000


def _location_region(call: CallContext, params: dict[str, Any]) -> str:
    """The bucket's region: the LocationConstraint, which must match the endpoint's region as in S3."""
    configuration = params.get("CreateBucketConfiguration") or {}
    constraint = configuration.get("LocationConstraint") if isinstance(configuration, dict) else None
    if constraint == DEFAULT_REGION:
        raise InvalidLocationConstraint("The specified location-constraint is not valid", LocationConstraint=constraint)
    if constraint and constraint != call.region:
        raise IllegalLocationConstraintException(
            f"The {constraint} location constraint is incompatible for the region specific endpoint this request"
            " was sent to."
        )
    if not constraint and call.region != DEFAULT_REGION:
        raise IllegalLocationConstraintException(
            "The unspecified location constraint is incompatible for the region specific endpoint this request"
            " was sent to."
        )
    return str(constraint or DEFAULT_REGION)


@operation("s3", "CreateBucket", auth="handler")
def create_bucket(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    name = str(params.get("Bucket", ""))
    check_bucket_name(name)
    region = _location_region(call, params)
    keys = header_keys(params) | ({"s3:LocationConstraint": region} if region != DEFAULT_REGION else {})
    if call.caller.kind == "anonymous":
        raise access_denied()
    authorize(call, "s3:CreateBucket", bucket_arn(name), None, keys)
    existing = call.tx.get(Bucket, name)
    if existing is not None:
        if existing.account_id != call.caller.account_id:
            raise BucketAlreadyExists(
                "The requested bucket name is not available. The bucket namespace is shared by all users of the"
                " system. Please select a different name and try again.",
                BucketName=name,
            )
        if existing.region != DEFAULT_REGION:
            raise BucketAlreadyOwnedByYou(
                "Your previous request to create the named bucket succeeded and you already own it.", BucketName=name
            )
        return {"Location": f"/{name}"}  # us-east-1 answers 200 for the owner, for legacy compatibility
    if call.tx.count(Bucket, account_id=call.caller.account_id) >= MAX_BUCKETS_PER_ACCOUNT:
        raise TooManyBuckets("You have attempted to create more buckets than allowed")
    try:
        call.tx.insert(
            Bucket(
                name,
                call.caller.account_id,
                region,
                call.now.replace(microsecond=0),
                public_access_block=PUBLIC_ACCESS_DEFAULTS,  # S3's default for new buckets since April 2023
            )
        )
    except Conflict as error:  # a concurrent create of the same name won
        raise BucketAlreadyExists("The requested bucket name is not available.", BucketName=name) from error
    return {"Location": f"/{name}"}


def _token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii")


def _untoken(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise InvalidArgument(
            "The continuation token provided is incorrect", ArgumentName="continuation-token"
        ) from error


@operation("s3", "ListBuckets", auth="handler")
def list_buckets(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    if call.caller.kind == "anonymous":
        raise access_denied()
    authorize(call, "s3:ListAllMyBuckets", "*", None)
    prefix = str(params.get("Prefix") or "")
    after = _untoken(params["ContinuationToken"]) if params.get("ContinuationToken") else ""
    region = params.get("BucketRegion")
    buckets = [
        b
        for b in call.tx.find(Bucket, account_id=call.caller.account_id)
        if b.name.startswith(prefix) and b.name > after and (not region or b.region == region)
    ]
    buckets.sort(key=lambda b: b.name)
    limit = max_count(params, "MaxBuckets", default=10_000, cap=10_000)
    page = buckets[:limit]
    result: dict[str, Any] = {
        "Buckets": [{"Name": b.name, "CreationDate": b.created, "BucketRegion": b.region} for b in page],
        "Owner": owner(call.caller.account_id),
    }
    if prefix:
        result["Prefix"] = prefix
    if len(buckets) > limit and page:
        result["ContinuationToken"] = _token(page[-1].name)
    return result


@operation("s3", "HeadBucket", auth="handler")
def head_bucket(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = authorized_bucket(call, params, "s3:ListBucket")
    return {"BucketRegion": bucket.region, "AccessPointAlias": False}


@operation("s3", "DeleteBucket", auth="handler")
def delete_bucket(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = authorized_bucket(call, params, "s3:DeleteBucket")
    purge(call)
    if call.tx.count(S3Object, bucket=bucket.name):
        raise BucketNotEmpty("The bucket you tried to delete is not empty", BucketName=bucket.name)
    for upload in call.tx.find(MultipartUpload, bucket=bucket.name):
        drop_parts(call, parts_of(call, upload.upload_id))
        call.tx.delete(MultipartUpload, upload.upload_id)
    call.tx.delete(Bucket, bucket.name)
    return {}


@operation("s3", "GetBucketLocation", auth="handler")
def get_bucket_location(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = authorized_bucket(call, params, "s3:GetBucketLocation")
    return {"LocationConstraint": "" if bucket.region == DEFAULT_REGION else bucket.region}


@operation("s3", "PutBucketTagging", auth="handler")
def put_bucket_tagging(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = authorized_bucket(call, params, "s3:PutBucketTagging")
    tags = tag_set(params.get("Tagging"), MAX_BUCKET_TAGS, "Bucket")
    call.tx.put(replace(bucket, tags=tags))
    return {}


@operation("s3", "GetBucketTagging", auth="handler")
def get_bucket_tagging(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = authorized_bucket(call, params, "s3:GetBucketTagging")
    if not bucket.tags:
        raise NoSuchTagSet("The TagSet does not exist", BucketName=bucket.name)
    return {"TagSet": tag_list(bucket.tags)}


@operation("s3", "DeleteBucketTagging", auth="handler")
def delete_bucket_tagging(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = authorized_bucket(call, params, "s3:PutBucketTagging")
    call.tx.put(replace(bucket, tags=()))
    return {}
