"""sts:AssumeRole: trust policy as the resource policy, caller-side policies, MFA, tags, chaining limits."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolegate.errors import AccessDenied, ValidationError
from rolegate.services.context import CallContext
from rolegate.services.iam.mfa import verify_mfa_code
from rolegate.services.identity import role_arn
from rolegate.services.registry import operation
from rolegate.services.sts.sessions import checked_session_policy, issue, packed_size_percent
from rolegate.store.records import Role

CHAIN_LIMIT = 3600
# IAM reports RoleLastUsed with hours of delay; recording it at most hourly keeps AssumeRole from rewriting
# the role (and invalidating every cached policy slice) on each call.
LAST_USED_GRANULARITY = 3600
MFA_FAILED = "MultiFactorAuthentication failed with invalid MFA one time pass code."


def _target_role(call: CallContext, role_arn_param: str) -> tuple[Role | None, str]:
    parts = role_arn_param.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        raise ValidationError(f"{role_arn_param} is invalid")
    return call.tx.get(Role, parts[4], parts[5].rsplit("/", 1)[-1]), parts[4]


def _request_keys(call: CallContext, params: dict[str, Any], mfa: bool) -> dict[str, Any]:
    tags = [(t["Key"], t.get("Value", "")) for t in params.get("Tags", [])]
    keys: dict[str, Any] = {"sts:RoleSessionName": params["RoleSessionName"]}
    if "ExternalId" in params:
        keys["sts:ExternalId"] = params["ExternalId"]
    if "SourceIdentity" in params:
        keys["sts:SourceIdentity"] = params["SourceIdentity"]
    if tags:
        keys["aws:TagKeys"] = [k for k, _ in tags]
        keys.update({f"aws:RequestTag/{k}": v for k, v in tags})
    if "TransitiveTagKeys" in params:
        keys["sts:TransitiveTagKeys"] = list(params["TransitiveTagKeys"])
    if mfa:
        keys["aws:MultiFactorAuthPresent"] = True
        keys["aws:MultiFactorAuthAge"] = "0"
    return keys


def _authorize(call: CallContext, role: Role | None, arn: str, account: str, params: dict[str, Any], mfa: bool) -> None:
    keys = _request_keys(call, params, mfa)
    trust = (f"{arn}#trust", role.trust_policy) if role is not None else None
    actions = ["sts:AssumeRole"]
    if params.get("Tags") or params.get("TransitiveTagKeys"):
        actions.append("sts:TagSession")
    if params.get("SourceIdentity"):
        actions.append("sts:SetSourceIdentity")
    for action in actions:
        call.authorizer.check(call, action, arn, resource_account=account, resource_policy=trust, trust=True, keys=keys)


def _duration(call: CallContext, role: Role, params: dict[str, Any]) -> int:
    chained = call.caller.kind == "role"
    duration = int(params.get("DurationSeconds", 3600))
    if chained and duration > CHAIN_LIMIT:
        raise ValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assuming other roles."
        )
    if duration > role.max_session_duration:
        raise ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    return duration


def _session_tags(call: CallContext, params: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """New tags plus the caller session's transitive tags, which later requests cannot override."""
    tags = {t["Key"]: t.get("Value", "") for t in params.get("Tags", [])}
    transitive = list(params.get("TransitiveTagKeys", []))
    parent = call.caller.session
    if parent is not None and parent.transitive_tag_keys:
        inherited = {k: v for k, v in parent.tags if k in parent.transitive_tag_keys}
        lowered = {k.lower() for k in inherited}
        tags = {k: v for k, v in tags.items() if k.lower() not in lowered} | inherited
        transitive = sorted(set(transitive) | set(parent.transitive_tag_keys))
    return list(tags.items()), transitive


@operation("sts", "AssumeRole", auth="handler")
def assume_role(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    role, account = _target_role(call, params["RoleArn"])
    mfa = False
    if "SerialNumber" in params or "TokenCode" in params:
        mfa = verify_mfa_code(call, params.get("SerialNumber", ""), params.get("TokenCode", ""))
        if not mfa:
            raise AccessDenied(MFA_FAILED)
    _authorize(call, role, params["RoleArn"], account, params, mfa)
    if role is None:  # unreachable: without a trust policy the trust gate denies; kept for type narrowing
        raise AccessDenied(f"User: {call.caller.arn} is not authorized to perform: sts:AssumeRole")
    duration = _duration(call, role, params)
    policy = checked_session_policy(params.get("Policy"))
    policy_arns = [p["arn"] for p in params.get("PolicyArns", [])]
    tags, transitive = _session_tags(call, params)
    parent = call.caller.session
    source_identity = parent.source_identity if parent and parent.source_identity else params.get("SourceIdentity", "")
    session, credentials = issue(
        call,
        "role",
        duration,
        account_id=account,
        session_name=params["RoleSessionName"],
        role_arn=role_arn(role),
        role_id=role.role_id,
        session_policy=policy,
        policy_arns=tuple(policy_arns),
        tags=tuple(tags),
        transitive_tag_keys=tuple(transitive),
        source_identity=source_identity,
        mfa_authenticated=mfa or bool(parent and parent.mfa_authenticated),
        mfa_time=call.now if mfa else (parent.mfa_time if parent else None),
        chained=call.caller.kind == "role",
    )
    if role.last_used is None or (call.now - role.last_used).total_seconds() >= LAST_USED_GRANULARITY:
        call.tx.put(replace(role, last_used=call.now, last_used_region=call.region))
    result: dict[str, Any] = {
        "Credentials": credentials,
        "AssumedRoleUser": {
            "AssumedRoleId": f"{role.role_id}:{session.session_name}",
            "Arn": f"arn:aws:sts::{account}:assumed-role/{role.name}/{session.session_name}",
        },
    }
    if policy or policy_arns or tags:
        result["PackedPolicySize"] = packed_size_percent(policy, policy_arns, tags)
    if source_identity:
        result["SourceIdentity"] = source_identity
    return result
