"""The settings every rolegate bucket has, read as S3 answers them for a new bucket (versioning never set,
SSE-S3 default encryption, owner-enforced object ownership, the owner's FULL_CONTROL grant), each read
authorized by its own action; results are checked against botocore's shapes by the world's calls."""

from __future__ import annotations

import pytest
from s3_support import S3World, raises
from services_support import DEV, allow, doc

from rolegate.services.context import Caller
from rolegate.services.s3.access import canonical_id

BUCKET = "settings"
READS = {
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
    "GetBucketAcl": "s3:GetBucketAcl",
}


@pytest.fixture
def root(s3: S3World) -> Caller:
    caller = s3.account(DEV)
    s3.bucket(caller, BUCKET)
    s3.put(caller, BUCKET, "object.txt", b"x")
    return caller


def test_a_new_buckets_settings(s3: S3World, root: Caller) -> None:
    assert s3.s3(root, "GetBucketVersioning", Bucket=BUCKET) == {}
    assert s3.s3(root, "GetBucketEncryption", Bucket=BUCKET) == {
        "ServerSideEncryptionConfiguration": {
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
        }
    }
    assert s3.s3(root, "GetBucketOwnershipControls", Bucket=BUCKET) == {
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    }
    owner = {"ID": canonical_id(DEV)}
    expected_acl = {
        "Owner": owner,
        "Grants": [{"Grantee": {**owner, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}],
    }
    assert s3.s3(root, "GetBucketAcl", Bucket=BUCKET) == expected_acl
    assert s3.s3(root, "GetObjectAcl", Bucket=BUCKET, Key="object.txt") == expected_acl


@pytest.mark.parametrize(("operation", "action"), READS.items())
def test_each_read_needs_its_own_action(s3: S3World, root: Caller, operation: str, action: str) -> None:
    bucket_arn = f"arn:aws:s3:::{BUCKET}"
    others = [a for a in READS.values() if a != action]
    without = s3.user(DEV, "without", doc(allow(others, bucket_arn)))
    with_it = s3.user(DEV, "with", doc(allow(action, bucket_arn)))
    raises("AccessDenied", 403, s3.s3, without, operation, Bucket=BUCKET)
    s3.s3(with_it, operation, Bucket=BUCKET)
    raises("NoSuchBucket", 404, s3.s3, with_it, operation, Bucket="no-such-settings")


def test_an_object_acl_keeps_the_missing_key_rule(s3: S3World, root: Caller) -> None:
    objects = f"arn:aws:s3:::{BUCKET}/*"
    reader = s3.user(DEV, "reader", doc(allow("s3:GetObjectAcl", objects)))
    assert s3.s3(reader, "GetObjectAcl", Bucket=BUCKET, Key="object.txt")["Grants"][0]["Permission"] == "FULL_CONTROL"
    raises("AccessDenied", 403, s3.s3, reader, "GetObjectAcl", Bucket=BUCKET, Key="absent.txt")
    raises("NoSuchKey", 404, s3.s3, root, "GetObjectAcl", Bucket=BUCKET, Key="absent.txt")
    raises("AccessDenied", 403, s3.s3, s3.user(DEV, "nobody"), "GetObjectAcl", Bucket=BUCKET, Key="object.txt")
