"""Whether a bucket policy is public, and whether a bucket's Block Public Access settings apply: the pure
part of S3 Block Public Access (see public_access.py for the settings' operations and where they bite).

A policy is public when an Allow statement names every principal (`"*"` or `{"AWS": "*"}`) and no
condition pins it to fixed values of the keys S3 accepts as restricting (source IP ranges other than the
whole internet, source VPC/VPCE/ARN/account, principal account/ARN/org, user id).
"""

from __future__ import annotations

import functools

from rolegate.policy import Effect, Policy, Statement, parse_policy
from rolegate.store.records import Bucket

SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
RESTRICTING_KEYS = frozenset(
    {
        "aws:sourceip",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalorgid",
        "aws:userid",
        "s3:dataaccesspointaccount",
        "s3:dataaccesspointarn",
    }
)
OPEN_NETWORKS = frozenset({"0.0.0.0/0", "::/0"})


def blocks(bucket: Bucket, setting: str) -> bool:
    return bucket.public_access_block is not None and setting in bucket.public_access_block


def _names_everyone(statement: Statement) -> bool:
    spec = statement.principal
    return spec is not None and (spec.wildcard or "*" in spec.values("AWS"))


def _restricted(statement: Statement) -> bool:
    for clause in statement.conditions:
        if clause.key.lower() not in RESTRICTING_KEYS or clause.operator.lower().startswith("not"):
            continue
        values = [str(v) for v in clause.values]
        if any("*" in v or "?" in v for v in values) or OPEN_NETWORKS & set(values):
            continue
        return True
    return False


def is_public(policy: Policy) -> bool:
    return any(s.effect is Effect.ALLOW and _names_everyone(s) and not _restricted(s) for s in policy.statements)


@functools.lru_cache(maxsize=256)  # asked on every cross-account request to a restricted bucket
def policy_is_public(text: str) -> bool:
    parsed = parse_policy(text)
    return parsed.policy is not None and is_public(parsed.policy)


def restricts(bucket: Bucket, caller_account: str) -> bool:
    """Whether RestrictPublicBuckets takes the bucket policy away from this caller."""
    return (
        bool(bucket.policy)
        and caller_account != bucket.account_id
        and blocks(bucket, "RestrictPublicBuckets")
        and policy_is_public(bucket.policy)
    )
