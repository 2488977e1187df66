"""STS's modeled errors (checked against botocore's STS model by the tests)."""

from __future__ import annotations

from rolegate.errors import AwsError


class MalformedPolicyDocument(AwsError):
    code = "MalformedPolicyDocument"
    http_status = 400
    sender_fault = True


class PackedPolicyTooLarge(AwsError):
    code = "PackedPolicyTooLarge"
    http_status = 400
    sender_fault = True


class InvalidAuthorizationMessage(AwsError):
    code = "InvalidAuthorizationMessageException"
    http_status = 400
    sender_fault = True
