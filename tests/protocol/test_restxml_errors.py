"""S3 error documents: exact wire form, and what botocore's parser makes of them."""

from __future__ import annotations

from typing import Any

import botocore.parsers
import pytest
from botocore.awsrequest import HeadersDict
from test_restxml_support import WHEN, s3_operation

from rolegate.errors import AccessDenied, InternalFailure, InvalidClientTokenId, aws_error
from rolegate.protocol.restxml import as_s3_error, s3_error_response

NoSuchKey = aws_error("NoSuchKey", 404)
NoSuchBucket = aws_error("NoSuchBucket", 404)
NotModified = aws_error("NotModified", 304)


def _botocore_error(status: int, headers: list[tuple[str, str]], body: bytes, operation: str = "GetObject") -> Any:
    response = {"body": body, "headers": HeadersDict(headers), "status_code": status}
    return botocore.parsers.create_parser("rest-xml").parse(response, s3_operation(operation).output_shape)


def test_no_such_key_wire_form() -> None:
    status, headers, body = s3_error_response(
        NoSuchKey("The specified key does not exist.", Key="photos/a&b.jpg"), "4442587FB7D0A2F9", host="h0st=="
    )
    assert status == 404
    assert body == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
        b"<Message>The specified key does not exist.</Message><Key>photos/a&amp;b.jpg</Key>"
        b"<RequestId>4442587FB7D0A2F9</RequestId><HostId>h0st==</HostId></Error>"
    )
    assert headers == [
        ("Content-Type", "application/xml"),
        ("x-amz-request-id", "4442587FB7D0A2F9"),
        ("x-amz-id-2", "h0st=="),
        ("Server", "AmazonS3"),
    ]


@pytest.mark.parametrize(
    ("error", "status", "code", "message"),
    [
        (
            NoSuchBucket("The specified bucket does not exist", BucketName="b"),
            404,
            "NoSuchBucket",
            "The specified bucket does not exist",
        ),
        (AccessDenied("Access Denied"), 403, "AccessDenied", "Access Denied"),
        (
            aws_error("InvalidRange", 416)("The requested range is not satisfiable", RangeRequested="bytes=9-"),
            416,
            "InvalidRange",
            "The requested range is not satisfiable",
        ),
        (
            aws_error("PreconditionFailed", 412)(
                "At least one of the pre-conditions you specified did not hold", Condition="If-Match"
            ),
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
        ),
        (
            ValueError("secret internals /srv/db"),
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        (
            InternalFailure("traceback text"),
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        (
            InvalidClientTokenId("The security token included in the request is invalid."),
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        ),
    ],
)
def test_botocore_reads_code_message_and_status(error: BaseException, status: int, code: str, message: str) -> None:
    got_status, headers, body = s3_error_response(error, "REQ", resource="/b/k")
    assert got_status == status
    parsed = _botocore_error(got_status, headers, body)
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == message
    assert parsed["ResponseMetadata"]["RequestId"] == "REQ"
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == status
    assert b"secret" not in body and b"traceback" not in body


def test_extra_fields_and_resource_become_elements_botocore_reports() -> None:
    error = NoSuchBucket("The specified bucket does not exist", BucketName="photos", Detail={"nested": "dropped"})
    status, headers, body = s3_error_response(error, "REQ", resource="/photos")
    assert b"<BucketName>photos</BucketName><Resource>/photos</Resource><RequestId>" in body
    assert b"nested" not in body
    parsed = _botocore_error(status, headers, body)
    assert parsed["Error"]["BucketName"] == "photos"


def test_head_requests_and_not_modified_get_no_body() -> None:
    status, headers, body = s3_error_response(NoSuchKey("The specified key does not exist."), "REQ", method="HEAD")
    assert (status, body) == (404, b"")
    assert dict(headers)["x-amz-request-id"] == "REQ"
    parsed = _botocore_error(status, headers, body, "HeadObject")
    assert (parsed["Error"]["Code"], parsed["Error"]["Message"]) == ("404", "Not Found")
    status, headers, body = s3_error_response(NotModified("Not Modified", ETag='"e1"', LastModified=WHEN), "REQ")
    assert (status, body) == (304, b"")
    assert ("ETag", '"e1"') in headers
    assert ("Last-Modified", "Mon, 23 Nov 2026 19:03:06 GMT") in headers


def test_messages_and_extras_are_escaped_and_odd_names_dropped() -> None:
    error = aws_error("InvalidArgument", 400)(
        "a < b & c", ArgumentName="x-amz-meta-<", **{"bad name": "v", "Code": "Forged"}
    )
    _, _, body = s3_error_response(error, "REQ")
    assert b"<Message>a &lt; b &amp; c</Message><ArgumentName>x-amz-meta-&lt;</ArgumentName><RequestId>" in body
    assert b"Forged" not in body


def test_host_id_is_stable_per_request_and_never_the_request_id() -> None:
    first = dict(s3_error_response(NoSuchKey("x"), "REQ-1")[1])["x-amz-id-2"]
    assert first == dict(s3_error_response(NoSuchKey("x"), "REQ-1")[1])["x-amz-id-2"]
    assert first != dict(s3_error_response(NoSuchKey("x"), "REQ-2")[1])["x-amz-id-2"]


def test_as_s3_error_keeps_service_errors() -> None:
    error = NoSuchKey("The specified key does not exist.")
    assert as_s3_error(error) is error
