"""AWS Organizations' modeled errors; codes and statuses are checked against botocore's model by the tests.

The model gives none of these shapes an `error` trait, so each code is the shape name and each status is
botocore's default, 400 (even AccessDeniedException). Messages follow what AWS returns at run time where
that is known, else the first sentence of the shape's documentation.
"""

from __future__ import annotations

from typing import Any

from rolegate.errors import AwsError


class OrganizationsError(AwsError):
    http_status = 400
    sender_fault = True


class ReasonedError(OrganizationsError):
    """Errors whose shape carries a `Reason` member (an enum the model lists)."""

    def __init__(self, message: str, reason: str, **extra: Any) -> None:
        super().__init__(message, Reason=reason, **extra)
        self.reason = reason


class AccessDeniedException(OrganizationsError):
    code = "AccessDeniedException"


class AWSOrganizationsNotInUseException(OrganizationsError):
    code = "AWSOrganizationsNotInUseException"


class AlreadyInOrganizationException(OrganizationsError):
    code = "AlreadyInOrganizationException"


class AccountNotFoundException(OrganizationsError):
    code = "AccountNotFoundException"


class ChildNotFoundException(OrganizationsError):
    code = "ChildNotFoundException"


class ConstraintViolationException(ReasonedError):
    code = "ConstraintViolationException"


class CreateAccountStatusNotFoundException(OrganizationsError):
    code = "CreateAccountStatusNotFoundException"


class DestinationParentNotFoundException(OrganizationsError):
    code = "DestinationParentNotFoundException"


class DuplicateAccountException(OrganizationsError):
    code = "DuplicateAccountException"


class DuplicateOrganizationalUnitException(OrganizationsError):
    code = "DuplicateOrganizationalUnitException"


class DuplicatePolicyAttachmentException(OrganizationsError):
    code = "DuplicatePolicyAttachmentException"


class DuplicatePolicyException(OrganizationsError):
    code = "DuplicatePolicyException"


class InvalidInputException(ReasonedError):
    code = "InvalidInputException"


class MalformedPolicyDocumentException(OrganizationsError):
    code = "MalformedPolicyDocumentException"


class OrganizationNotEmptyException(OrganizationsError):
    code = "OrganizationNotEmptyException"


class OrganizationalUnitNotEmptyException(OrganizationsError):
    code = "OrganizationalUnitNotEmptyException"


class OrganizationalUnitNotFoundException(OrganizationsError):
    code = "OrganizationalUnitNotFoundException"


class ParentNotFoundException(OrganizationsError):
    code = "ParentNotFoundException"


class PolicyInUseException(OrganizationsError):
    code = "PolicyInUseException"


class PolicyNotAttachedException(OrganizationsError):
    code = "PolicyNotAttachedException"


class PolicyNotFoundException(OrganizationsError):
    code = "PolicyNotFoundException"


class PolicyTypeAlreadyEnabledException(OrganizationsError):
    code = "PolicyTypeAlreadyEnabledException"


class PolicyTypeNotAvailableForOrganizationException(OrganizationsError):
    code = "PolicyTypeNotAvailableForOrganizationException"


class PolicyTypeNotEnabledException(OrganizationsError):
    code = "PolicyTypeNotEnabledException"


class RootNotFoundException(OrganizationsError):
    code = "RootNotFoundException"


class SourceParentNotFoundException(OrganizationsError):
    code = "SourceParentNotFoundException"


class TargetNotFoundException(OrganizationsError):
    code = "TargetNotFoundException"


MODELED: tuple[type[OrganizationsError], ...] = (
    AccessDeniedException,
    AWSOrganizationsNotInUseException,
    AlreadyInOrganizationException,
    AccountNotFoundException,
    ChildNotFoundException,
    ConstraintViolationException,
    CreateAccountStatusNotFoundException,
    DestinationParentNotFoundException,
    DuplicateAccountException,
    DuplicateOrganizationalUnitException,
    DuplicatePolicyAttachmentException,
    DuplicatePolicyException,
    InvalidInputException,
    MalformedPolicyDocumentException,
    OrganizationNotEmptyException,
    OrganizationalUnitNotEmptyException,
    OrganizationalUnitNotFoundException,
    ParentNotFoundException,
    PolicyInUseException,
    PolicyNotAttachedException,
    PolicyNotFoundException,
    PolicyTypeAlreadyEnabledException,
    PolicyTypeNotAvailableForOrganizationException,
    PolicyTypeNotEnabledException,
    RootNotFoundException,
    SourceParentNotFoundException,
    TargetNotFoundException,
)
