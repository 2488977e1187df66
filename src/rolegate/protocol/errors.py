"""AwsError -> (HTTP status, headers, body bytes) for the awsQuery (XML) and awsJson (JSON) protocols.

Anything that is not an AwsError becomes InternalFailure with AWS's fixed message, and so does an
InternalFailure raised with text of its own: exception text and tracebacks never reach the wire.
"""

from __future__ import annotations

import json
from typing import Any

from rolegate.errors import AwsError, InternalFailure, aws_error
from rolegate.protocol.xml import XmlWriter

Headers = list[tuple[str, str]]
Response = tuple[int, Headers, bytes]

QUERY_CONTENT_TYPE = "text/xml"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
INTERNAL_FAILURE_MESSAGE = "The request processing has failed because of an unknown error, exception or failure."

ValidationException = aws_error("ValidationException", 400)
SerializationException = aws_error("SerializationException", 400)


def as_aws_error(exc: BaseException) -> AwsError:
    """The error to put on the wire for any exception, without leaking internal text."""
    if isinstance(exc, AwsError) and exc.code != InternalFailure.code:
        return exc
    return InternalFailure(INTERNAL_FAILURE_MESSAGE)


def query_error_body(error: AwsError, request_id: str, xml_namespace: str | None = None) -> bytes:
    """`<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`."""
    writer = XmlWriter()
    with writer.element("ErrorResponse", {"xmlns": xml_namespace} if xml_namespace else None):
        with writer.element("Error"):
            writer.leaf("Type", "Sender" if error.sender_fault else "Receiver")
            writer.leaf("Code", error.code)
            writer.leaf("Message", error.message)
        writer.leaf("RequestId", request_id)
    return writer.to_bytes()


def json_error_body(error: AwsError) -> bytes:
    """`{"__type": code, "Message": message}` plus the error's JSON-safe extra fields (e.g. Reason)."""
    body: dict[str, Any] = {
        key: value
        for key, value in error.extra.items()
        if isinstance(value, str | int | float | bool) and key.lower() not in ("message", "__type")
    }
    body.update({"__type": error.code, "Message": error.message})
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def query_error_response(exc: BaseException, request_id: str, xml_namespace: str | None = None) -> Response:
    error = as_aws_error(exc)
    body = query_error_body(error, request_id, xml_namespace)
    return error.http_status, response_headers(QUERY_CONTENT_TYPE, request_id), body


def json_error_response(exc: BaseException, request_id: str) -> Response:
    error = as_aws_error(exc)
    return error.http_status, response_headers(JSON_CONTENT_TYPE, request_id), json_error_body(error)


def response_headers(content_type: str, request_id: str) -> Headers:
    return [("Content-Type", content_type), ("x-amzn-RequestId", request_id)]
