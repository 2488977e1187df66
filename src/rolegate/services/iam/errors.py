"""IAM's modeled errors (codes and statuses checked against botocore's IAM model by the tests)."""

from __future__ import annotations

from rolegate.errors import AwsError


class IamError(AwsError):
    sender_fault = True


class NoSuchEntity(IamError):
    code = "NoSuchEntity"
    http_status = 404


class EntityAlreadyExists(IamError):
    code = "EntityAlreadyExists"
    http_status = 409


class LimitExceeded(IamError):
    code = "LimitExceeded"
    http_status = 409


class DeleteConflict(IamError):
    code = "DeleteConflict"
    http_status = 409


class MalformedPolicyDocument(IamError):
    code = "MalformedPolicyDocument"
    http_status = 400


class InvalidInput(IamError):
    code = "InvalidInput"
    http_status = 400


class UnmodifiableEntity(IamError):
    code = "UnmodifiableEntity"
    http_status = 400


class PolicyNotAttachable(IamError):
    code = "PolicyNotAttachable"
    http_status = 400


class InvalidAuthenticationCode(IamError):
    code = "InvalidAuthenticationCode"
    http_status = 403


class ConcurrentModification(IamError):
    code = "ConcurrentModification"
    http_status = 409


class PolicyEvaluation(IamError):
    code = "PolicyEvaluation"
    http_status = 500
    sender_fault = False


MODELED: tuple[type[IamError], ...] = (
    NoSuchEntity,
    EntityAlreadyExists,
    LimitExceeded,
    DeleteConflict,
    MalformedPolicyDocument,
    InvalidInput,
    UnmodifiableEntity,
    PolicyNotAttachable,
    InvalidAuthenticationCode,
    ConcurrentModification,
    PolicyEvaluation,
)
