"""S3 Block Public Access at the bucket level: the four settings, S3's test of whether a bucket policy is
public, and where the settings bite.

- BlockPublicPolicy: PutBucketPolicy refuses a public policy (AccessDenied naming the setting).
- RestrictPublicBuckets: while the bucket's policy is public, the policy grants nothing to principals
  outside the bucket owner's account (anonymous callers included).
- BlockPublicAcls / IgnorePublicAcls are stored and reported; rolegate's buckets do not take ACLs at all.

Whether a policy is public is decided in public_policy.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolegate.errors import MalformedXML
from rolegate.services.context import CallContext
from rolegate.services.registry import operation
from rolegate.services.s3.access import authorized_bucket, bucket_arn
from rolegate.services.s3.errors import NoSuchPublicAccessBlockConfiguration
from rolegate.services.s3.public_policy import SETTINGS
from rolegate.store.records import Bucket


def blocked_policy_message(call: CallContext, bucket: Bucket) -> str:
    return (
        f"User: {call.caller.arn} is not authorized to perform: s3:PutBucketPolicy on resource: "
        f'"{bucket_arn(bucket.name)}" because public policies are blocked by the BlockPublicPolicy block '
        "public access setting."
    )


@operation("s3", "PutPublicAccessBlock", auth="handler")
def put_public_access_block(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = authorized_bucket(call, params, "s3:PutBucketPublicAccessBlock")
    configuration = params.get("PublicAccessBlockConfiguration")
    if not isinstance(configuration, dict) or not set(configuration) <= set(SETTINGS):
        raise MalformedXML("The XML you provided was not well-formed or did not validate against our published schema")
    enabled = tuple(name for name in SETTINGS if configuration.get(name) is True)
    call.tx.put(replace(bucket, public_access_block=enabled))
    return {}


@operation("s3", "GetPublicAccessBlock", auth="handler")
def get_public_access_block(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = authorized_bucket(call, params, "s3:GetBucketPublicAccessBlock")
    if bucket.public_access_block is None:
        raise NoSuchPublicAccessBlockConfiguration(
            "The public access block configuration was not found", BucketName=bucket.name
        )
    return {"PublicAccessBlockConfiguration": {name: name in bucket.public_access_block for name in SETTINGS}}


@operation("s3", "DeletePublicAccessBlock", auth="handler")
def delete_public_access_block(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = authorized_bucket(call, params, "s3:PutBucketPublicAccessBlock")
    call.tx.put(replace(bucket, public_access_block=None))
    return {}
