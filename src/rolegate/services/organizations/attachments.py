"""Where policies apply: EnablePolicyType, DisablePolicyType, AttachPolicy, DetachPolicy,
ListPoliciesForTarget, ListTargetsForPolicy.

Attach and detach authorize the policy ARN (the pipeline) and the target ARN (here): IAM checks every
resource a request names. A target must keep at least one SCP while SCPs are enabled (AWS refuses to detach
the last one with ConstraintViolationException, reason MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED), and
RCPFullAWSAccess cannot be detached at all (InvalidInputException, reason NON_DETACHABLE_POLICY).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.organization import SCP
from rolegate.services.organizations.catalog import ATTACHMENT_LIMIT, FULL_ACCESS, NON_DETACHABLE, attached
from rolegate.services.organizations.common import management_org, page
from rolegate.services.organizations.errors import (
    ConstraintViolationException,
    DuplicatePolicyAttachmentException,
    InvalidInputException,
    PolicyNotAttachedException,
    PolicyTypeAlreadyEnabledException,
    PolicyTypeNotEnabledException,
    RootNotFoundException,
    TargetNotFoundException,
)
from rolegate.services.organizations.policies import checked_type, org_policy
from rolegate.services.organizations.shapes import ROOT_NAME, policy_summary, root_out
from rolegate.services.organizations.tree import (
    ACCOUNT,
    OU,
    all_targets,
    belongs,
    entity_arn,
    kind_of,
    resource_of,
)
from rolegate.services.registry import operation
from rolegate.store.records import Account, Organization, OrganizationalUnit, OrgPolicy, OrgPolicyAttachment

TARGET_NOT_FOUND = "You specified a target that doesn't exist."
NOT_ENABLED = "This operation can be performed only for enabled policy types."


# -- policy types on the root ----------------------------------------------------------------------------


def _root(call: CallContext, params: dict[str, Any]) -> tuple[Organization, str]:
    org = management_org(call)
    if params["RootId"] != org.root_id:
        raise RootNotFoundException("You specified a root that doesn't exist.")
    return org, checked_type(org, params["PolicyType"])


@operation("organizations", "EnablePolicyType", resource=resource_of("RootId"))
def enable_policy_type(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org, policy_type = _root(call, params)
    if policy_type in org.enabled_policy_types:
        raise PolicyTypeAlreadyEnabledException("The specified policy type is already enabled.")
    org = replace(org, enabled_policy_types=(*org.enabled_policy_types, policy_type))
    call.tx.put(org)
    default = FULL_ACCESS[policy_type].policy_id
    for target in all_targets(call.tx, org):
        call.tx.put(OrgPolicyAttachment(default, target))
    return {"Root": root_out(org)}


@operation("organizations", "DisablePolicyType", resource=resource_of("RootId"))
def disable_policy_type(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Every policy of the type is detached from every target, as AWS does."""
    org, policy_type = _root(call, params)
    if policy_type not in org.enabled_policy_types:
        raise PolicyTypeNotEnabledException(NOT_ENABLED)
    for target in all_targets(call.tx, org):
        for policy in attached(call.tx, target, policy_type):
            call.tx.delete(OrgPolicyAttachment, policy.policy_id, target)
    org = replace(org, enabled_policy_types=tuple(t for t in org.enabled_policy_types if t != policy_type))
    call.tx.put(org)
    return {"Root": root_out(org)}


# -- attach and detach -----------------------------------------------------------------------------------


def _policy_and_target(call: CallContext, params: dict[str, Any]) -> tuple[Organization, OrgPolicy, str]:
    org = management_org(call)
    target = params["TargetId"]
    call.authorizer.check(call, f"organizations:{call.operation}", entity_arn(call.tx, org, target))
    policy = org_policy(call, org, params["PolicyId"])
    if not belongs(call.tx, org, target):
        raise TargetNotFoundException(TARGET_NOT_FOUND)
    if policy.policy_type not in org.enabled_policy_types:
        raise PolicyTypeNotEnabledException(NOT_ENABLED)
    return org, policy, target


@operation("organizations", "AttachPolicy", resource=resource_of("PolicyId"))
def attach_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    _, policy, target = _policy_and_target(call, params)
    if call.tx.get(OrgPolicyAttachment, policy.policy_id, target) is not None:
        raise DuplicatePolicyAttachmentException("The selected policy is already attached to the specified target.")
    if len(attached(call.tx, target, policy.policy_type)) >= ATTACHMENT_LIMIT:
        raise ConstraintViolationException(
            "You attempted to exceed the number of policies of a certain type that can be attached to an entity "
            "at one time.",
            "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
        )
    call.tx.insert(OrgPolicyAttachment(policy.policy_id, target))
    return {}


@operation("organizations", "DetachPolicy", resource=resource_of("PolicyId"))
def detach_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    _, policy, target = _policy_and_target(call, params)
    if call.tx.get(OrgPolicyAttachment, policy.policy_id, target) is None:
        raise PolicyNotAttachedException("The policy isn't attached to the specified target in the specified root.")
    if policy.policy_id in NON_DETACHABLE:
        raise InvalidInputException("You can't detach this AWS Managed Policy.", "NON_DETACHABLE_POLICY")
    if policy.policy_type == SCP and len(attached(call.tx, target, SCP)) <= 1:
        raise ConstraintViolationException(
            "You attempted to detach a policy from an entity that would cause the entity to have fewer than the "
            "minimum number of policies of a certain type required.",
            "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
        )
    call.tx.delete(OrgPolicyAttachment, policy.policy_id, target)
    return {}


# -- listing ---------------------------------------------------------------------------------------------


@operation("organizations", "ListPoliciesForTarget", resource=resource_of("TargetId"))
def list_policies_for_target(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    policy_type = params["Filter"]
    target = params["TargetId"]
    if not belongs(call.tx, org, target):
        raise TargetNotFoundException(TARGET_NOT_FOUND)
    policies = sorted(attached(call.tx, target, policy_type), key=lambda p: (not p.aws_managed, p.name))
    return page(policies, params, "Policies", lambda p: policy_summary(org, p))


@operation("organizations", "ListTargetsForPolicy", resource=resource_of("PolicyId"))
def list_targets_for_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Only this organization's targets, also for the AWS managed policies every organization shares."""
    org = management_org(call)
    policy = org_policy(call, org, params["PolicyId"])
    targets = [t for t in all_targets(call.tx, org) if call.tx.get(OrgPolicyAttachment, policy.policy_id, t)]
    return page(targets, params, "Targets", lambda t: _target_out(call, org, t))


def _target_out(call: CallContext, org: Organization, target: str) -> dict[str, Any]:
    kind = kind_of(target)
    name = ROOT_NAME
    if kind == OU:
        ou = call.tx.get(OrganizationalUnit, target)
        name = ou.name if ou else target
    elif kind == ACCOUNT:
        account = call.tx.get(Account, target)
        name = account.name if account else target
    return {"TargetId": target, "Arn": entity_arn(call.tx, org, target), "Name": name, "Type": kind}
