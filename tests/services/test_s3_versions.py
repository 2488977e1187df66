"""Object versions in buckets that never had versioning, on every store: ListObjectVersions lists each object
once with version id "null" (paged by key marker, with S3's marker refusals), and deleting version "null" is
s3:DeleteObjectVersion, alone or in DeleteObjects, while other ids name no version."""

from __future__ import annotations

from typing import Any

import pytest
from s3_support import S3World, raises
from services_support import DEV, allow, doc

from rolegate.services.context import Caller

BUCKET = "versions"
ARN = f"arn:aws:s3:::{BUCKET}"


@pytest.fixture
def root(s3: S3World) -> Caller:
    caller = s3.account(DEV)
    s3.bucket(caller, BUCKET)
    for key in ("a.txt", "dir/b.txt", "dir/c.txt", "z.txt"):
        s3.put(caller, BUCKET, key, key.encode())
    return caller


def versions(s3: S3World, caller: Caller, **params: Any) -> dict[str, Any]:
    return s3.s3(caller, "ListObjectVersions", Bucket=BUCKET, **params)


def test_every_object_has_one_null_version(s3: S3World, root: Caller) -> None:
    result = versions(s3, root)
    assert [(v["Key"], v["VersionId"], v["IsLatest"], v["Size"]) for v in result["Versions"]] == [
        ("a.txt", "null", True, 5),
        ("dir/b.txt", "null", True, 9),
        ("dir/c.txt", "null", True, 9),
        ("z.txt", "null", True, 5),
    ]
    assert (result["IsTruncated"], result["KeyMarker"], result["MaxKeys"]) == (False, "", 1000)
    assert "DeleteMarkers" not in result


def test_pages_by_key_marker_and_rolls_up_prefixes(s3: S3World, root: Caller) -> None:
    first = versions(s3, root, MaxKeys=2)
    assert [v["Key"] for v in first["Versions"]] == ["a.txt", "dir/b.txt"]
    assert (first["IsTruncated"], first["NextKeyMarker"], first["NextVersionIdMarker"]) == (True, "dir/b.txt", "null")
    rest = versions(s3, root, MaxKeys=2, KeyMarker="dir/b.txt", VersionIdMarker="null")
    assert [v["Key"] for v in rest["Versions"]] == ["dir/c.txt", "z.txt"]
    assert rest["IsTruncated"] is False
    rolled = versions(s3, root, Delimiter="/")
    assert rolled["CommonPrefixes"] == [{"Prefix": "dir/"}]
    assert [v["Key"] for v in rolled["Versions"]] == ["a.txt", "z.txt"]


def test_marker_refusals(s3: S3World, root: Caller) -> None:
    alone = raises("InvalidArgument", 400, versions, s3, root, VersionIdMarker="null")
    assert alone.message == "A version-id marker cannot be specified without a key marker."
    raises(
        "InvalidArgument", 400, versions, s3, root, KeyMarker="a.txt", VersionIdMarker="3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"
    )


def test_listing_versions_is_its_own_action(s3: S3World, root: Caller) -> None:
    lister = s3.user(DEV, "lister", doc(allow("s3:ListBucket", ARN)))
    raises("AccessDenied", 403, versions, s3, lister)
    versioner = s3.user(DEV, "versioner", doc(allow("s3:ListBucketVersions", ARN)))
    assert len(versions(s3, versioner)["Versions"]) == 4


def test_deleting_the_null_version_is_delete_object_version(s3: S3World, root: Caller) -> None:
    objects = f"{ARN}/*"
    deleter = s3.user(DEV, "deleter", doc(allow("s3:DeleteObject", objects)))
    raises("AccessDenied", 403, s3.s3, deleter, "DeleteObject", Bucket=BUCKET, Key="a.txt", VersionId="null")
    assert s3.s3(deleter, "DeleteObject", Bucket=BUCKET, Key="a.txt") == {}
    versioned = s3.user(DEV, "versioned", doc(allow("s3:DeleteObjectVersion", objects)))
    assert s3.s3(versioned, "DeleteObject", Bucket=BUCKET, Key="z.txt", VersionId="null") == {"VersionId": "null"}
    raises("InvalidArgument", 400, s3.s3, root, "DeleteObject", Bucket=BUCKET, Key="dir/b.txt", VersionId="v2")
    assert [v["Key"] for v in versions(s3, root)["Versions"]] == ["dir/b.txt", "dir/c.txt"]


def test_delete_objects_with_version_ids(s3: S3World, root: Caller) -> None:
    request = {
        "Objects": [
            {"Key": "a.txt", "VersionId": "null"},
            {"Key": "dir/b.txt", "VersionId": "v2"},
            {"Key": "z.txt"},
        ]
    }
    result = s3.s3(root, "DeleteObjects", Bucket=BUCKET, Delete=request)
    assert result["Deleted"] == [{"Key": "a.txt", "VersionId": "null"}, {"Key": "z.txt"}]
    assert result["Errors"] == [
        {
            "Key": "dir/b.txt",
            "VersionId": "v2",
            "Code": "NoSuchVersion",
            "Message": "The specified version does not exist.",
        }
    ]
    assert [v["Key"] for v in versions(s3, root)["Versions"]] == ["dir/b.txt", "dir/c.txt"]


def test_reading_the_null_version_is_get_object_version(s3: S3World, root: Caller) -> None:
    objects = f"{ARN}/*"
    reader = s3.user(DEV, "reader", doc(allow("s3:GetObject", objects)))
    assert s3.get(reader, BUCKET, "a.txt")[1] == b"a.txt"
    raises("AccessDenied", 403, s3.get, reader, BUCKET, "a.txt", VersionId="null")
    raises("AccessDenied", 403, s3.s3, reader, "HeadObject", Bucket=BUCKET, Key="a.txt", VersionId="null")
    version_reader = s3.user(DEV, "version-reader", doc(allow("s3:GetObjectVersion", objects)))
    result, data = s3.get(version_reader, BUCKET, "a.txt", VersionId="null")
    assert (data, result["VersionId"]) == (b"a.txt", "null")
    head = s3.s3(version_reader, "HeadObject", Bucket=BUCKET, Key="a.txt", VersionId="null")
    assert (head["VersionId"], head["ContentLength"]) == ("null", 5)
    raises("AccessDenied", 403, s3.get, version_reader, BUCKET, "a.txt")  # the plain read is s3:GetObject
    raises("InvalidArgument", 400, s3.get, root, BUCKET, "a.txt", VersionId="3HL4kqtJlcpXroDTDmjVBH40Nrjfkd")


def test_attributes_of_the_null_version_need_the_version_actions(s3: S3World, root: Caller) -> None:
    objects = f"{ARN}/*"
    plain = s3.user(DEV, "plain", doc(allow(["s3:GetObject", "s3:GetObjectAttributes"], objects)))
    versioned = s3.user(DEV, "versioned", doc(allow(["s3:GetObjectVersion", "s3:GetObjectVersionAttributes"], objects)))
    params = {"Bucket": BUCKET, "Key": "a.txt", "ObjectAttributes": ["ObjectSize"]}
    assert s3.s3(plain, "GetObjectAttributes", **params)["ObjectSize"] == 5
    raises("AccessDenied", 403, s3.s3, plain, "GetObjectAttributes", **params, VersionId="null")
    result = s3.s3(versioned, "GetObjectAttributes", **params, VersionId="null")
    assert (result["ObjectSize"], result["VersionId"]) == (5, "null")
