"""Bucket and object settings rolegate's buckets always have, answered as S3 answers for a new bucket.

Tools read these before they do anything else (Terraform's bucket resource reads versioning, encryption and
the ACL; consoles show them), so a 501 there stops them although nothing is configured. Each read is
authorized with its own action, like any S3 call:

- GetBucketVersioning: never enabled (PutBucketVersioning stays unimplemented), so no Status, as S3 answers
  for a bucket whose versioning was never set.
- GetBucketEncryption: SSE-S3 (AES256) without a bucket key, S3's default encryption for every bucket
  since January 2023; objects are answered with `x-amz-server-side-encryption: AES256` to match.
- GetBucketOwnershipControls: BucketOwnerEnforced, the default for new buckets since April 2023, which is
  why ACLs other than the owner's are refused.
- GetBucketAcl / GetObjectAcl: with ownership enforced, the owner's FULL_CONTROL grant alone.
"""

from __future__ import annotations

from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.registry import operation
from rolegate.services.s3.access import authorized_bucket, bucket_of, owner
from rolegate.services.s3.reads import readable_object

DEFAULT_ENCRYPTION = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}


def owner_only_acl(account_id: str) -> dict[str, Any]:
    grantee = {**owner(account_id), "Type": "CanonicalUser"}
    return {"Owner": owner(account_id), "Grants": [{"Grantee": grantee, "Permission": "FULL_CONTROL"}]}


@operation("s3", "GetBucketVersioning", auth="handler")
def get_bucket_versioning(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized_bucket(call, params, "s3:GetBucketVersioning")
    return {}


@operation("s3", "GetBucketEncryption", auth="handler")
def get_bucket_encryption(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized_bucket(call, params, "s3:GetEncryptionConfiguration")
    return {"ServerSideEncryptionConfiguration": {"Rules": [DEFAULT_ENCRYPTION]}}


@operation("s3", "GetBucketOwnershipControls", auth="handler")
def get_bucket_ownership_controls(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized_bucket(call, params, "s3:GetBucketOwnershipControls")
    return {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}


@operation("s3", "GetBucketAcl", auth="handler")
def get_bucket_acl(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = authorized_bucket(call, params, "s3:GetBucketAcl")
    return owner_only_acl(bucket.account_id)


@operation("s3", "GetObjectAcl", auth="handler")
def get_object_acl(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = bucket_of(call, params)
    readable_object(call, bucket, str(params.get("Key", "")), action="s3:GetObjectAcl")
    return owner_only_acl(bucket.account_id)
