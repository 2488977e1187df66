"""S3 requests: botocore's serializer builds them, parse_s3_request must name the operation and recover the params."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_restxml_support import WHEN, parse_wire, s3_operation, sample, wire_request

from rolegate.protocol.models import service_model
from rolegate.protocol.restxml import parse_copy_source, parse_s3_request

POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}'
TAGS = {"TagSet": [{"Key": "env", "Value": "prod & <dev>"}, {"Key": "team", "Value": ""}]}

CASES: list[tuple[str, dict[str, Any]]] = [
    ("ListBuckets", {}),
    ("ListBuckets", {"MaxBuckets": 10, "ContinuationToken": "t/+=", "Prefix": "a b", "BucketRegion": "us-east-1"}),
    ("CreateBucket", {"Bucket": "my-bucket"}),
    (
        "CreateBucket",
        {"Bucket": "my.bucket", "ACL": "private", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
    ),
    ("CreateBucket", {"Bucket": "tagged", "CreateBucketConfiguration": {"Tags": [{"Key": "a", "Value": "1"}]}}),
    ("HeadBucket", {"Bucket": "b", "ExpectedBucketOwner": "111122223333"}),
    ("DeleteBucket", {"Bucket": "b"}),
    ("GetBucketLocation", {"Bucket": "b"}),
    ("PutBucketPolicy", {"Bucket": "b", "Policy": POLICY, "ConfirmRemoveSelfBucketAccess": True}),
    ("GetBucketPolicy", {"Bucket": "b"}),
    ("DeleteBucketPolicy", {"Bucket": "b"}),
    ("PutBucketTagging", {"Bucket": "b", "Tagging": TAGS}),
    ("GetBucketTagging", {"Bucket": "b"}),
    ("DeleteBucketTagging", {"Bucket": "b"}),
    (
        "PutObject",
        {
            "Bucket": "b",
            "Key": "dir/sub dir/a+b%c~d é.txt",
            "Body": b"hello world",
            "ContentLength": 11,
            "ContentType": "text/plain; charset=utf-8",
            "CacheControl": "no-cache",
            "Expires": WHEN,
            "Metadata": {"owner": "alice", "note": "x & y"},
            "Tagging": "a=1&b=2",
            "StorageClass": "STANDARD",
            "IfNoneMatch": "*",
        },
    ),
    ("PutObject", {"Bucket": "b", "Key": "empty", "Body": b""}),
    (
        "GetObject",
        {
            "Bucket": "b",
            "Key": "k/",
            "Range": "bytes=0-9",
            "IfMatch": '"etag"',
            "IfNoneMatch": '"other"',
            "IfModifiedSince": WHEN,
            "IfUnmodifiedSince": datetime(2030, 1, 1, tzinfo=UTC),
            "VersionId": "v1",
            "PartNumber": 2,
            "ResponseContentType": "application/json",
            "ResponseExpires": WHEN,
        },
    ),
    ("HeadObject", {"Bucket": "b", "Key": "k", "IfMatch": '"e"', "PartNumber": 1}),
    ("DeleteObject", {"Bucket": "b", "Key": "k", "VersionId": "v1"}),
    (
        "DeleteObjects",
        {
            "Bucket": "b",
            "Delete": {"Objects": [{"Key": "a"}, {"Key": "b/c d", "VersionId": "v2"}], "Quiet": True},
        },
    ),
    ("DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "only"}]}}),
    ("CopyObject", {"Bucket": "b", "Key": "dst", "CopySource": "src/a%20b%2Bc"}),
    (
        "CopyObject",
        {
            "Bucket": "b",
            "Key": "dst/é",
            "CopySource": "/src/k?versionId=3HL4kqtJlcpXroDTDmJ",
            "MetadataDirective": "REPLACE",
            "Metadata": {"x": "1"},
            "CopySourceIfModifiedSince": WHEN,
            "TaggingDirective": "COPY",
        },
    ),
    (
        "ListObjects",
        {"Bucket": "b", "Prefix": "p/", "Delimiter": "/", "Marker": "m", "MaxKeys": 5, "EncodingType": "url"},
    ),
    ("ListObjects", {"Bucket": "b"}),
    (
        "ListObjectsV2",
        {
            "Bucket": "b",
            "Prefix": "a+b c",
            "Delimiter": "/",
            "MaxKeys": 1000,
            "ContinuationToken": "opaque/+=",
            "FetchOwner": True,
            "StartAfter": "x",
            "EncodingType": "url",
            "OptionalObjectAttributes": ["RestoreStatus"],
        },
    ),
    ("ListObjectsV2", {"Bucket": "b"}),
    (
        "CreateMultipartUpload",
        {"Bucket": "b", "Key": "big", "ContentType": "video/mp4", "Metadata": {"m": "v"}, "Tagging": "k=v"},
    ),
    ("UploadPart", {"Bucket": "b", "Key": "big", "PartNumber": 1, "UploadId": "up-1", "Body": b"x" * 100}),
    (
        "CompleteMultipartUpload",
        {
            "Bucket": "b",
            "Key": "big",
            "UploadId": "up-1",
            "MultipartUpload": {"Parts": [{"ETag": '"e1"', "PartNumber": 1}, {"ETag": '"e2"', "PartNumber": 2}]},
        },
    ),
    ("AbortMultipartUpload", {"Bucket": "b", "Key": "big", "UploadId": "up-1"}),
    ("ListParts", {"Bucket": "b", "Key": "big", "UploadId": "up-1", "MaxParts": 10, "PartNumberMarker": 2}),
    (
        "ListMultipartUploads",
        {"Bucket": "b", "Prefix": "p", "Delimiter": "/", "KeyMarker": "k", "UploadIdMarker": "u", "MaxUploads": 3},
    ),
    ("PutObjectTagging", {"Bucket": "b", "Key": "k", "Tagging": TAGS, "VersionId": "v"}),
    ("GetObjectTagging", {"Bucket": "b", "Key": "k"}),
    ("DeleteObjectTagging", {"Bucket": "b", "Key": "k"}),
    ("UploadPartCopy", {"Bucket": "b", "Key": "k", "PartNumber": 2, "UploadId": "u", "CopySource": "s/k"}),
]


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_botocore_requests_parse_back(name: str, params: dict[str, Any]) -> None:
    found, parsed = parse_wire(name, params)
    assert found == name
    expected = dict(params)
    if "Metadata" in expected:
        expected["Metadata"] = {key.lower(): value for key, value in expected["Metadata"].items()}
    if "Body" in expected:
        expected.setdefault("ContentLength", len(expected["Body"]))
    assert parsed == expected


EXCLUDED = {
    # Same method and template as their successors; S3 routes the request to the newer operation.
    "GetBucketLifecycle": "GetBucketLifecycleConfiguration",
    "PutBucketLifecycle": "PutBucketLifecycleConfiguration",
    "GetBucketNotification": "GetBucketNotificationConfiguration",
    "PutBucketNotification": "PutBucketNotificationConfiguration",
    # Served by S3 Express's control endpoint; `GET /` on the general endpoint is ListBuckets.
    "ListDirectoryBuckets": "ListBuckets",
}


def _full_params(name: str) -> dict[str, Any]:
    """Every input member of an operation, set: all locations and types the model uses."""
    shape = s3_operation(name).input_shape
    params = sample(shape, name)
    params.pop("ContentMD5", None)  # checked against the body separately
    for member in ("Bucket", "Key"):
        if member in params:
            params[member] = {"Bucket": "bucket.name-1", "Key": "dir/ key+%~é/"}[member]
    if "CopySource" in params:
        params["CopySource"] = "src-bucket/src%20key?versionId=v1"
    if "ContentEncoding" in params:
        params["ContentEncoding"] = "gzip"
    payload = shape.serialization.get("payload")
    if payload and shape.members[payload].serialization.get("streaming"):
        params[payload] = b"streamed bytes"
        if "ContentLength" in shape.members:
            params["ContentLength"] = len(b"streamed bytes")
    elif "ContentLength" in params:
        params["ContentLength"] = 0
    return params


ALL_OPERATIONS = sorted(service_model("s3").operation_names)


@pytest.mark.parametrize("name", ALL_OPERATIONS)
def test_every_operation_routes_and_parses_with_all_members(name: str) -> None:
    params = _full_params(name)
    found, parsed = parse_wire(name, params)
    assert found == EXCLUDED.get(name, name)
    if found == name:
        assert parsed == params


def test_select_object_content_reads_its_unwrapped_body() -> None:
    params = {
        "Bucket": "b",
        "Key": "data.csv",
        "Expression": "SELECT * FROM S3Object s WHERE s.a < 3",
        "ExpressionType": "SQL",
        "InputSerialization": {"CSV": {"FileHeaderInfo": "USE"}},
        "OutputSerialization": {"JSON": {"RecordDelimiter": "\n"}},
    }
    assert parse_wire("SelectObjectContent", params) == ("SelectObjectContent", params)


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "expected"),
    [
        ("PUT", "/b/k", "", {"Content-Length": "1"}, "PutObject"),
        ("PUT", "/b/k", "", {"x-amz-copy-source": "s/k"}, "CopyObject"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {"Content-Length": "1"}, "UploadPart"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {"X-Amz-Copy-Source": "s/k"}, "UploadPartCopy"),
        ("PUT", "/b/k", "uploadId=u", {"Content-Length": "1"}, "PutObject"),
        ("GET", "/b/k", "uploadId=u", {}, "ListParts"),
        ("GET", "/b/k", "", {}, "GetObject"),
        ("GET", "/b/k", "tagging", {}, "GetObjectTagging"),
        ("GET", "/b", "", {}, "ListObjects"),
        ("GET", "/b/", "", {}, "ListObjects"),
        ("GET", "/b", "list-type=2", {}, "ListObjectsV2"),
        ("GET", "/b", "list-type=3", {}, "ListObjects"),
        ("GET", "/b", "uploads", {}, "ListMultipartUploads"),
        ("GET", "/b", "location", {}, "GetBucketLocation"),
        ("GET", "/b", "policy", {}, "GetBucketPolicy"),
        ("GET", "/b", "unknown-subresource", {}, "ListObjects"),
        ("GET", "/", "", {}, "ListBuckets"),
        ("HEAD", "/b", "", {}, "HeadBucket"),
        ("HEAD", "/b/k", "", {}, "HeadObject"),
        ("DELETE", "/b/k", "", {}, "DeleteObject"),
        ("DELETE", "/b/k", "uploadId=u", {}, "AbortMultipartUpload"),
        ("DELETE", "/b", "", {}, "DeleteBucket"),
        ("DELETE", "/b", "tagging", {}, "DeleteBucketTagging"),
        ("POST", "/b/k", "uploads", {}, "CreateMultipartUpload"),
        ("POST", "/b/k", "uploadId=u", {}, "CompleteMultipartUpload"),
        ("post", "/b", "delete", {}, "DeleteObjects"),
    ],
)
def test_routing_discriminators(method: str, path: str, query: str, headers: dict[str, str], expected: str) -> None:
    body = b"<Delete><Object><Key>a</Key></Object></Delete>" if expected == "DeleteObjects" else b""
    operation, _ = parse_s3_request(method, path, query, headers, io.BytesIO(body))
    assert operation.name == expected


def test_streaming_body_is_the_callers_file_object_unread() -> None:
    method, path, query, headers, body = wire_request("PutObject", {"Bucket": "b", "Key": "k", "Body": b"abc"})
    stream = io.BytesIO(body)
    _, params = parse_s3_request(method, path, query, headers, stream)
    assert params["Body"] is stream
    assert stream.tell() == 0
    assert params["ContentLength"] == 3


def test_aws_chunked_upload_uses_the_decoded_length_and_drops_the_coding() -> None:
    headers = {
        "Content-Length": "87",
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": "5",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    }
    _, params = parse_s3_request("PUT", "/b/k", "", headers, io.BytesIO(b"hello"))
    assert params["ContentLength"] == 5
    assert "ContentEncoding" not in params
    headers["Content-Encoding"] = "aws-chunked,gzip"
    _, params = parse_s3_request("PUT", "/b/k", "", headers, io.BytesIO(b"hello"))
    assert params["ContentEncoding"] == "gzip"


def test_a_content_encoding_that_is_not_a_list_is_kept_as_sent() -> None:
    headers = {"Content-Length": "5", "Content-Encoding": '"gzip'}
    _, params = parse_s3_request("PUT", "/b/k", "", headers, io.BytesIO(b"hello"))
    assert params["ContentEncoding"] == '"gzip'


def test_header_pairs_bytes_and_repeats_are_accepted() -> None:
    pairs = [(b"X-Amz-Meta-Color", b"red"), (b"x-amz-meta-color", b"blue"), (b"content-length", b"0")]
    _, params = parse_s3_request("PUT", b"/b/k%C3%A9", b"", pairs, io.BytesIO(b""))
    assert params["Key"] == "ké"
    assert params["Metadata"] == {"color": "red,blue"}


def test_content_md5_is_checked_against_the_xml_body() -> None:
    method, path, query, headers, body = wire_request("PutBucketTagging", {"Bucket": "b", "Tagging": TAGS})
    headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    _, params = parse_s3_request(method, path, query, headers, io.BytesIO(body))
    assert params["Tagging"] == TAGS


def test_invalid_http_dates_in_conditional_headers_are_ignored() -> None:
    headers = {"If-Modified-Since": "yesterday", "If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"}
    _, params = parse_s3_request("GET", "/b/k", "", headers, None)
    assert "IfModifiedSince" not in params
    assert params["IfUnmodifiedSince"] == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


def test_query_plus_is_a_space_and_path_plus_is_a_plus() -> None:
    _, params = parse_s3_request("GET", "/b/a+b", "versionId=x+y%2Bz", {}, None)
    assert params["Key"] == "a+b"
    assert params["VersionId"] == "x y+z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("src/key", ("src", "key", None)),
        ("/src/a%20b/c%2Bd", ("src", "a b/c+d", None)),
        ("src/k%C3%A9?versionId=v%2B1", ("src", "ké", "v+1")),
    ],
)
def test_copy_source_reads_bucket_key_and_version(value: str, expected: tuple[str, str, str | None]) -> None:
    assert parse_copy_source(value) == expected


KEYS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200).filter(
    lambda key: len(key.encode("utf-8")) <= 1024
)


@settings(max_examples=150, deadline=None)
@given(key=KEYS, bucket=st.from_regex(r"[a-z0-9][a-z0-9.-]{1,30}[a-z0-9]", fullmatch=True))
def test_any_key_survives_the_path(key: str, bucket: str) -> None:
    assert parse_wire("GetObject", {"Bucket": bucket, "Key": key}) == ("GetObject", {"Bucket": bucket, "Key": key})


XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"), max_size=40)


@settings(max_examples=100, deadline=None)
@given(tags=st.lists(st.tuples(XML_TEXT.filter(bool), XML_TEXT), max_size=12))
def test_tag_sets_survive_the_xml_payload(tags: list[tuple[str, str]]) -> None:
    tagging = {"TagSet": [{"Key": key, "Value": value} for key, value in tags]}
    assert parse_wire("PutObjectTagging", {"Bucket": "b", "Key": "k", "Tagging": tagging})[1]["Tagging"] == tagging
