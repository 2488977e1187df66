"""S3's wire errors: the codes the rest-xml codec raises, and any error as S3's `<Error>` document.

S3 does not use the "N validation errors detected" form: a request it cannot read is one error with a
code of its own (InvalidArgument, InvalidURI, MalformedXML, ...), and the document carries the error's
extra fields (`Key`, `BucketName`, `ArgumentName`, ...) between Message and RequestId. Any exception
that is not an AwsError, and InternalFailure itself, become S3's InternalError with its fixed message,
so exception text never reaches the wire.
"""

from __future__ import annotations

import re
from binascii import b2a_base64
from collections.abc import Mapping
from datetime import datetime
from hashlib import sha256
from typing import Any

from rolegate.errors import (
    AwsError,
    InternalFailure,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidClientTokenId,
    MalformedXML,
    aws_error,
)
from rolegate.protocol.restxml_values import format_http_date
from rolegate.protocol.xml import DECLARATION, XmlWriter

Headers = list[tuple[str, str]]
S3_CONTENT_TYPE = "application/xml"

InvalidURI = aws_error("InvalidURI", 400)
MaxMessageLengthExceeded = aws_error("MaxMessageLengthExceeded", 400)
MissingRequestBodyError = aws_error("MissingRequestBodyError", 400)
NotImplementedOperation = aws_error("NotImplemented", 501)
InternalError = aws_error("InternalError", 500, sender_fault=False)

MALFORMED_XML = "The XML you provided was not well-formed or did not validate against our published schema"
INVALID_URI = "Couldn't parse the specified URI."
INTERNAL_ERROR = "We encountered an internal error. Please try again."
METHOD_NOT_ALLOWED = "The specified method is not allowed against this resource."
NOT_IMPLEMENTED = "A header you provided implies functionality that is not implemented."
INVALID_ACCESS_KEY = "The AWS Access Key Id you provided does not exist in our records."
_RESERVED = frozenset({"code", "message", "requestid", "hostid"})
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}", re.ASCII)


def invalid_argument(message: str, name: str, value: str) -> AwsError:
    """InvalidArgument naming the offending parameter, as S3 does (value cut short: it may be huge)."""
    return InvalidArgument(message, ArgumentName=name, ArgumentValue=value[:1024])


def malformed_xml() -> AwsError:
    return MalformedXML(MALFORMED_XML)


def as_s3_error(exc: BaseException) -> AwsError:
    """The error to put on the wire, in S3's vocabulary, without leaking internal text."""
    if isinstance(exc, InvalidClientTokenId):
        return InvalidAccessKeyId(INVALID_ACCESS_KEY)
    if isinstance(exc, AwsError) and exc.code not in (InternalFailure.code, InternalError.code):
        return exc
    return InternalError(INTERNAL_ERROR)


SERVER_HEADER = ("Server", "AmazonS3")  # what S3 names itself in every response


def host_id(request_id: str) -> str:
    """A stable `x-amz-id-2` for a request id: S3's is an opaque base64 token, never a secret."""
    return b2a_base64(sha256(request_id.encode("utf-8")).digest(), newline=False).decode("ascii")


def s3_error_body(error: AwsError, request_id: str, resource: str = "", host: str | None = None) -> bytes:
    """`<?xml ...?>\\n<Error><Code/><Message/>[extra fields][<Resource/>]<RequestId/><HostId/></Error>`."""
    writer = XmlWriter()
    with writer.element("Error"):
        writer.leaf("Code", error.code)
        writer.leaf("Message", error.message)
        extra = _extra_fields(error.extra)
        for name, text in extra.items():
            writer.leaf(name, text)
        if resource and "Resource" not in extra:
            writer.leaf("Resource", resource)
        writer.leaf("RequestId", request_id)
        writer.leaf("HostId", host if host is not None else host_id(request_id))
    return (DECLARATION + "\n").encode("utf-8") + writer.to_bytes()


def _extra_fields(extra: Mapping[str, Any]) -> dict[str, str]:
    """Scalar extras as element texts; names that are not plain XML names are dropped, not escaped."""
    fields: dict[str, str] = {}
    for name, value in extra.items():
        if not _FIELD_NAME.fullmatch(name) or name.lower() in _RESERVED:
            continue
        if isinstance(value, bool):
            fields[name] = "true" if value else "false"
        elif isinstance(value, str | int):
            fields[name] = str(value)
    return fields


def _validators(extra: Mapping[str, Any]) -> Headers:
    """A 304 repeats the object's ETag and Last-Modified (RFC 9110), when the error carries them."""
    found: Headers = []
    if isinstance(extra.get("ETag"), str) and not any(char in extra["ETag"] for char in "\r\n\0"):
        found.append(("ETag", extra["ETag"]))
    if isinstance(extra.get("LastModified"), datetime):
        found.append(("Last-Modified", format_http_date(extra["LastModified"])))
    return found


def s3_error_response(
    exc: BaseException, request_id: str, resource: str = "", *, method: str = "GET", host: str | None = None
) -> tuple[int, Headers, bytes]:
    """(status, headers, body) for any exception; HEAD requests and 304 Not Modified carry no body."""
    error = as_s3_error(exc)
    amz_id = host if host is not None else host_id(request_id)
    headers: Headers = [("x-amz-request-id", request_id), ("x-amz-id-2", amz_id), SERVER_HEADER]
    if error.http_status == 304:
        return 304, headers + _validators(error.extra), b""
    if method.upper() == "HEAD":
        return error.http_status, headers, b""
    body = s3_error_body(error, request_id, resource, amz_id)
    return error.http_status, [("Content-Type", S3_CONTENT_TYPE), *headers], body
