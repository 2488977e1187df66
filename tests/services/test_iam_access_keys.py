"""Access keys: every created key authenticates with its returned secret, the secret is stored only sealed,
the per-user quota, status changes and deletion taking effect on authentication, root keys, last use."""

from __future__ import annotations

from dataclasses import replace

import pytest
from services_support import DEV, NOW, PROD, World, allow, doc

from rolegate.errors import AccessDenied, InvalidClientTokenId, ValidationError
from rolegate.services.context import Caller
from rolegate.services.iam.errors import InvalidInput, LimitExceeded, NoSuchEntity
from rolegate.store.records import AccessKey

SELF_SERVICE = doc(allow(["iam:*AccessKey*", "iam:ListAccessKeys"], f"arn:aws:iam::{DEV}:user/${{aws:username}}"))
TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}, "Action": "sts:AssumeRole"})


def _stored(world: World, key_id: str) -> AccessKey:
    with world.services.store.transaction() as tx:
        key = tx.get(AccessKey, key_id)
    assert key is not None
    return key


def test_created_key_authenticates_as_the_user(world: World) -> None:
    root = world.account(DEV)
    world.call(root, "iam", "CreateUser", UserName="alice", Path="/p/")
    key = world.call(root, "iam", "CreateAccessKey", UserName="ALICE")["AccessKey"]
    assert key["UserName"] == "alice" and key["Status"] == "Active" and key["CreateDate"] == NOW
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40
    caller, secret = world.services.authenticate(key["AccessKeyId"], None)
    assert secret == key["SecretAccessKey"]
    assert (caller.kind, caller.arn, caller.user_name) == ("user", f"arn:aws:iam::{DEV}:user/p/alice", "alice")


def test_secret_is_stored_only_sealed(world: World) -> None:
    root = world.account(DEV)
    world.call(root, "iam", "CreateUser", UserName="alice")
    key = world.call(root, "iam", "CreateAccessKey", UserName="alice")["AccessKey"]
    stored = _stored(world, key["AccessKeyId"])
    assert key["SecretAccessKey"] not in stored.sealed_secret
    sealer = world.services.sealer
    assert sealer.unseal(stored.sealed_secret, f"access-key:{key['AccessKeyId']}") == key["SecretAccessKey"]
    listed = world.call(root, "iam", "ListAccessKeys", UserName="alice")["AccessKeyMetadata"]
    assert listed == [{"AccessKeyId": key["AccessKeyId"], "Status": "Active", "CreateDate": NOW, "UserName": "alice"}]


def test_two_keys_per_user(world: World) -> None:
    root = world.account(DEV)
    world.call(root, "iam", "CreateUser", UserName="alice")
    world.call(root, "iam", "CreateAccessKey", UserName="alice")
    second = world.call(root, "iam", "CreateAccessKey", UserName="alice")["AccessKey"]
    with pytest.raises(LimitExceeded) as limit:
        world.call(root, "iam", "CreateAccessKey", UserName="alice")
    assert limit.value.message == "Cannot exceed quota for AccessKeysPerUser: 2" and limit.value.http_status == 409
    world.call(root, "iam", "UpdateAccessKey", UserName="alice", AccessKeyId=second["AccessKeyId"], Status="Inactive")
    with pytest.raises(LimitExceeded):
        world.call(root, "iam", "CreateAccessKey", UserName="alice")
    world.call(root, "iam", "DeleteAccessKey", UserName="alice", AccessKeyId=second["AccessKeyId"])
    world.call(root, "iam", "CreateAccessKey", UserName="alice")


def test_missing_user(world: World) -> None:
    root = world.account(DEV)
    for operation in ("CreateAccessKey", "ListAccessKeys"):
        with pytest.raises(NoSuchEntity) as missing:
            world.call(root, "iam", operation, UserName="ghost")
        assert missing.value.message == "The user with name ghost cannot be found."


def test_inactive_then_active_then_deleted(world: World) -> None:
    root = world.account(DEV)
    world.call(root, "iam", "CreateUser", UserName="alice")
    key_id = world.call(root, "iam", "CreateAccessKey", UserName="alice")["AccessKey"]["AccessKeyId"]
    world.call(root, "iam", "UpdateAccessKey", UserName="alice", AccessKeyId=key_id, Status="Inactive")
    assert world.call(root, "iam", "ListAccessKeys", UserName="alice")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    with pytest.raises(InvalidClientTokenId) as inactive:
        world.services.authenticate(key_id, None)
    assert inactive.value.message == "The security token included in the request is invalid."
    world.call(root, "iam", "UpdateAccessKey", UserName="alice", AccessKeyId=key_id, Status="Active")
    assert world.services.authenticate(key_id, None)[0].user_name == "alice"
    world.call(root, "iam", "DeleteAccessKey", UserName="alice", AccessKeyId=key_id)
    with pytest.raises(InvalidClientTokenId):
        world.services.authenticate(key_id, None)
    assert world.call(root, "iam", "ListAccessKeys", UserName="alice") == {
        "AccessKeyMetadata": [],
        "IsTruncated": False,
    }


def test_key_must_belong_to_the_named_user(world: World) -> None:
    root = world.account(DEV)
    for name in ("alice", "bob"):
        world.call(root, "iam", "CreateUser", UserName=name)
    key_id = world.call(root, "iam", "CreateAccessKey", UserName="alice")["AccessKey"]["AccessKeyId"]
    for operation, extra in (("UpdateAccessKey", {"Status": "Inactive"}), ("DeleteAccessKey", {})):
        for user, key in (("bob", key_id), ("alice", "AKIAUNKNOWN000000000")):
            with pytest.raises(NoSuchEntity) as missing:
                world.call(root, "iam", operation, UserName=user, AccessKeyId=key, **extra)
            assert missing.value.message == f"The Access Key with id {key} cannot be found."
    assert world.services.authenticate(key_id, None)[0].user_name == "alice"


def test_expired_is_not_a_status_one_can_set(world: World) -> None:
    root = world.account(DEV)
    world.call(root, "iam", "CreateUser", UserName="alice")
    key_id = world.call(root, "iam", "CreateAccessKey", UserName="alice")["AccessKey"]["AccessKeyId"]
    with pytest.raises(InvalidInput):
        world.call(root, "iam", "UpdateAccessKey", UserName="alice", AccessKeyId=key_id, Status="Expired")


def test_user_manages_own_keys(world: World) -> None:
    world.account(DEV)
    alice = world.user(DEV, "alice", SELF_SERVICE)
    world.user(DEV, "bob")
    created = world.call(alice, "iam", "CreateAccessKey")["AccessKey"]
    assert created["UserName"] == "alice"
    keys = world.call(alice, "iam", "ListAccessKeys")["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in keys) == sorted([alice.access_key_id, created["AccessKeyId"]])
    page = world.call(alice, "iam", "ListAccessKeys", MaxItems=1)
    assert page["IsTruncated"] is True and len(page["AccessKeyMetadata"]) == 1
    with pytest.raises(LimitExceeded):
        world.call(alice, "iam", "CreateAccessKey")
    world.call(alice, "iam", "UpdateAccessKey", AccessKeyId=created["AccessKeyId"], Status="Inactive")
    world.call(alice, "iam", "DeleteAccessKey", AccessKeyId=created["AccessKeyId"])
    with pytest.raises(AccessDenied) as denied:
        world.call(alice, "iam", "CreateAccessKey", UserName="bob")
    assert denied.value.message == (
        f"User: arn:aws:iam::{DEV}:user/alice is not authorized to perform: iam:CreateAccessKey on resource: "
        f"arn:aws:iam::{DEV}:user/bob because no identity-based policy allows the iam:CreateAccessKey action"
    )


def test_user_without_permission_cannot_create_keys(world: World) -> None:
    world.account(DEV)
    nobody = world.user(DEV, "nobody")
    with pytest.raises(AccessDenied):
        world.call(nobody, "iam", "CreateAccessKey")


def test_root_keys(world: World) -> None:
    root = world.account(DEV)
    created = world.call(root, "iam", "CreateAccessKey")["AccessKey"]
    assert "UserName" not in created
    assert _stored(world, created["AccessKeyId"]).user_name == ""
    caller, secret = world.services.authenticate(created["AccessKeyId"], None)
    assert (caller.kind, caller.arn, secret) == ("root", f"arn:aws:iam::{DEV}:root", created["SecretAccessKey"])
    listed = world.call(root, "iam", "ListAccessKeys")["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in listed) == sorted([root.access_key_id, created["AccessKeyId"]])
    with pytest.raises(LimitExceeded):
        world.call(root, "iam", "CreateAccessKey")
    world.call(root, "iam", "UpdateAccessKey", AccessKeyId=created["AccessKeyId"], Status="Inactive")
    with pytest.raises(InvalidClientTokenId):
        world.services.authenticate(created["AccessKeyId"], None)
    world.call(root, "iam", "DeleteAccessKey", AccessKeyId=created["AccessKeyId"])


def test_role_sessions_must_name_the_user(world: World) -> None:
    world.account(DEV)
    role = world.role(DEV, "worker", TRUST, doc(allow("iam:*")))
    session = Caller("role", DEV, f"arn:aws:sts::{DEV}:assumed-role/worker/s", f"{role.role_id}:s", "ASIA1", role=role)
    for operation in ("CreateAccessKey", "ListAccessKeys"):
        with pytest.raises(ValidationError) as invalid:
            world.call(session, "iam", operation)
        assert invalid.value.message == "Must specify userName when calling with non-User credentials"


def test_last_used(world: World) -> None:
    root = world.account(DEV)
    world.call(root, "iam", "CreateUser", UserName="alice")
    key_id = world.call(root, "iam", "CreateAccessKey", UserName="alice")["AccessKey"]["AccessKeyId"]
    assert world.call(root, "iam", "GetAccessKeyLastUsed", AccessKeyId=key_id) == {
        "UserName": "alice",
        "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"},
    }
    used = replace(_stored(world, key_id), last_used=NOW, last_used_service="sts", last_used_region="eu-west-1")
    with world.services.store.transaction() as tx:
        tx.put(used)
    assert world.call(root, "iam", "GetAccessKeyLastUsed", AccessKeyId=key_id)["AccessKeyLastUsed"] == {
        "LastUsedDate": NOW,
        "ServiceName": "sts",
        "Region": "eu-west-1",
    }
    assert world.call(root, "iam", "GetAccessKeyLastUsed", AccessKeyId=root.access_key_id) == {
        "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}
    }


def test_last_used_of_unknown_or_foreign_keys(world: World) -> None:
    root = world.account(DEV)
    prod = world.account(PROD)
    for key_id in ("AKIAUNKNOWN000000000", prod.access_key_id):
        with pytest.raises(NoSuchEntity) as missing:
            world.call(root, "iam", "GetAccessKeyLastUsed", AccessKeyId=key_id)
        assert missing.value.message == f"The Access Key with id {key_id} cannot be found."


def test_last_used_is_authorized_on_the_owner(world: World) -> None:
    world.account(DEV)
    alice = world.user(DEV, "alice", doc(allow("iam:GetAccessKeyLastUsed", f"arn:aws:iam::{DEV}:user/alice")))
    bob = world.user(DEV, "bob")
    assert world.call(alice, "iam", "GetAccessKeyLastUsed", AccessKeyId=alice.access_key_id)["UserName"] == "alice"
    with pytest.raises(AccessDenied):
        world.call(alice, "iam", "GetAccessKeyLastUsed", AccessKeyId=bob.access_key_id)
