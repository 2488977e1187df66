"""Response shapes of Organizations entities, exactly as botocore's output shapes name their members."""

from __future__ import annotations

from typing import Any

from rolegate.services.organizations import meta
from rolegate.services.organizations.tree import (
    account_arn,
    org_arn,
    ou_arn,
    path_text,
    policy_arn,
    root_arn,
)
from rolegate.store.interface import Transaction
from rolegate.store.records import Account, Organization, OrganizationalUnit, OrgPolicy

ROOT_NAME = "Root"


def policy_types_out(org: Organization) -> list[dict[str, str]]:
    return [{"Type": t, "Status": "ENABLED"} for t in org.enabled_policy_types]


def organization_out(org: Organization) -> dict[str, Any]:
    return {
        "Id": org.org_id,
        "Arn": org_arn(org),
        "FeatureSet": org.feature_set,
        "MasterAccountArn": account_arn(org, org.management_account_id),
        "MasterAccountId": org.management_account_id,
        "MasterAccountEmail": org.management_email,
        "AvailablePolicyTypes": policy_types_out(org),
    }


def root_out(org: Organization) -> dict[str, Any]:
    return {"Id": org.root_id, "Arn": root_arn(org), "Name": ROOT_NAME, "PolicyTypes": policy_types_out(org)}


def account_out(tx: Transaction, org: Organization, account: Account) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Id": account.account_id,
        "Arn": account_arn(org, account.account_id),
        "Email": account.email,
        "Name": account.name,
        "Status": account.status,
        "State": account.status,
        "Paths": [path_text(tx, org, account.account_id)],
        "JoinedMethod": account.joined_method,
    }
    if account.joined_at is not None:
        out["JoinedTimestamp"] = account.joined_at
    return out


def ou_out(tx: Transaction, org: Organization, ou: OrganizationalUnit) -> dict[str, Any]:
    return {"Id": ou.ou_id, "Arn": ou_arn(org, ou.ou_id), "Name": ou.name, "Path": path_text(tx, org, ou.ou_id)}


def policy_summary(org: Organization, policy: OrgPolicy) -> dict[str, Any]:
    return {
        "Id": policy.policy_id,
        "Arn": policy_arn(org, policy.policy_id, policy.policy_type, policy.aws_managed),
        "Name": policy.name,
        "Description": policy.description,
        "Type": policy.policy_type,
        "AwsManaged": policy.aws_managed,
    }


def policy_out(org: Organization, policy: OrgPolicy) -> dict[str, Any]:
    return {"PolicySummary": policy_summary(org, policy), "Content": policy.content}


def tags_out(tx: Transaction, resource_id: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in meta.tags_of(tx, resource_id)]
