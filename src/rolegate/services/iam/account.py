"""Account-wide IAM views and settings: the account alias, GetAccountSummary, GetAccountAuthorizationDetails.

GetAccountAuthorizationDetails pages over one combined sequence (users, then groups, roles and managed
policies), so a Marker resumes mid-list the way IAM's does. Its `Policies` are the account's customer
managed policies and the AWS managed policies in use in the account (attached or as a boundary).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rolegate.errors import ValidationError
from rolegate.services.context import CallContext
from rolegate.services.iam.access_keys import ACCESS_KEYS_PER_USER
from rolegate.services.iam.attachments import ATTACHED_POLICIES_QUOTA, attached_policy_out
from rolegate.services.iam.common import (
    account_of,
    account_resource,
    encode_document,
    group_out,
    paginate,
    role_out,
    user_out,
)
from rolegate.services.iam.errors import EntityAlreadyExists, NoSuchEntity
from rolegate.services.iam.groups import GROUPS_PER_USER_QUOTA, GROUPS_QUOTA, groups_of
from rolegate.services.iam.inline import INLINE_SIZE_QUOTAS
from rolegate.services.iam.managed import (
    POLICIES_QUOTA,
    POLICY_SIZE_QUOTA,
    VERSIONS_QUOTA,
    PolicyView,
    Usage,
    aws_view,
    customer_view,
    policy_out,
    usage_counts,
    version_out,
)
from rolegate.services.iam.roles import ROLES_QUOTA
from rolegate.services.iam.trust import TRUST_POLICY_QUOTA
from rolegate.services.iam.users import USERS_QUOTA
from rolegate.services.policies import aws_managed_policies
from rolegate.services.registry import operation
from rolegate.store.records import (
    AccessKey,
    Account,
    Attachment,
    Group,
    InlinePolicy,
    ManagedPolicy,
    MfaDevice,
    PolicyVersion,
    Role,
    User,
)

POLICY_VERSIONS_IN_USE_QUOTA = 10000
SERVER_CERTIFICATES_QUOTA = 20
INSTANCE_PROFILES_QUOTA = 1000
SIGNING_CERTIFICATES_PER_USER = 2
ENTITY_TYPES = ("User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy")
DETAIL_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
ROLE_DETAIL_MEMBERS = (
    "Path",
    "RoleName",
    "RoleId",
    "Arn",
    "CreateDate",
    "AssumeRolePolicyDocument",
    "PermissionsBoundary",
    "Tags",
    "RoleLastUsed",
)


def _account(call: CallContext) -> Account:
    account = call.tx.get(Account, account_of(call))
    if account is None:
        raise NoSuchEntity(f"The account {account_of(call)} cannot be found.")
    return account


@operation("iam", "CreateAccountAlias", resource=account_resource)
def create_account_alias(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """An account has at most one alias: a new one replaces it. Aliases are unique across all accounts."""
    alias = params["AccountAlias"]
    if alias.isdigit():
        raise ValidationError(f"The account alias {alias} cannot be all digits.")
    account = _account(call)
    if any(a.alias == alias and a.account_id != account.account_id for a in call.tx.find(Account)):
        raise EntityAlreadyExists(f"The account alias {alias} already exists.")
    call.tx.put(replace(account, alias=alias))
    return {}


@operation("iam", "DeleteAccountAlias", resource=account_resource)
def delete_account_alias(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    alias = params["AccountAlias"]
    account = _account(call)
    if account.alias != alias:
        raise NoSuchEntity(f"The account alias {alias} cannot be found.")
    call.tx.put(replace(account, alias=""))
    return {}


@operation("iam", "ListAccountAliases", resource=account_resource)
def list_account_aliases(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    alias = _account(call).alias
    return paginate([alias] if alias else [], params, "AccountAliases", str)


@operation("iam", "GetAccountSummary", resource=account_resource)
def get_account_summary(call: CallContext, _params: dict[str, Any]) -> dict[str, Any]:
    return {"SummaryMap": {**_usage_summary(call), **_quota_summary()}}


def _usage_summary(call: CallContext) -> dict[str, int]:
    """Counts of what the account holds; entities rolegate does not model count as zero."""
    tx, account = call.tx, account_of(call)
    devices = tx.find(MfaDevice, account_id=account)
    in_use = [d for d in devices if d.enabled is not None]
    return {
        "Users": tx.count(User, account_id=account),
        "Groups": tx.count(Group, account_id=account),
        "Roles": tx.count(Role, account_id=account),
        "Policies": tx.count(ManagedPolicy, account_id=account),
        "PolicyVersionsInUse": tx.count(Attachment, account_id=account),
        "MFADevices": len(devices),
        "MFADevicesInUse": len(in_use),
        "AccountMFAEnabled": int(any(not d.user_name for d in in_use)),
        "AccountAccessKeysPresent": int(tx.count(AccessKey, account_id=account, user_name="") > 0),
        "AccountPasswordPresent": 0,
        "AccountSigningCertificatesPresent": 0,
        "ServerCertificates": 0,
        "InstanceProfiles": 0,
        "Providers": 0,
        "GlobalEndpointTokenVersion": 1,
    }


def _quota_summary() -> dict[str, int]:
    return {
        "UsersQuota": USERS_QUOTA,
        "GroupsQuota": GROUPS_QUOTA,
        "RolesQuota": ROLES_QUOTA,
        "PoliciesQuota": POLICIES_QUOTA,
        "PolicySizeQuota": POLICY_SIZE_QUOTA,
        "PolicyVersionsInUseQuota": POLICY_VERSIONS_IN_USE_QUOTA,
        "VersionsPerPolicyQuota": VERSIONS_QUOTA,
        "UserPolicySizeQuota": INLINE_SIZE_QUOTAS["user"],
        "GroupPolicySizeQuota": INLINE_SIZE_QUOTAS["group"],
        "RolePolicySizeQuota": INLINE_SIZE_QUOTAS["role"],
        "AssumeRolePolicySizeQuota": TRUST_POLICY_QUOTA,
        "GroupsPerUserQuota": GROUPS_PER_USER_QUOTA,
        "AccessKeysPerUserQuota": ACCESS_KEYS_PER_USER,
        "SigningCertificatesPerUserQuota": SIGNING_CERTIFICATES_PER_USER,
        "AttachedPoliciesPerUserQuota": ATTACHED_POLICIES_QUOTA,
        "AttachedPoliciesPerGroupQuota": ATTACHED_POLICIES_QUOTA,
        "AttachedPoliciesPerRoleQuota": ATTACHED_POLICIES_QUOTA,
        "ServerCertificatesQuota": SERVER_CERTIFICATES_QUOTA,
        "InstanceProfilesQuota": INSTANCE_PROFILES_QUOTA,
    }


def _inline(call: CallContext, kind: str, name: str) -> list[dict[str, str]]:
    policies = call.tx.find(InlinePolicy, account_id=account_of(call), owner_kind=kind, owner_name=name)
    return [{"PolicyName": p.name, "PolicyDocument": encode_document(p.document)} for p in policies]


def _attached(call: CallContext, kind: str, name: str) -> list[dict[str, str]]:
    found = call.tx.find(Attachment, account_id=account_of(call), owner_kind=kind, owner_name=name)
    return [attached_policy_out(call, a.policy_arn) for a in found]


def _user_detail(call: CallContext, user: User) -> dict[str, Any]:
    return {
        **user_out(user),
        "UserPolicyList": _inline(call, "user", user.name),
        "GroupList": [g.name for g in groups_of(call, user)],
        "AttachedManagedPolicies": _attached(call, "user", user.name),
    }


def _group_detail(call: CallContext, group: Group) -> dict[str, Any]:
    return {
        **group_out(group),
        "GroupPolicyList": _inline(call, "group", group.name),
        "AttachedManagedPolicies": _attached(call, "group", group.name),
    }


def _role_detail(call: CallContext, role: Role) -> dict[str, Any]:
    shown = {k: v for k, v in role_out(role).items() if k in ROLE_DETAIL_MEMBERS}
    return {
        **shown,
        "InstanceProfileList": [],
        "RolePolicyList": _inline(call, "role", role.name),
        "AttachedManagedPolicies": _attached(call, "role", role.name),
    }


def _policy_versions(call: CallContext, view: PolicyView) -> list[PolicyVersion]:
    """Newest first; an AWS managed policy has its current version only."""
    if view.aws_managed:
        document = aws_managed_policies()[view.arn].document
        return [PolicyVersion(view.arn, view.default_version, document, view.updated)]
    versions = call.tx.find(PolicyVersion, policy_arn=view.arn)
    return sorted(versions, key=lambda v: int(v.version_id[1:].split(".")[0]), reverse=True)


def _policy_detail(call: CallContext, view: PolicyView, usage: Usage) -> dict[str, Any]:
    out = {k: v for k, v in policy_out(view, usage).items() if k != "Tags"}
    versions = _policy_versions(call, view)
    out["PolicyVersionList"] = [version_out(v, view.default_version, document=True) for v in versions]
    return out


def _policy_views(call: CallContext, wanted: set[str], usage: Usage) -> list[PolicyView]:
    views: list[PolicyView] = []
    if "LocalManagedPolicy" in wanted:
        views.extend(customer_view(p) for p in call.tx.find(ManagedPolicy, account_id=account_of(call)))
    if "AWSManagedPolicy" in wanted:
        catalog = aws_managed_policies()
        used = (set(usage.attachments) | set(usage.boundaries)) & set(catalog)
        views.extend(aws_view(catalog[arn]) for arn in used)
    return sorted(views, key=lambda v: (v.name.lower(), v.arn))


Entry = tuple[str, Callable[[], dict[str, Any]]]


def _entries(call: CallContext, wanted: set[str]) -> list[Entry]:
    """Everything to report, in order, each rendered only if it lands on the requested page."""
    account = account_of(call)
    entries: list[Entry] = []
    if "User" in wanted:
        entries += [("UserDetailList", _bind(_user_detail, call, u)) for u in call.tx.find(User, account_id=account)]
    if "Group" in wanted:
        entries += [("GroupDetailList", _bind(_group_detail, call, g)) for g in call.tx.find(Group, account_id=account)]
    if "Role" in wanted:
        entries += [("RoleDetailList", _bind(_role_detail, call, r)) for r in call.tx.find(Role, account_id=account)]
    usage = usage_counts(call)
    for view in _policy_views(call, wanted, usage):
        entries.append(("Policies", _bind(lambda c, v: _policy_detail(c, v, usage), call, view)))
    return entries


def _bind(render: Callable[[CallContext, Any], dict[str, Any]], call: CallContext, item: Any) -> Callable[[], Any]:
    return lambda: render(call, item)


@operation("iam", "GetAccountAuthorizationDetails", resource=account_resource)
def get_account_authorization_details(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    wanted = set(params.get("Filter") or ENTITY_TYPES)
    page = paginate(_entries(call, wanted), params, "Entries", lambda entry: (entry[0], entry[1]()))
    result: dict[str, Any] = {name: [] for name in DETAIL_LISTS}
    for name, detail in page.pop("Entries"):
        result[name].append(detail)
    return {**result, **page}
