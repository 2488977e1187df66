"""Where policy documents come from: managed policies (customer and AWS), inline policies, org policies."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from rolegate.store.interface import Transaction
from rolegate.store.records import Attachment, GroupMember, InlinePolicy, ManagedPolicy, PolicyVersion

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy"
DATA_FILE = "aws_managed_policies.json.gz"


@dataclass(frozen=True, slots=True)
class AwsManagedPolicy:
    arn: str
    name: str
    path: str
    policy_id: str
    version: str
    document: str
    created: str
    updated: str
    description: str = ""


@cache
def aws_managed_policies() -> dict[str, AwsManagedPolicy]:
    """The AWS managed policies bundled with rolegate (see scripts/update_managed_policies.py), by ARN."""
    try:
        raw = resources.files("rolegate.data").joinpath(DATA_FILE).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError):
        return {}
    entries: list[dict[str, Any]] = json.loads(gzip.decompress(raw))["policies"]
    return {e["arn"]: AwsManagedPolicy(**{k: e[k] for k in AwsManagedPolicy.__slots__ if k in e}) for e in entries}


def managed_document(tx: Transaction, arn: str) -> str | None:
    """The default version's document of a managed policy, or None if the policy does not exist."""
    if arn.startswith(AWS_POLICY_PREFIX + "/"):
        found = aws_managed_policies().get(arn)
        return found.document if found else None
    policy = tx.get(ManagedPolicy, arn)
    if policy is None:
        return None
    version = tx.get(PolicyVersion, arn, policy.default_version)
    return version.document if version else None


def owner_documents(tx: Transaction, account: str, kind: str, name: str) -> list[tuple[str, str]]:
    """(policy id, document) for the inline and attached policies of one user, group or role."""
    documents = [
        (f"{kind}/{name}/{p.name}", p.document)
        for p in tx.find(InlinePolicy, account_id=account, owner_kind=kind, owner_name=name)
    ]
    for attachment in tx.find(Attachment, account_id=account, owner_kind=kind, owner_name=name):
        document = managed_document(tx, attachment.policy_arn)
        if document is not None:
            documents.append((attachment.policy_arn, document))
    return documents


def user_documents(tx: Transaction, account: str, user_name: str) -> list[tuple[str, str]]:
    """A user's own policies plus those of every group the user belongs to."""
    documents = owner_documents(tx, account, "user", user_name)
    for membership in tx.find(GroupMember, account_id=account, user_name=user_name):
        documents.extend(owner_documents(tx, account, "group", membership.group_name))
    return documents
