"""Managed policies (customer and AWS), their versions, attachments, and inline policies of users, groups, roles."""

from __future__ import annotations

from rolegate.services.context import CallContext
from rolegate.services.iam.errors import NoSuchEntity
from rolegate.services.policies import managed_document


def existing_policy_arn(call: CallContext, arn: str) -> str:
    """The ARN if it names an existing managed policy (customer or AWS), else NoSuchEntity as IAM words it."""
    if managed_document(call.tx, arn) is None:
        raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
    return arn
