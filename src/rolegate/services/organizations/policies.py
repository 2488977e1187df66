"""SCPs and RCPs as documents: CreatePolicy, DescribePolicy, UpdatePolicy, DeletePolicy, ListPolicies.

Content is validated by the engine for its kind (SCP or RCP) and stored as given; the size limit (5,120
characters) counts the content exactly as sent, whitespace included, as AWS does for the API. The policy
name is kept in OrgPolicy.name, which the authorizer uses (with the content) as the engine's policy id.
AWS managed policies cannot be changed or deleted (InvalidInputException, reason IMMUTABLE_POLICY).
rolegate enforces SCPs and RCPs only, so it refuses the other policy types the model lists.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolegate.policy import validate_policy
from rolegate.policy.validate import SIZE_LIMITS
from rolegate.services.context import CallContext
from rolegate.services.organizations import meta
from rolegate.services.organizations.catalog import FULL_ACCESS, KINDS
from rolegate.services.organizations.common import management_org, page, unique_id
from rolegate.services.organizations.errors import (
    ConstraintViolationException,
    DuplicatePolicyException,
    InvalidInputException,
    MalformedPolicyDocumentException,
    PolicyInUseException,
    PolicyNotFoundException,
    PolicyTypeNotAvailableForOrganizationException,
)
from rolegate.services.organizations.shapes import policy_out, policy_summary
from rolegate.services.organizations.tags import checked_request_tags
from rolegate.services.organizations.tree import anywhere, policy_arn, resource_of
from rolegate.services.registry import operation
from rolegate.store.records import Organization, OrgPolicy, OrgPolicyAttachment

CONTENT_LIMIT = 5120
MAX_POLICIES = 1000
POLICY_NOT_FOUND = "We can't find a policy with the PolicyId that you specified."
MALFORMED = "The provided policy document does not meet the requirements of the specified policy type."


def checked_type(org: Organization, policy_type: str) -> str:
    if policy_type not in KINDS:
        raise InvalidInputException(
            "You specified an invalid policy type string (rolegate supports SERVICE_CONTROL_POLICY and "
            "RESOURCE_CONTROL_POLICY).",
            "INVALID_ENUM_POLICY_TYPE",
        )
    if org.feature_set != "ALL":
        raise PolicyTypeNotAvailableForOrganizationException(
            "You can't use the specified policy type with the feature set currently enabled for this organization."
        )
    return policy_type


def checked_content(content: str, policy_type: str) -> str:
    if len(content) > CONTENT_LIMIT:
        raise ConstraintViolationException(
            "You attempted to create a policy that is larger than the maximum size.", "POLICY_CONTENT_LIMIT_EXCEEDED"
        )
    kind = KINDS[policy_type]
    errors = [e for e in validate_policy(content, kind) if e.message != SIZE_LIMITS[kind][1]]
    if errors:
        where = f" ({errors[0].path})" if errors[0].path else ""
        raise MalformedPolicyDocumentException(f"{MALFORMED} {errors[0].message}{where}")
    return content


def org_policy(call: CallContext, org: Organization, policy_id: str) -> OrgPolicy:
    """A customer policy of this organization or an AWS managed one."""
    policy = call.tx.get(OrgPolicy, policy_id)
    if policy is None or not (policy.aws_managed or meta.policy_owner(call.tx, policy_id) == org.org_id):
        raise PolicyNotFoundException(POLICY_NOT_FOUND)
    return policy


def _mutable(call: CallContext, org: Organization, policy_id: str) -> OrgPolicy:
    policy = org_policy(call, org, policy_id)
    if policy.aws_managed:
        raise InvalidInputException(
            "You specified a policy that is managed by AWS and can't be modified.", "IMMUTABLE_POLICY"
        )
    return policy


def policies_of(call: CallContext, org: Organization, policy_type: str) -> list[OrgPolicy]:
    """The AWS managed policy of the type first, then the organization's own, by name."""
    found = call.tx.find(OrgPolicy, policy_type=policy_type)
    own = sorted(
        (p for p in found if not p.aws_managed and meta.policy_owner(call.tx, p.policy_id) == org.org_id),
        key=lambda p: (p.name, p.policy_id),
    )
    managed = [FULL_ACCESS[policy_type]] if policy_type in FULL_ACCESS else []
    return [*managed, *own]


def _check_name(call: CallContext, org: Organization, name: str, policy_type: str, policy_id: str = "") -> None:
    if any(p.name == name and p.policy_id != policy_id for p in policies_of(call, org, policy_type)):
        raise DuplicatePolicyException("A policy with the same name already exists.")


@operation("organizations", "CreatePolicy", resource=anywhere)
def create_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    policy_type = checked_type(org, params["Type"])
    content = checked_content(params["Content"], policy_type)
    _check_name(call, org, params["Name"], policy_type)
    if len(policies_of(call, org, policy_type)) >= MAX_POLICIES:
        raise ConstraintViolationException(
            "You attempted to exceed the number of policies that you can have in an organization.",
            "POLICY_NUMBER_LIMIT_EXCEEDED",
        )
    policy_id = unique_id(lambda: "p-" + call.ids.token(10), lambda c: call.tx.get(OrgPolicy, c) is not None)
    arn = policy_arn(org, policy_id, policy_type, False)
    tags = checked_request_tags(call, arn, params.get("Tags", []))
    policy = OrgPolicy(policy_id, policy_type, params["Name"], params.get("Description", ""), content)
    call.tx.insert(policy)
    meta.put(call.tx, meta.POLICY_OWNER, policy_id, org.org_id)
    meta.set_tags(call.tx, policy_id, tags)
    return {"Policy": policy_out(org, policy)}


@operation("organizations", "DescribePolicy", resource=resource_of("PolicyId"))
def describe_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    return {"Policy": policy_out(org, org_policy(call, org, params["PolicyId"]))}


@operation("organizations", "UpdatePolicy", resource=resource_of("PolicyId"))
def update_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    policy = _mutable(call, org, params["PolicyId"])
    changes: dict[str, Any] = {}
    if params.get("Name"):
        _check_name(call, org, params["Name"], policy.policy_type, policy.policy_id)
        changes["name"] = params["Name"]
    if "Description" in params:
        changes["description"] = params["Description"]
    if params.get("Content"):
        changes["content"] = checked_content(params["Content"], policy.policy_type)
    policy = replace(policy, **changes)
    call.tx.put(policy)
    return {"Policy": policy_out(org, policy)}


@operation("organizations", "DeletePolicy", resource=resource_of("PolicyId"))
def delete_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    policy = _mutable(call, org, params["PolicyId"])
    if call.tx.count(OrgPolicyAttachment, policy_id=policy.policy_id):
        raise PolicyInUseException(
            "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts "
            "before performing this operation."
        )
    call.tx.delete(OrgPolicy, policy.policy_id)
    meta.drop(call.tx, meta.POLICY_OWNER, policy.policy_id)
    meta.drop(call.tx, meta.TAGS, policy.policy_id)
    return {}


@operation("organizations", "ListPolicies", resource=anywhere)
def list_policies(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Types rolegate does not support simply have no policies."""
    org = management_org(call)
    return page(policies_of(call, org, params["Filter"]), params, "Policies", lambda p: policy_summary(org, p))
