"""Long-term access keys of users and of the root user: create, list, activate/deactivate, delete, last use.

The secret is generated from the injected id source, returned once by CreateAccessKey, and stored only
sealed under the purpose `access-key:<key id>`, the purpose authentication unseals it with. A key with
user_name "" belongs to the root user of its account.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.iam.common import account_of, paginate
from rolegate.services.iam.errors import InvalidInput, LimitExceeded, NoSuchEntity
from rolegate.services.iam.users import caller_user_name, self_resource
from rolegate.services.identity import user_arn
from rolegate.services.registry import operation
from rolegate.store.records import AccessKey, User

ACCESS_KEYS_PER_USER = 2
NEVER_USED = "N/A"


def _owned_key(call: CallContext, params: dict[str, Any]) -> AccessKey:
    """The key named by AccessKeyId if it belongs to the user named (or the caller); NoSuchEntity otherwise."""
    owner = caller_user_name(call, params)
    key_id = params["AccessKeyId"]
    key = call.tx.get(AccessKey, key_id)
    if key is None or key.account_id != account_of(call) or key.user_name.lower() != owner.lower():
        raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
    return key


def key_metadata(key: AccessKey) -> dict[str, Any]:
    """`AccessKeyMetadata`; root keys carry no user name."""
    out: dict[str, Any] = {"AccessKeyId": key.access_key_id, "Status": key.status, "CreateDate": key.created}
    if key.user_name:
        out["UserName"] = key.user_name
    return out


@operation("iam", "CreateAccessKey", resource=self_resource)
def create_access_key(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    account, owner = account_of(call), caller_user_name(call, params)
    if call.tx.count(AccessKey, account_id=account, user_name=owner) >= ACCESS_KEYS_PER_USER:
        raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}")
    key_id = call.ids.access_key_id()
    secret = call.ids.secret_access_key()
    sealed = call.sealer.seal(secret, f"access-key:{key_id}")
    key = AccessKey(key_id, account, owner, sealed, "Active", call.now)
    call.tx.insert(key)
    return {"AccessKey": {**key_metadata(key), "SecretAccessKey": secret}}


@operation("iam", "ListAccessKeys", resource=self_resource)
def list_access_keys(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    owner = caller_user_name(call, params)
    keys = call.tx.find(AccessKey, account_id=account_of(call), user_name=owner)
    keys.sort(key=lambda k: (k.created, k.access_key_id))
    return paginate(keys, params, "AccessKeyMetadata", key_metadata)


@operation("iam", "UpdateAccessKey", resource=self_resource)
def update_access_key(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    status = params["Status"]
    if status not in ("Active", "Inactive"):
        raise InvalidInput(f"Invalid status: {status}. Valid values are Active and Inactive.")
    key = _owned_key(call, params)
    call.tx.put(replace(key, status=status))
    return {}


@operation("iam", "DeleteAccessKey", resource=self_resource)
def delete_access_key(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    key = _owned_key(call, params)
    call.tx.delete(AccessKey, key.access_key_id)
    return {}


def _last_used_resource(call: CallContext, params: dict[str, Any]) -> str:
    """The owner's ARN (user or root) for a key of this account; `*` for a key it cannot see."""
    key = call.tx.get(AccessKey, params["AccessKeyId"])
    if key is None or key.account_id != account_of(call):
        return "*"
    if not key.user_name:
        return f"arn:aws:iam::{key.account_id}:root"
    user = call.tx.get(User, key.account_id, key.user_name)
    return user_arn(user) if user is not None else f"arn:aws:iam::{key.account_id}:user/{key.user_name}"


@operation("iam", "GetAccessKeyLastUsed", resource=_last_used_resource)
def get_access_key_last_used(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    key_id = params["AccessKeyId"]
    key = call.tx.get(AccessKey, key_id)
    if key is None or key.account_id != account_of(call):
        raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
    used: dict[str, Any] = {"ServiceName": NEVER_USED, "Region": NEVER_USED}
    if key.last_used is not None:
        used = {
            "LastUsedDate": key.last_used,
            "ServiceName": key.last_used_service or NEVER_USED,
            "Region": key.last_used_region or NEVER_USED,
        }
    result: dict[str, Any] = {"AccessKeyLastUsed": used}
    if key.user_name:
        result["UserName"] = key.user_name
    return result
