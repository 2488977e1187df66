"""S3 responses: s3_response writes them, botocore's rest-xml parser must read back the same result."""

from __future__ import annotations

import email.header
from datetime import UTC, datetime
from typing import Any

import botocore.handlers
import pytest
from botocore.awsrequest import AWSResponse
from test_restxml_support import WHEN, _Raw, botocore_parse, s3_operation, sample

from rolegate.protocol.models import service_model
from rolegate.protocol.restxml import root_element, s3_response
from rolegate.protocol.restxml_response import mail_safe

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
DECODERS = {
    "ListObjects": botocore.handlers.decode_list_object,
    "ListObjectsV2": botocore.handlers.decode_list_object_v2,
    "ListObjectVersions": botocore.handlers.decode_list_object_versions,
}
SKIPPED = {
    "SelectObjectContent": "event stream output",
    "GetBucketLocation": "bare root, tested below",
    "GetBucketNotification": "deprecated; its model maps both Event and Events onto <Event>",
}
OUTPUT_OPERATIONS = sorted(
    name
    for name in service_model("s3").operation_names
    if s3_operation(name).output_shape is not None and name not in SKIPPED
)


def _client_view(name: str, parsed: dict[str, Any]) -> dict[str, Any]:
    """Apply the after-call handler a botocore client runs for the list operations it auto-encodes."""
    if name in DECODERS:
        DECODERS[name](parsed=parsed, context={"encoding_type_auto_set": True})
    return parsed


@pytest.mark.parametrize("name", OUTPUT_OPERATIONS)
def test_every_output_shape_round_trips_through_botocore(name: str) -> None:
    op = s3_operation(name)
    result = sample(op.output_shape, name)
    if name == "ListMultipartUploads":
        result["EncodingType"] = None  # botocore never decodes this one; see the encoding test below
    payload = op.output_shape.serialization.get("payload")
    streaming = payload is not None and op.output_shape.members[payload].serialization.get("streaming")
    if streaming:
        result[payload] = iter([b"chunk-1 ", b"chunk-2"])
    status, headers, body = s3_response(op, result)
    expected = {
        key: _as_sent(op.output_shape.members[key], value) for key, value in result.items() if value is not None
    }
    if streaming:
        assert not isinstance(body, bytes)
        expected[payload] = "chunk-1 chunk-2"  # botocore hands a buffered stream back as text
    assert _client_view(name, botocore_parse(name, status, headers, body)) == expected


def _as_sent(member: Any, value: Any) -> Any:
    """What a client reads back: header text beyond ASCII arrives as an RFC 2047 encoded-word."""
    location = member.serialization.get("location")
    if location == "header" and isinstance(value, str) and not value.isascii():
        return mail_safe(value)
    if location == "headers" and isinstance(value, dict):
        return {k: v if not isinstance(v, str) or v.isascii() else mail_safe(v) for k, v in value.items()}
    return value


def _headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def test_list_objects_v2_wire_body() -> None:
    result = {
        "IsTruncated": True,
        "Name": "photos",
        "Prefix": "2026/",
        "Delimiter": "/",
        "MaxKeys": 2,
        "KeyCount": 2,
        "NextContinuationToken": "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
        "Contents": [
            {"Key": "2026/a&b.jpg", "LastModified": WHEN, "ETag": '"d41d8cd98f00b204e9800998ecf8427e"', "Size": 0},
            {"Key": "2026/c.jpg", "LastModified": WHEN, "Size": 12, "StorageClass": "STANDARD"},
        ],
        "CommonPrefixes": [{"Prefix": "2026/01/"}, {"Prefix": "2026/02/"}],
    }
    status, headers, body = s3_response(s3_operation("ListObjectsV2"), result, request_id="4442587FB7D0A2F9")
    assert status == 200
    assert isinstance(body, bytes)
    assert body.decode() == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<ListBucketResult {NS}><IsTruncated>true</IsTruncated>"
        "<Contents><Key>2026/a&amp;b.jpg</Key><LastModified>2026-11-23T19:03:06.000Z</LastModified>"
        '<ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size></Contents>'
        "<Contents><Key>2026/c.jpg</Key><LastModified>2026-11-23T19:03:06.000Z</LastModified>"
        "<Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>"
        "<Name>photos</Name><Prefix>2026/</Prefix><Delimiter>/</Delimiter><MaxKeys>2</MaxKeys>"
        "<CommonPrefixes><Prefix>2026/01/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>2026/02/</Prefix></CommonPrefixes>"
        "<KeyCount>2</KeyCount><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
        "</ListBucketResult>"
    )
    assert _headers(headers) == {
        "content-type": "application/xml",
        "content-length": str(len(body)),
        "x-amz-request-id": "4442587FB7D0A2F9",
        "x-amz-id-2": _headers(headers)["x-amz-id-2"],
        "server": "AmazonS3",
    }


def test_url_encoding_of_list_keys_is_what_clients_decode() -> None:
    keys = ["a b.txt", "a+b.txt", "100%.csv", "한글/x.txt", "ctl\x01char"]
    result = {
        "Name": "b",
        "EncodingType": "url",
        "Prefix": "p q/",
        "Delimiter": "/",
        "StartAfter": "s t",
        "Contents": [{"Key": key} for key in keys],
        "CommonPrefixes": [{"Prefix": "run books/"}],
    }
    status, headers, body = s3_response(s3_operation("ListObjectsV2"), result)
    assert isinstance(body, bytes)
    text = body.decode()
    for wire in (
        "<Key>a+b.txt</Key>",
        "<Key>a%2Bb.txt</Key>",
        "<Key>100%25.csv</Key>",
        "<Key>%ED%95%9C%EA%B8%80/x.txt</Key>",
    ):
        assert wire in text
    assert "<Prefix>run+books/</Prefix>" in text
    parsed = _client_view("ListObjectsV2", botocore_parse("ListObjectsV2", status, headers, body))
    assert [item["Key"] for item in parsed["Contents"]] == keys
    assert (parsed["Prefix"], parsed["StartAfter"], parsed["CommonPrefixes"]) == (
        "p q/",
        "s t",
        [{"Prefix": "run books/"}],
    )


def test_list_multipart_uploads_encodes_keys_on_request() -> None:
    result = {"Bucket": "b", "EncodingType": "url", "KeyMarker": "a b", "Uploads": [{"Key": "c+d", "UploadId": "u"}]}
    _, _, body = s3_response(s3_operation("ListMultipartUploads"), result)
    assert isinstance(body, bytes)
    assert b"<KeyMarker>a+b</KeyMarker>" in body
    assert b"<Upload><UploadId>u</UploadId><Key>c%2Bd</Key></Upload>" in body
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult ')


def test_get_object_streams_the_body_with_headers_and_206_for_a_range() -> None:
    chunks = iter([b"he", b"llo"])
    result = {
        "Body": chunks,
        "ContentLength": 5,
        "ContentRange": "bytes 0-4/10",
        "ETag": '"5d41402abc4b2a76b9719d911017c592"',
        "LastModified": WHEN,
        "Expires": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        "ContentType": "text/plain",
        "Metadata": {"color": "red"},
        "TagCount": 2,
        "AcceptRanges": "bytes",
        "VersionId": "v1",
    }
    status, headers, body = s3_response(s3_operation("GetObject"), result)
    assert status == 206
    assert body is chunks
    assert _headers(headers) == {
        "content-length": "5",
        "content-range": "bytes 0-4/10",
        "etag": '"5d41402abc4b2a76b9719d911017c592"',
        "last-modified": "Mon, 23 Nov 2026 19:03:06 GMT",
        "expires": "Wed, 02 Jan 2030 03:04:05 GMT",
        "content-type": "text/plain",
        "x-amz-meta-color": "red",
        "x-amz-tagging-count": "2",
        "accept-ranges": "bytes",
        "x-amz-version-id": "v1",
    }
    whole = dict(result, Body=[b"hello"], ContentRange=None)
    assert s3_response(s3_operation("GetObject"), whole)[0] == 200


def test_head_object_has_headers_and_no_body() -> None:
    status, headers, body = s3_response(
        s3_operation("HeadObject"), {"ContentLength": 1024, "ETag": '"e"', "LastModified": WHEN}
    )
    assert (status, body) == (200, b"")
    assert _headers(headers)["content-length"] == "1024"


@pytest.mark.parametrize(
    "name",
    [
        "DeleteObject",
        "DeleteBucket",
        "DeleteBucketPolicy",
        "DeleteBucketTagging",
        "DeleteObjectTagging",
        "AbortMultipartUpload",
    ],
)
def test_deletes_answer_204_without_a_body_or_length(name: str) -> None:
    status, headers, body = s3_response(s3_operation(name), {}, request_id="R")
    assert (status, body) == (204, b"")
    assert "content-length" not in _headers(headers)


@pytest.mark.parametrize("name", ["PutBucketTagging", "PutObject", "CreateBucket", "HeadBucket", "PutBucketPolicy"])
def test_results_without_xml_members_have_empty_bodies(name: str) -> None:
    status, headers, body = s3_response(s3_operation(name), {})
    assert (status, body) == (200, b"")
    assert "content-type" not in _headers(headers)


def test_create_bucket_location_header() -> None:
    _, headers, _ = s3_response(s3_operation("CreateBucket"), {"Location": "/my-bucket"})
    assert ("Location", "/my-bucket") in headers


def test_get_bucket_policy_is_the_raw_policy_text() -> None:
    policy = '{"Version":"2012-10-17","Statement":[]}'
    status, headers, body = s3_response(s3_operation("GetBucketPolicy"), {"Policy": policy})
    assert body == policy.encode()
    assert botocore_parse("GetBucketPolicy", status, headers, body) == {"Policy": policy}


def test_copy_object_result_is_its_own_root() -> None:
    result = {
        "CopyObjectResult": {"ETag": '"abc"', "LastModified": WHEN},
        "VersionId": "v2",
        "CopySourceVersionId": "v1",
    }
    status, headers, body = s3_response(s3_operation("CopyObject"), result)
    assert (
        body
        == (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult {NS}>'
            '<ETag>"abc"</ETag><LastModified>2026-11-23T19:03:06.000Z</LastModified></CopyObjectResult>'
        ).encode()
    )
    assert botocore_parse("CopyObject", status, headers, body) == result


@pytest.mark.parametrize(("region", "text"), [("eu-west-1", "eu-west-1"), (None, None)])
def test_get_bucket_location_bare_root_reads_back_with_botocores_handler(region: str | None, text: str | None) -> None:
    status, headers, body = s3_response(s3_operation("GetBucketLocation"), {"LocationConstraint": region})
    assert isinstance(body, bytes)
    assert (
        body
        == f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint {NS}>{region or ""}</LocationConstraint>'.encode()
    )
    parsed: dict[str, Any] = {}
    botocore.handlers.parse_get_bucket_location(parsed, AWSResponse("http://x/", status, dict(headers), _Raw([body])))
    assert parsed == {"LocationConstraint": text}


def test_delete_objects_flattened_deleted_and_errors() -> None:
    result = {
        "Deleted": [{"Key": "a"}, {"Key": "b", "VersionId": "v", "DeleteMarker": True, "DeleteMarkerVersionId": "m"}],
        "Errors": [{"Key": "c", "Code": "AccessDenied", "Message": "Access Denied"}],
    }
    status, headers, body = s3_response(s3_operation("DeleteObjects"), result)
    assert isinstance(body, bytes)
    assert body.startswith(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult {NS}><Deleted><Key>a</Key></Deleted>'.encode()
    )
    assert b"<Error><Key>c</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>" in body
    assert botocore_parse("DeleteObjects", status, headers, body) == result


@pytest.mark.parametrize(
    ("name", "root"),
    [
        ("ListBuckets", "ListAllMyBucketsResult"),
        ("ListObjects", "ListBucketResult"),
        ("CreateMultipartUpload", "InitiateMultipartUploadResult"),
        ("CompleteMultipartUpload", "CompleteMultipartUploadResult"),
        ("ListParts", "ListPartsResult"),
        ("GetBucketTagging", "Tagging"),
        ("GetObjectTagging", "Tagging"),
        ("GetBucketAcl", "AccessControlPolicy"),
        ("GetBucketVersioning", "VersioningConfiguration"),
    ],
)
def test_root_elements_are_s3s(name: str, root: str) -> None:
    assert root_element(name) == root
    _, _, body = s3_response(s3_operation(name), {})
    assert isinstance(body, bytes)
    assert body.decode().split("\n", 1)[1].startswith(f"<{root} {NS}>")


def test_tagging_round_trip_with_empty_values_and_specials() -> None:
    result = {"TagSet": [{"Key": "k & <v>", "Value": "x\r\ny"}, {"Key": "e", "Value": "é"}], "VersionId": "v"}
    status, headers, body = s3_response(s3_operation("GetObjectTagging"), result)
    assert botocore_parse("GetObjectTagging", status, headers, body) == result


@pytest.mark.parametrize(
    ("result", "error"),
    [
        ({"NoSuchMember": 1}, ValueError),
        ({"ETag": 5}, TypeError),
        ({"Metadata": ["a"]}, TypeError),
        ({"ContentLength": "5"}, TypeError),
        ({"Metadata": {"k": "v\r\nx-injected: 1"}}, ValueError),
        ({"ETag": "a\nb"}, ValueError),
    ],
)
def test_results_that_do_not_fit_the_shape_are_refused(result: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        s3_response(s3_operation("HeadObject"), result)


def test_timestamps_in_xml_always_carry_milliseconds() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=UTC)
    _, _, body = s3_response(s3_operation("ListBuckets"), {"Buckets": [{"Name": "b", "CreationDate": when}]})
    assert isinstance(body, bytes)
    assert b"<CreationDate>2026-01-02T03:04:05.678Z</CreationDate>" in body


def test_header_values_beyond_ascii_are_rfc_2047_encoded_words() -> None:
    """HTTP header values are bytes: S3 returns non-ASCII metadata (and any such header) as one encoded-word of
    the UTF-8 text, which mail and HTTP libraries decode; ASCII values go out as they are."""
    result = {
        "Body": [b""],
        "ContentLength": 0,
        "ContentDisposition": 'attachment; filename="résumé.pdf"',
        "Metadata": {"city": "Zürich 😀", "plain": "ascii only"},
    }
    _, headers, _ = s3_response(s3_operation("GetObject"), result)
    sent = _headers(headers)
    assert sent["x-amz-meta-plain"] == "ascii only"
    for name, text in (("content-disposition", result["ContentDisposition"]), ("x-amz-meta-city", "Zürich 😀")):
        assert sent[name].isascii()
        assert str(email.header.make_header(email.header.decode_header(sent[name]))) == text
    assert all(value.encode("latin-1") for _, value in headers)  # every value can go on the wire
