"""Typed AWS errors: one base with code, HTTP status, sender fault and message; small subclasses per code.

Services raise these; each protocol codec turns them into its own error body. Codes and statuses of
service-specific errors are checked against botocore's models by the tests.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AwsError(Exception):
    """An error AWS would return. `extra` carries protocol-specific fields (S3's RequestTime, ...)."""

    code: ClassVar[str] = "InternalFailure"
    http_status: ClassVar[int] = 500
    sender_fault: ClassVar[bool] = False

    def __init__(self, message: str = "", **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


def aws_error(code: str, http_status: int, sender_fault: bool = True) -> type[AwsError]:
    """Build an AwsError subclass for a code (used where a service model names the error)."""
    return type(code, (AwsError,), {"code": code, "http_status": http_status, "sender_fault": sender_fault})


# S3 error codes raised by more than one layer (codec, signature checks, server glue, S3 service): one class
# each, so every layer raises and catches the same one.
BadDigest = aws_error("BadDigest", 400)
EntityTooLarge = aws_error("EntityTooLarge", 400)
IncompleteBody = aws_error("IncompleteBody", 400)
InvalidAccessKeyId = aws_error("InvalidAccessKeyId", 403)
InvalidArgument = aws_error("InvalidArgument", 400)
InvalidDigest = aws_error("InvalidDigest", 400)
InvalidRequest = aws_error("InvalidRequest", 400)
KeyTooLongError = aws_error("KeyTooLongError", 400)
MalformedXML = aws_error("MalformedXML", 400)
MetadataTooLarge = aws_error("MetadataTooLarge", 400)
MethodNotAllowed = aws_error("MethodNotAllowed", 405)
MissingContentLength = aws_error("MissingContentLength", 411)


class InternalFailure(AwsError):
    code = "InternalFailure"
    http_status = 500


class ServiceUnavailable(AwsError):
    code = "ServiceUnavailable"
    http_status = 503


class AccessDenied(AwsError):
    code = "AccessDenied"
    http_status = 403
    sender_fault = True


class ValidationError(AwsError):
    code = "ValidationError"
    http_status = 400
    sender_fault = True


class InvalidAction(AwsError):
    code = "InvalidAction"
    http_status = 400
    sender_fault = True


class MissingParameter(AwsError):
    code = "MissingParameter"
    http_status = 400
    sender_fault = True


class InvalidParameterValue(AwsError):
    code = "InvalidParameterValue"
    http_status = 400
    sender_fault = True


class MalformedQueryString(AwsError):
    code = "MalformedQueryString"
    http_status = 404
    sender_fault = True


class MissingAuthenticationToken(AwsError):
    code = "MissingAuthenticationToken"
    http_status = 403
    sender_fault = True


class IncompleteSignature(AwsError):
    code = "IncompleteSignature"
    http_status = 400
    sender_fault = True


class SignatureDoesNotMatch(AwsError):
    code = "SignatureDoesNotMatch"
    http_status = 403
    sender_fault = True


class InvalidClientTokenId(AwsError):
    code = "InvalidClientTokenId"
    http_status = 403
    sender_fault = True


class ExpiredToken(AwsError):
    code = "ExpiredToken"
    http_status = 400
    sender_fault = True


class RequestEntityTooLarge(AwsError):
    code = "RequestEntityTooLarge"
    http_status = 413
    sender_fault = True
