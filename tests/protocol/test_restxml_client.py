"""A real botocore S3 client against the codec: its requests (with every client handler) parse, our answers read back.

The transport is replaced by the codec (see FakeS3), so these run without a network while exercising what a
server receives from boto3: flexible checksums, the automatic `encoding-type=url`, CopySource quoting,
virtual-hosted addressing, and the client's own error parsing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_restxml_support import WHEN, FakeS3

from rolegate.errors import aws_error
from rolegate.protocol.restxml import split_bucket_host

NoSuchKey = aws_error("NoSuchKey", 404)
NoSuchBucket = aws_error("NoSuchBucket", 404)


def _answer(result: dict[str, Any]) -> FakeS3:
    return FakeS3(lambda name, params: result)


def test_put_then_get_object_with_metadata_and_checksum() -> None:
    s3 = _answer({"ETag": '"5d41402abc4b2a76b9719d911017c592"', "VersionId": "v1"})
    answer = s3.client.put_object(Bucket="photos", Key="2026/a b+c.txt", Body=b"hello", Metadata={"Owner": "Alice"})
    assert (answer["ETag"], answer["VersionId"]) == ('"5d41402abc4b2a76b9719d911017c592"', "v1")
    name, params, headers = s3.calls[0]
    assert name == "PutObject"
    assert (params["Bucket"], params["Key"], params["Body"], params["ContentLength"]) == (
        "photos",
        "2026/a b+c.txt",
        b"hello",
        5,
    )
    assert params["Metadata"] == {"owner": "Alice"}
    assert params["ChecksumCRC32"] == headers["x-amz-checksum-crc32"]

    s3 = _answer(
        {
            "Body": iter([b"hel", b"lo"]),
            "ContentLength": 5,
            "ETag": '"5d41402abc4b2a76b9719d911017c592"',
            "LastModified": WHEN,
            "Metadata": {"owner": "Alice"},
            "ContentType": "text/plain",
        }
    )
    got = s3.client.get_object(Bucket="photos", Key="2026/a b+c.txt", Range="bytes=0-4")
    assert got["Body"].read() == b"hello"
    assert (got["Metadata"], got["ContentType"], got["LastModified"]) == ({"owner": "Alice"}, "text/plain", WHEN)
    assert s3.calls[0][1]["Range"] == "bytes=0-4"


def test_list_objects_round_trips_awkward_keys_through_automatic_url_encoding() -> None:
    keys = ["a b.txt", "a+b.txt", "100%.csv", "한글/x.txt", "tab\there", "lt<&>"]

    def handle(name: str, params: dict[str, Any]) -> dict[str, Any]:
        assert params["EncodingType"] == "url"  # botocore asks for it on its own
        contents = [{"Key": key, "LastModified": WHEN, "ETag": '"e"', "Size": 1} for key in keys]
        common = {"Name": "b", "Prefix": params.get("Prefix", ""), "EncodingType": "url", "IsTruncated": False}
        if name == "ListObjects":
            return {**common, "Contents": contents, "Marker": "m n"}
        return {**common, "Contents": contents, "KeyCount": len(keys), "CommonPrefixes": [{"Prefix": "run books/"}]}

    s3 = FakeS3(handle)
    v2 = s3.client.list_objects_v2(Bucket="b", Prefix="a ")
    assert [item["Key"] for item in v2["Contents"]] == keys
    assert (v2["Prefix"], v2["CommonPrefixes"]) == ("a ", [{"Prefix": "run books/"}])
    v1 = s3.client.list_objects(Bucket="b")
    assert [item["Key"] for item in v1["Contents"]] == keys
    assert v1["Marker"] == "m n"


def test_copy_object_with_a_dict_source_reaches_the_service_url_encoded() -> None:
    s3 = _answer({"CopyObjectResult": {"ETag": '"abc"', "LastModified": WHEN}, "CopySourceVersionId": "v1"})
    answer = s3.client.copy_object(
        Bucket="dst", Key="k", CopySource={"Bucket": "src", "Key": "a b/é", "VersionId": "v1"}
    )
    assert answer["CopyObjectResult"] == {"ETag": '"abc"', "LastModified": WHEN}
    assert s3.calls[0][1]["CopySource"] == "src/a%20b/%C3%A9?versionId=v1"


def test_multipart_upload_sequence() -> None:
    results = {
        "CreateMultipartUpload": {"Bucket": "b", "Key": "big", "UploadId": "up-1"},
        "UploadPart": {"ETag": '"p1"'},
        "ListParts": {
            "Bucket": "b",
            "Key": "big",
            "UploadId": "up-1",
            "Parts": [{"PartNumber": 1, "ETag": '"p1"', "Size": 5, "LastModified": WHEN}],
        },
        "CompleteMultipartUpload": {
            "Bucket": "b",
            "Key": "big",
            "ETag": '"x-1"',
            "Location": "http://127.0.0.1:9000/b/big",
        },
        "AbortMultipartUpload": {},
        "ListMultipartUploads": {"Bucket": "b", "Uploads": [{"Key": "big", "UploadId": "up-1", "Initiated": WHEN}]},
    }
    s3 = FakeS3(lambda name, params: results[name])
    client = s3.client
    upload = client.create_multipart_upload(Bucket="b", Key="big")["UploadId"]
    etag = client.upload_part(Bucket="b", Key="big", UploadId=upload, PartNumber=1, Body=b"12345")["ETag"]
    assert client.list_parts(Bucket="b", Key="big", UploadId=upload)["Parts"][0]["ETag"] == etag
    done = client.complete_multipart_upload(
        Bucket="b", Key="big", UploadId=upload, MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]}
    )
    assert done["ETag"] == '"x-1"'
    assert client.list_multipart_uploads(Bucket="b")["Uploads"][0]["Initiated"] == WHEN
    client.abort_multipart_upload(Bucket="b", Key="big", UploadId=upload)
    names = [call[0] for call in s3.calls]
    assert names == [
        "CreateMultipartUpload",
        "UploadPart",
        "ListParts",
        "CompleteMultipartUpload",
        "ListMultipartUploads",
        "AbortMultipartUpload",
    ]
    assert s3.calls[1][1]["PartNumber"] == 1 and s3.calls[1][1]["Body"] == b"12345"
    assert s3.calls[3][1]["MultipartUpload"] == {"Parts": [{"ETag": '"p1"', "PartNumber": 1}]}


def test_bucket_calls_policy_tagging_location_and_bulk_delete() -> None:
    policy = '{"Version":"2012-10-17","Statement":[]}'
    tags = [{"Key": "env", "Value": "prod"}]
    results: dict[str, dict[str, Any]] = {
        "CreateBucket": {"Location": "/b"},
        "PutBucketPolicy": {},
        "GetBucketPolicy": {"Policy": policy},
        "PutBucketTagging": {},
        "GetBucketTagging": {"TagSet": tags},
        "GetBucketLocation": {"LocationConstraint": "eu-west-1"},
        "DeleteObjects": {
            "Deleted": [{"Key": "a"}],
            "Errors": [{"Key": "b", "Code": "AccessDenied", "Message": "Access Denied"}],
        },
        "ListBuckets": {"Buckets": [{"Name": "b", "CreationDate": WHEN}], "Owner": {"ID": "abc"}},
        "DeleteBucket": {},
    }
    s3 = FakeS3(lambda name, params: results[name])
    client = s3.client
    assert (
        client.create_bucket(Bucket="b", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})["Location"]
        == "/b"
    )
    client.put_bucket_policy(Bucket="b", Policy=policy)
    assert client.get_bucket_policy(Bucket="b")["Policy"] == policy
    client.put_bucket_tagging(Bucket="b", Tagging={"TagSet": tags})
    assert client.get_bucket_tagging(Bucket="b")["TagSet"] == tags
    assert client.get_bucket_location(Bucket="b")["LocationConstraint"] == "eu-west-1"
    deleted = client.delete_objects(Bucket="b", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    assert (deleted["Deleted"], deleted["Errors"][0]["Code"]) == ([{"Key": "a"}], "AccessDenied")
    assert client.list_buckets()["Buckets"] == [{"Name": "b", "CreationDate": WHEN}]
    assert client.delete_bucket(Bucket="b")["ResponseMetadata"]["HTTPStatusCode"] == 204
    seen = {name: params for name, params, _ in s3.calls}
    assert seen["CreateBucket"]["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-1"}
    assert seen["PutBucketPolicy"]["Policy"] == policy
    assert seen["PutBucketTagging"]["Tagging"] == {"TagSet": tags}
    assert seen["DeleteObjects"]["Delete"] == {"Objects": [{"Key": "a"}, {"Key": "b"}]}


def test_errors_reach_the_client_as_s3_sends_them() -> None:
    def handle(name: str, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("Bucket") == "missing":
            raise NoSuchBucket("The specified bucket does not exist", BucketName="missing")
        raise NoSuchKey("The specified key does not exist.", Key=params["Key"])

    client = FakeS3(handle).client
    with pytest.raises(ClientError) as caught:
        client.get_object(Bucket="b", Key="nope")
    error = caught.value.response
    assert (error["Error"]["Code"], error["Error"]["Key"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "NoSuchKey",
        "nope",
        404,
    )
    with pytest.raises(ClientError) as caught:
        client.head_object(Bucket="b", Key="nope")
    assert caught.value.response["Error"]["Code"] == "404"
    with pytest.raises(ClientError) as caught:
        client.list_objects_v2(Bucket="missing")
    assert caught.value.response["Error"]["BucketName"] == "missing"


def test_codec_errors_reach_the_client_too() -> None:
    client = FakeS3(lambda name, params: {}).client
    with pytest.raises(ClientError) as caught:
        client.get_object(Bucket="b", Key="k" * 1025)
    assert caught.value.response["Error"]["Code"] == "KeyTooLongError"


@pytest.mark.parametrize(
    ("host", "path", "expected"),
    [
        ("photos.s3.localhost:9000", "/2026/a%20b.jpg", "/photos/2026/a%20b.jpg"),
        ("photos.s3.localhost", "/", "/photos"),
        ("PHOTOS.S3.LOCALHOST.", "/k", "/photos/k"),
        ("my.dotted.bucket.localhost:9000", "/k", "/my.dotted.bucket/k"),
        ("photos.127.0.0.1.nip.io:9000", "/k?x", "/photos/k?x"),
        ("s3.localhost:9000", "/photos/k", "/photos/k"),
        ("localhost:9000", "/photos/k", "/photos/k"),
        ("127.0.0.1:9000", "/photos/k", "/photos/k"),
        ("[::1]:9000", "/photos/k", "/photos/k"),
        ("evil.example.com", "/photos/k", "/photos/k"),
        ("a/b.localhost", "/k", "/a%2Fb/k"),
        ("", "/photos", "/photos"),
    ],
)
def test_split_bucket_host(host: str, path: str, expected: str) -> None:
    assert split_bucket_host(host, path, ["localhost", "s3.localhost", "127.0.0.1.nip.io"]) == expected


def test_virtual_hosted_client_requests_route_by_host() -> None:
    s3 = FakeS3(
        lambda name, params: {"ETag": '"e"'},
        addressing="virtual",
        endpoint="http://s3.localhost:9000",
        bases=("s3.localhost",),
    )
    s3.client.put_object(Bucket="photos", Key="dir/a b.jpg", Body=b"x")
    assert s3.calls[0][0] == "PutObject"
    assert (s3.calls[0][1]["Bucket"], s3.calls[0][1]["Key"]) == ("photos", "dir/a b.jpg")


def test_conditional_headers_reach_the_service_typed() -> None:
    s3 = _answer({"Body": [b""], "ContentLength": 0})
    s3.client.get_object(Bucket="b", Key="k", IfModifiedSince=datetime(2026, 1, 1, tzinfo=UTC), IfNoneMatch='"e"')
    params = s3.calls[0][1]
    assert (params["IfModifiedSince"], params["IfNoneMatch"]) == (datetime(2026, 1, 1, tzinfo=UTC), '"e"')
