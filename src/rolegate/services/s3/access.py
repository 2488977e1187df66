"""Authorizing S3 requests: the action, the bucket or object ARN, the bucket owner's account, the bucket
policy as the resource policy, and S3's condition keys; denials become S3's bare "Access Denied".

Every S3 handler authorizes itself through `authorize` (the registry marks them auth="handler") because the
bucket policy has to be loaded first. Anonymous callers are evaluated against the bucket policy alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from rolegate.policy import Decision
from rolegate.services.context import CallContext
from rolegate.services.lazy_transaction import cached_get, get_ahead, unchanged_since_ahead
from rolegate.services.s3.errors import access_denied, no_such_bucket
from rolegate.services.s3.public_policy import restricts
from rolegate.store.records import Bucket, S3Object, Tags

# Request parameters (botocore member names) that S3 exposes as `s3:x-amz-*` condition keys.
HEADER_KEYS = {
    "ACL": "s3:x-amz-acl",
    "ServerSideEncryption": "s3:x-amz-server-side-encryption",
    "SSEKMSKeyId": "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "SSECustomerAlgorithm": "s3:x-amz-server-side-encryption-customer-algorithm",
    "StorageClass": "s3:x-amz-storage-class",
    "MetadataDirective": "s3:x-amz-metadata-directive",
    "CopySource": "s3:x-amz-copy-source",
    "WebsiteRedirectLocation": "s3:x-amz-website-redirect-location",
    "GrantRead": "s3:x-amz-grant-read",
    "GrantWrite": "s3:x-amz-grant-write",
    "GrantReadACP": "s3:x-amz-grant-read-acp",
    "GrantWriteACP": "s3:x-amz-grant-write-acp",
    "GrantFullControl": "s3:x-amz-grant-full-control",
    "ObjectLockMode": "s3:object-lock-mode",
    "ObjectLockLegalHoldStatus": "s3:object-lock-legal-hold",
    "ObjectOwnership": "s3:x-amz-object-ownership",
}


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def canonical_id(account_id: str) -> str:
    """A stable 64-hex canonical user id per account (S3 shows these as owners)."""
    return hashlib.sha256(f"rolegate-canonical-user:{account_id}".encode()).hexdigest()


def header_keys(params: Mapping[str, Any]) -> dict[str, Any]:
    return {key: str(params[name]) for name, key in HEADER_KEYS.items() if params.get(name) is not None}


def existing_tag_keys(obj: S3Object | None) -> dict[str, Any]:
    return {f"s3:ExistingObjectTag/{k}": v for k, v in obj.tags} if obj is not None else {}


def request_tag_keys(tags: Tags) -> dict[str, Any]:
    keys: dict[str, Any] = {f"s3:RequestObjectTag/{k}": v for k, v in tags}
    if tags:
        keys["s3:RequestObjectTagKeys"] = [k for k, _ in tags]
    return keys


def decide(
    call: CallContext, action: str, resource: str, bucket: Bucket | None, keys: dict[str, Any] | None = None
) -> Decision:
    """The engine's decision, recorded on the call (so audit and explain see it) but not raised."""
    account = bucket.account_id if bucket is not None else call.caller.account_id
    policy = (bucket_arn(bucket.name), bucket.policy) if bucket is not None and bucket.policy else None
    if policy is not None and bucket is not None and restricts(bucket, call.caller.account_id):
        policy = None  # RestrictPublicBuckets: a public policy grants nothing outside the owner's account
    merged = {"s3:ResourceAccount": account, **(keys or {})} if account else dict(keys or {})
    decision: Decision = call.authorizer.decide(
        call, action, resource, resource_account=account, resource_policy=policy, keys=merged
    )
    call.decisions.append(decision)
    return decision


def authorize(
    call: CallContext, action: str, resource: str, bucket: Bucket | None, keys: dict[str, Any] | None = None
) -> None:
    """Raise S3's AccessDenied unless the engine allows `action` on `resource`."""
    if not decide(call, action, resource, bucket, keys).allowed:
        raise access_denied()


def get_bucket(call: CallContext, name: str, *, ahead: bool = False) -> Bucket:
    """The bucket (from the read cache for reads); `ahead`: read before a write call's transaction begins,
    to be confirmed with `still_current` inside it."""
    if not name:
        raise no_such_bucket(name)
    bucket = get_ahead(call.tx, Bucket, name) if ahead else cached_get(call.tx, Bucket, name)
    if bucket is None:
        raise no_such_bucket(name)
    return bucket


def still_current(call: CallContext, bucket: Bucket, recheck: Callable[[Bucket], None]) -> Bucket:
    """Inside the write transaction: the bucket read ahead, if it is unchanged; else its current record,
    which `recheck` authorizes again (its policy or owner may have changed meanwhile)."""
    if unchanged_since_ahead(call.tx, Bucket, bucket.name):
        return bucket  # no bucket has been written since it was read: no need to read it again
    current = call.tx.get(Bucket, bucket.name)
    if current is None:
        raise no_such_bucket(bucket.name)
    if current != bucket:
        recheck(current)
    return current


def owner(account_id: str) -> dict[str, str]:
    return {"ID": canonical_id(account_id)}


def bucket_of(call: CallContext, params: Mapping[str, Any], *, ahead: bool = False) -> Bucket:
    """The request's bucket; a caller that names an expected owner other than the real one is refused."""
    bucket = get_bucket(call, str(params.get("Bucket") or ""), ahead=ahead)
    check_expected_owner(bucket, params.get("ExpectedBucketOwner"))
    return bucket


def authorized_bucket(call: CallContext, params: Mapping[str, Any], action: str) -> Bucket:
    """The request's bucket, once `action` on it is allowed (the bucket-level operations)."""
    bucket = bucket_of(call, params)
    authorize(call, action, bucket_arn(bucket.name), bucket)
    return bucket


def check_expected_owner(bucket: Bucket, expected: Any) -> None:
    if expected and expected != bucket.account_id:
        raise access_denied()
