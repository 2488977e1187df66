"""STS calls about the caller: GetCallerIdentity, GetSessionToken, GetFederationToken, GetAccessKeyInfo."""

from __future__ import annotations

from typing import Any

from rolegate.errors import AccessDenied
from rolegate.services.context import CallContext
from rolegate.services.iam.mfa import verify_mfa_code
from rolegate.services.registry import operation
from rolegate.services.sts.sessions import checked_session_policy, issue, packed_size_percent
from rolegate.store.records import AccessKey, Session

USER_MAX, ROOT_MAX, DEFAULT_USER, DEFAULT_ROOT = 129600, 3600, 43200, 3600


@operation("sts", "GetCallerIdentity", auth="none")
def get_caller_identity(call: CallContext, _params: dict[str, Any]) -> dict[str, Any]:
    caller = call.caller
    return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}


def _long_term_only(call: CallContext, operation_name: str) -> None:
    if call.caller.is_temporary:
        raise AccessDenied(f"Cannot call {operation_name} with session credentials")


def _duration(call: CallContext, params: dict[str, Any]) -> int:
    root = call.caller.is_root
    duration = int(params.get("DurationSeconds", DEFAULT_ROOT if root else DEFAULT_USER))
    return min(duration, ROOT_MAX if root else USER_MAX)


@operation("sts", "GetSessionToken", auth="none")
def get_session_token(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    _long_term_only(call, "GetSessionToken")
    mfa = False
    if "SerialNumber" in params or "TokenCode" in params:
        mfa = verify_mfa_code(call, params.get("SerialNumber", ""), params.get("TokenCode", ""))
        if not mfa:
            raise AccessDenied("MultiFactorAuthentication failed, unable to validate MFA code")
    kind = "root" if call.caller.is_root else "user"
    _, credentials = issue(
        call,
        kind,
        _duration(call, params),
        user_name=call.caller.user_name,
        mfa_authenticated=mfa,
        mfa_time=call.now if mfa else None,
    )
    return {"Credentials": credentials}


def _federated_user(call: CallContext, params: dict[str, Any]) -> str:
    return f"arn:aws:sts::{call.caller.account_id}:federated-user/{params['Name']}"


@operation("sts", "GetFederationToken", resource=_federated_user)
def get_federation_token(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    _long_term_only(call, "GetFederationToken")
    policy = checked_session_policy(params.get("Policy"))
    policy_arns = [p["arn"] for p in params.get("PolicyArns", [])]
    tags = [(t["Key"], t.get("Value", "")) for t in params.get("Tags", [])]
    name = params["Name"]
    _, credentials = issue(
        call,
        "federated",
        _duration(call, params),
        session_name=name,
        user_name=call.caller.user_name,
        session_policy=policy,
        policy_arns=tuple(policy_arns),
        tags=tuple(tags),
    )
    account = call.caller.account_id
    result: dict[str, Any] = {
        "Credentials": credentials,
        "FederatedUser": {
            "FederatedUserId": f"{account}:{name}",
            "Arn": f"arn:aws:sts::{account}:federated-user/{name}",
        },
    }
    if policy or policy_arns or tags:
        result["PackedPolicySize"] = packed_size_percent(policy, policy_arns, tags)
    return result


@operation("sts", "GetAccessKeyInfo", resource=lambda call, _p: "*")
def get_access_key_info(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    key_id = params["AccessKeyId"]
    key = call.tx.get(AccessKey, key_id)
    session = call.tx.get(Session, key_id) if key is None else None
    account = key.account_id if key else session.account_id if session else call.caller.account_id
    return {"Account": account}
