"""Managed policies, customer and AWS: create, read, delete, list, versions and tags.

AWS managed policies (`arn:aws:iam::aws:policy/...`) come from the bundled catalog and are read-only: writes
are refused with AccessDenied. Operations on a policy ARN authorize in the handler (`policy_operation`) so
the decision knows the account that owns the policy: another account's policy is a cross-account resource
without a resource policy, hence AccessDenied, while AWS managed ones are evaluated in the caller's account.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from rolegate.errors import AccessDenied
from rolegate.policy import PolicyKind
from rolegate.services.context import CallContext
from rolegate.services.iam.common import (
    account_of,
    account_resource,
    checked_document,
    encode_document,
    paginate,
    policy_size,
    tags_out,
    tags_page,
    validate_tags,
    with_path_prefix,
    without_tags,
)
from rolegate.services.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
)
from rolegate.services.policies import AWS_POLICY_PREFIX, AwsManagedPolicy, aws_managed_policies, managed_document
from rolegate.services.registry import Handler, operation
from rolegate.store.interface import Conflict
from rolegate.store.records import Attachment, ManagedPolicy, PolicyVersion, Role, Tags, User

AWS_PREFIX = AWS_POLICY_PREFIX + "/"
POLICY_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}|aws):policy/(.+/)?[\w+=,.@-]+$")
SERVICE_ROLE_PATH = "/aws-service-role/"
POLICIES_QUOTA = 1500
POLICY_SIZE_QUOTA = 6144
VERSIONS_QUOTA = 5
HAS_VERSIONS = (
    "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. "
    "The default version is deleted with the policy."
)


@dataclass(frozen=True, slots=True)
class PolicyView:
    """A managed policy as IAM shows it, whether stored (customer) or bundled (AWS)."""

    arn: str
    name: str
    path: str
    policy_id: str
    default_version: str
    created: datetime
    updated: datetime
    description: str = ""
    tags: Tags = ()
    aws_managed: bool = False

    @property
    def attachable(self) -> bool:
        """Policies of service-linked roles cannot be attached to anything else."""
        return not (self.aws_managed and self.path.startswith(SERVICE_ROLE_PATH))


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def aws_view(policy: AwsManagedPolicy) -> PolicyView:
    created, updated = _timestamp(policy.created), _timestamp(policy.updated)
    return PolicyView(
        policy.arn,
        policy.name,
        policy.path,
        policy.policy_id,
        policy.version,
        created,
        updated,
        policy.description,
        (),
        True,
    )


def customer_view(policy: ManagedPolicy) -> PolicyView:
    return PolicyView(
        policy.arn,
        policy.name,
        policy.path,
        policy.policy_id,
        policy.default_version,
        policy.created,
        policy.updated,
        policy.description,
        policy.tags,
    )


def policy_view(call: CallContext, arn: str) -> PolicyView | None:
    """The policy if the caller's account can see it: AWS managed, or customer managed in its own account."""
    if arn.startswith(AWS_PREFIX):
        found = aws_managed_policies().get(arn)
        return aws_view(found) if found else None
    policy = call.tx.get(ManagedPolicy, arn)
    return customer_view(policy) if policy is not None and policy.account_id == account_of(call) else None


def valid_policy_arn(arn: str) -> str:
    if not POLICY_ARN.match(arn):
        raise InvalidInput(f"ARN {arn} is not valid.")
    return arn


def found_policy(call: CallContext, arn: str) -> PolicyView:
    view = policy_view(call, valid_policy_arn(arn))
    if view is None:
        raise NoSuchEntity(f"Policy {arn} was not found.")
    return view


def customer_policy(call: CallContext, arn: str) -> ManagedPolicy:
    """A policy the caller may change; AWS managed policies are read-only."""
    view = found_policy(call, arn)
    policy = call.tx.get(ManagedPolicy, view.arn)
    if view.aws_managed or policy is None:
        caller = call.caller.arn
        raise AccessDenied(f"User: {caller} is not authorized to perform: iam:{call.operation} on resource: {arn}")
    return policy


def existing_policy_arn(call: CallContext, arn: str) -> str:
    """The ARN if it names a managed policy the caller's account can use, else NoSuchEntity as IAM words it."""
    if policy_view(call, arn) is None or managed_document(call.tx, arn) is None:
        raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
    return arn


def _owner_account(call: CallContext, arn: str) -> str:
    """The account holding a policy: its ARN's, except the caller's own for AWS managed ones (account `aws`)."""
    parts = arn.split(":")
    return parts[4] if len(parts) >= 6 and parts[4].isdigit() else account_of(call)


def policy_operation(name: str) -> Callable[[Handler], Handler]:
    """Register an operation on `PolicyArn`, authorized in the handler before anything else runs."""

    def register(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def authorized(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
            arn = str(params["PolicyArn"])
            call.authorizer.check(call, f"iam:{name}", arn, resource_account=_owner_account(call, arn))
            return handler(call, params)

        operation("iam", name, auth="handler")(authorized)
        return handler

    return register


@dataclass(frozen=True, slots=True)
class Usage:
    """How often each policy is attached, and used as a permissions boundary, in one account."""

    attachments: Counter[str]
    boundaries: Counter[str]


def usage_counts(call: CallContext) -> Usage:
    account = account_of(call)
    attachments = Counter(a.policy_arn for a in call.tx.find(Attachment, account_id=account))
    entities: list[User | Role] = [*call.tx.find(User, account_id=account), *call.tx.find(Role, account_id=account)]
    return Usage(attachments, Counter(e.permissions_boundary for e in entities if e.permissions_boundary))


def policy_out(view: PolicyView, usage: Usage, *, detail: bool = True) -> dict[str, Any]:
    """The `Policy` shape; Description and Tags only in single-policy results, as ListPolicies omits them."""
    out: dict[str, Any] = {
        "PolicyName": view.name,
        "Arn": view.arn,
        "Path": view.path,
        "DefaultVersionId": view.default_version,
        "AttachmentCount": usage.attachments[view.arn],
        "PermissionsBoundaryUsageCount": usage.boundaries[view.arn],
        "IsAttachable": view.attachable,
        "CreateDate": view.created,
        "UpdateDate": view.updated,
    }
    if view.policy_id:
        out["PolicyId"] = view.policy_id
    if detail and view.description:
        out["Description"] = view.description
    if detail and view.tags:
        out["Tags"] = tags_out(view.tags)
    return out


def _checked_policy_document(document: str) -> str:
    checked_document(document, PolicyKind.IDENTITY)
    if policy_size(document) > POLICY_SIZE_QUOTA:
        raise LimitExceeded(f"Cannot exceed quota for PolicySize: {POLICY_SIZE_QUOTA}")
    return document


def _new_policy_arn(call: CallContext, params: dict[str, Any]) -> str:
    return f"arn:aws:iam::{account_of(call)}:policy{params.get('Path', '/')}{params['PolicyName']}"


@operation("iam", "CreatePolicy", resource=_new_policy_arn)
def create_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    account, name = account_of(call), params["PolicyName"]
    document = _checked_policy_document(params["PolicyDocument"])
    existing = call.tx.find(ManagedPolicy, account_id=account)
    duplicate = EntityAlreadyExists(f"A policy called {name} already exists. Duplicate names are not allowed.")
    if any(p.name.lower() == name.lower() for p in existing):
        raise duplicate
    if len(existing) >= POLICIES_QUOTA:
        raise LimitExceeded(f"Cannot exceed quota for PoliciesPerAccount: {POLICIES_QUOTA}")
    arn = _new_policy_arn(call, params)
    policy = ManagedPolicy(
        arn=arn,
        account_id=account,
        name=name,
        policy_id=call.ids.unique_id("ANPA"),
        path=params.get("Path", "/"),
        default_version="v1",
        created=call.now,
        updated=call.now,
        description=params.get("Description", ""),
        tags=validate_tags(params.get("Tags", [])),
    )
    try:
        call.tx.insert(policy)
    except Conflict as error:
        raise duplicate from error
    call.tx.insert(PolicyVersion(arn, "v1", document, call.now))
    return {"Policy": policy_out(customer_view(policy), Usage(Counter(), Counter()))}


@policy_operation("GetPolicy")
def get_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"Policy": policy_out(found_policy(call, params["PolicyArn"]), usage_counts(call))}


@policy_operation("DeletePolicy")
def delete_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    policy = customer_policy(call, params["PolicyArn"])
    usage = usage_counts(call)
    if usage.attachments[policy.arn] or usage.boundaries[policy.arn]:
        raise DeleteConflict("Cannot delete a policy attached to entities.")
    if call.tx.count(PolicyVersion, policy_arn=policy.arn) > 1:
        raise DeleteConflict(HAS_VERSIONS)
    call.tx.delete_where(PolicyVersion, policy_arn=policy.arn)
    call.tx.delete(ManagedPolicy, policy.arn)
    return {}


def _listed(view: PolicyView, usage: Usage, params: dict[str, Any]) -> bool:
    """OnlyAttached keeps policies in use; PolicyUsageFilter narrows which use counts."""
    if not params.get("OnlyAttached"):
        return True
    attached, boundary = usage.attachments[view.arn] > 0, usage.boundaries[view.arn] > 0
    usage_filter = params.get("PolicyUsageFilter")
    if usage_filter == "PermissionsPolicy":
        return attached
    if usage_filter == "PermissionsBoundary":
        return boundary
    return attached or boundary


@operation("iam", "ListPolicies", resource=account_resource)
def list_policies(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    scope = params.get("Scope", "All")
    views: list[PolicyView] = []
    if scope in ("All", "Local"):
        views.extend(customer_view(p) for p in call.tx.find(ManagedPolicy, account_id=account_of(call)))
    if scope in ("All", "AWS"):
        views.extend(aws_view(p) for p in aws_managed_policies().values())
    usage = usage_counts(call)
    kept = [v for v in with_path_prefix(views, params, lambda v: v.path) if _listed(v, usage, params)]
    kept.sort(key=lambda v: (v.name.lower(), v.arn))
    return paginate(kept, params, "Policies", lambda v: policy_out(v, usage, detail=False))


def _versions(call: CallContext, view: PolicyView) -> list[PolicyVersion]:
    """Stored versions, newest first; an AWS managed policy shows its current version only."""
    if view.aws_managed:
        return [PolicyVersion(view.arn, view.default_version, aws_managed_policies()[view.arn].document, view.updated)]
    versions = call.tx.find(PolicyVersion, policy_arn=view.arn)
    return sorted(versions, key=lambda v: int(v.version_id[1:].split(".")[0]), reverse=True)


def _version(call: CallContext, view: PolicyView, version_id: str) -> PolicyVersion:
    for version in _versions(call, view):
        if version.version_id == version_id:
            return version
    raise NoSuchEntity(f"Policy {view.arn} version {version_id} does not exist or is not attachable.")


def version_out(version: PolicyVersion, default_version: str, *, document: bool = False) -> dict[str, Any]:
    """The `PolicyVersion` shape; IAM returns the document from GetPolicyVersion only."""
    out: dict[str, Any] = {
        "VersionId": version.version_id,
        "IsDefaultVersion": version.version_id == default_version,
        "CreateDate": version.created,
    }
    if document:
        out["Document"] = encode_document(version.document)
    return out


@policy_operation("CreatePolicyVersion")
def create_policy_version(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    policy = customer_policy(call, params["PolicyArn"])
    document = _checked_policy_document(params["PolicyDocument"])
    if call.tx.count(PolicyVersion, policy_arn=policy.arn) >= VERSIONS_QUOTA:
        raise LimitExceeded(
            f"A managed policy can have up to {VERSIONS_QUOTA} versions. "
            "Before you create a new version, you must delete an existing version."
        )
    version = PolicyVersion(policy.arn, f"v{policy.next_version}", document, call.now)
    call.tx.insert(version)
    changed = replace(policy, next_version=policy.next_version + 1)
    if params.get("SetAsDefault"):
        changed = replace(changed, default_version=version.version_id, updated=call.now)
    call.tx.put(changed)
    return {"PolicyVersion": version_out(version, changed.default_version)}


@policy_operation("GetPolicyVersion")
def get_policy_version(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    view = found_policy(call, params["PolicyArn"])
    version = _version(call, view, params["VersionId"])
    return {"PolicyVersion": version_out(version, view.default_version, document=True)}


@policy_operation("ListPolicyVersions")
def list_policy_versions(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    view = found_policy(call, params["PolicyArn"])
    return paginate(_versions(call, view), params, "Versions", lambda v: version_out(v, view.default_version))


@policy_operation("DeletePolicyVersion")
def delete_policy_version(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    policy = customer_policy(call, params["PolicyArn"])
    version = _version(call, customer_view(policy), params["VersionId"])
    if version.version_id == policy.default_version:
        raise DeleteConflict("Cannot delete the default version of a policy.")
    call.tx.delete(PolicyVersion, policy.arn, version.version_id)
    return {}


@policy_operation("SetDefaultPolicyVersion")
def set_default_policy_version(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    policy = customer_policy(call, params["PolicyArn"])
    version = _version(call, customer_view(policy), params["VersionId"])
    call.tx.put(replace(policy, default_version=version.version_id, updated=call.now))
    return {}


@policy_operation("TagPolicy")
def tag_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    policy = customer_policy(call, params["PolicyArn"])
    call.tx.put(replace(policy, tags=validate_tags(params["Tags"], policy.tags)))
    return {}


@policy_operation("UntagPolicy")
def untag_policy(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    policy = customer_policy(call, params["PolicyArn"])
    call.tx.put(replace(policy, tags=without_tags(policy.tags, params["TagKeys"])))
    return {}


@policy_operation("ListPolicyTags")
def list_policy_tags(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    view = found_policy(call, params["PolicyArn"])
    return tags_page(view.tags, params)
