"""Bucket policies: put (validated as a resource policy, plus S3's own rules), get, delete.

Only the bucket owner's account may manage the policy (others get 405 even when allowed), and the owner's
root user always may, even against a Deny, so an account cannot lock itself out of its own bucket.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from rolegate.errors import AccessDenied, MethodNotAllowed
from rolegate.policy import Policy, PolicyKind, parse_policy, validate_policy
from rolegate.services.context import CallContext
from rolegate.services.iam.trust import principal_exists
from rolegate.services.registry import operation
from rolegate.services.s3.access import bucket_arn, bucket_of, decide
from rolegate.services.s3.errors import MalformedPolicy, NoSuchBucketPolicy, access_denied
from rolegate.services.s3.public_access import blocked_policy_message
from rolegate.services.s3.public_policy import blocks, policy_is_public
from rolegate.store.records import Bucket

MAX_POLICY_CHARS = 20 * 1024
METHODS = {"s3:PutBucketPolicy": "PUT", "s3:GetBucketPolicy": "GET", "s3:DeleteBucketPolicy": "DELETE"}


def _manage(call: CallContext, action: str, params: dict[str, Any]) -> Bucket:
    bucket = bucket_of(call, params)
    caller = call.caller
    owner_root = caller.kind == "root" and caller.account_id == bucket.account_id
    if not decide(call, action, bucket_arn(bucket.name), bucket).allowed:
        if not owner_root:
            raise access_denied()
        call.decisions.pop()  # the owner's root user is let through; its call is not recorded as a denial
    if caller.account_id != bucket.account_id:
        raise MethodNotAllowed(
            "The specified method is not allowed against this resource.",
            Method=METHODS[action],
            ResourceType="BUCKETPOLICY",
        )
    return bucket


def checked_bucket_policy(call: CallContext, bucket: str, text: Any) -> str:
    """The engine's resource-policy validation, then S3's rules: resources inside the bucket, S3 actions,
    and principals that exist when they name a user or role of an account rolegate hosts."""
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        raise MalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
    if len(text) > MAX_POLICY_CHARS:
        raise MalformedPolicy("Policies must be less than 20 KB.")
    try:
        json.loads(text)
    except ValueError:
        raise MalformedPolicy("This policy contains invalid Json") from None
    errors = validate_policy(text, PolicyKind.RESOURCE)
    if errors:
        raise MalformedPolicy(errors[0].message)
    policy = parse_policy(text).policy
    if policy is None:
        raise MalformedPolicy("This policy contains invalid Json")
    _check_s3_rules(call, bucket, policy)
    return text


def _check_s3_rules(call: CallContext, bucket: str, policy: Policy) -> None:
    own = bucket_arn(bucket)
    for statement in policy.statements:
        for resources in (statement.resource, statement.not_resource):
            for resource in resources.items if resources else ():
                if resource != own and not resource.startswith(own + "/"):
                    raise MalformedPolicy("Policy has invalid resource")
        for actions in (statement.action, statement.not_action):
            for action in actions.items if actions else ():
                if action != "*" and not action.lower().startswith("s3:"):
                    raise MalformedPolicy("Policy has invalid action")
        for spec in (statement.principal, statement.not_principal):
            for arn in spec.values("AWS") if spec else ():
                if not principal_exists(call, arn):
                    raise MalformedPolicy("Invalid principal in policy")


@operation("s3", "PutBucketPolicy", auth="handler")
def put_bucket_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = _manage(call, "s3:PutBucketPolicy", params)
    text = checked_bucket_policy(call, bucket.name, params.get("Policy"))
    if blocks(bucket, "BlockPublicPolicy") and policy_is_public(text):
        raise AccessDenied(blocked_policy_message(call, bucket))
    call.tx.put(replace(bucket, policy=text))
    return {}


@operation("s3", "GetBucketPolicy", auth="handler")
def get_bucket_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = _manage(call, "s3:GetBucketPolicy", params)
    if not bucket.policy:
        raise NoSuchBucketPolicy("The bucket policy does not exist", BucketName=bucket.name)
    return {"Policy": bucket.policy}


@operation("s3", "DeleteBucketPolicy", auth="handler")
def delete_bucket_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = _manage(call, "s3:DeleteBucketPolicy", params)
    call.tx.put(replace(bucket, policy=""))
    return {}
