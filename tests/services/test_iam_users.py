"""IAM users: create/get/list/update/delete, the caller's own user, quotas, DeleteConflict, renames that carry
everything the user owns, tags, permissions boundaries, and authorization on the user's ARN."""

from __future__ import annotations

from collections.abc import Callable

import botocore.parsers
import pytest
from services_support import DEV, NOW, PROD, World, allow, doc

from rolegate.errors import AccessDenied, ValidationError
from rolegate.protocol.models import operation_model
from rolegate.protocol.query import serialize_query_result
from rolegate.services.context import Caller
from rolegate.services.iam import users
from rolegate.services.iam.errors import DeleteConflict, EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from rolegate.store.records import AccessKey, MfaDevice

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}, "Action": "sts:AssumeRole"})


def test_create_get_list_delete(world: World) -> None:
    root = world.account(DEV)
    created = world.call(root, "iam", "CreateUser", UserName="Alice", Path="/team/", Tags=[{"Key": "k", "Value": "v"}])
    user = created["User"]
    assert user["UserName"] == "Alice" and user["Path"] == "/team/"
    assert user["Arn"] == f"arn:aws:iam::{DEV}:user/team/Alice"
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    assert user["CreateDate"] == NOW and user["Tags"] == [{"Key": "k", "Value": "v"}]
    assert world.call(root, "iam", "GetUser", UserName="alice") == created
    world.call(root, "iam", "CreateUser", UserName="bob")
    listed = world.call(root, "iam", "ListUsers")
    assert [u["UserName"] for u in listed["Users"]] == ["Alice", "bob"] and listed["IsTruncated"] is False
    assert [u["UserName"] for u in world.call(root, "iam", "ListUsers", PathPrefix="/team")["Users"]] == ["Alice"]
    world.call(root, "iam", "DeleteUser", UserName="ALICE")
    with pytest.raises(NoSuchEntity) as missing:
        world.call(root, "iam", "GetUser", UserName="Alice")
    assert missing.value.message == "The user with name Alice cannot be found."
    assert missing.value.http_status == 404


def test_list_users_pages(world: World) -> None:
    root = world.account(DEV)
    for name in ("a", "b", "c"):
        world.call(root, "iam", "CreateUser", UserName=name)
    first = world.call(root, "iam", "ListUsers", MaxItems=2)
    assert [u["UserName"] for u in first["Users"]] == ["a", "b"] and first["IsTruncated"] is True
    rest = world.call(root, "iam", "ListUsers", MaxItems=2, Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["c"] and rest["IsTruncated"] is False


def test_duplicate_names_are_case_insensitive(world: World) -> None:
    root = world.account(DEV)
    world.call(root, "iam", "CreateUser", UserName="alice")
    with pytest.raises(EntityAlreadyExists) as exists:
        world.call(root, "iam", "CreateUser", UserName="ALICE")
    assert exists.value.message == "User with name ALICE already exists."
    assert exists.value.http_status == 409


def test_users_quota(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "USERS_QUOTA", 2)
    root = world.account(DEV)
    world.call(root, "iam", "CreateUser", UserName="a")
    world.call(root, "iam", "CreateUser", UserName="b")
    with pytest.raises(LimitExceeded) as limit:
        world.call(root, "iam", "CreateUser", UserName="c")
    assert limit.value.message == "Cannot exceed quota for UsersPerAccount: 2"


def test_users_quota_is_5000() -> None:
    assert users.USERS_QUOTA == 5000


def test_get_user_without_name_is_the_caller(world: World) -> None:
    root = world.account(DEV)
    alice = world.user(DEV, "alice", doc(allow("iam:GetUser")), path="/p/")
    own = world.call(alice, "iam", "GetUser")["User"]
    assert own["UserName"] == "alice" and own["Arn"] == f"arn:aws:iam::{DEV}:user/p/alice"
    assert world.call(root, "iam", "GetUser") == {
        "User": {"UserId": DEV, "Arn": f"arn:aws:iam::{DEV}:root", "CreateDate": NOW}
    }


def test_get_user_without_name_needs_user_credentials(world: World) -> None:
    world.account(DEV)
    role = world.role(DEV, "worker", TRUST, doc(allow("iam:*")))
    session = Caller("role", DEV, f"arn:aws:sts::{DEV}:assumed-role/worker/s", f"{role.role_id}:s", "ASIA1", role=role)
    with pytest.raises(ValidationError) as invalid:
        world.call(session, "iam", "GetUser")
    assert invalid.value.message == "Must specify userName when calling with non-User credentials"


def test_root_get_user_round_trips_through_botocore(world: World) -> None:
    root = world.account(DEV)
    model = operation_model("iam", "GetUser")
    assert model is not None
    body = serialize_query_result(model, world.call(root, "iam", "GetUser"), "req")
    parsed = botocore.parsers.create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": 200}, model.output_shape
    )
    assert parsed["User"]["Arn"] == f"arn:aws:iam::{DEV}:root" and parsed["User"]["UserId"] == DEV


def _owned_everything(world: World, root: Caller) -> str:
    """alice with a group, an inline policy, an attached policy, an access key and an enabled MFA device."""
    world.call(root, "iam", "CreateUser", UserName="alice")
    world.call(root, "iam", "CreateGroup", GroupName="devs")
    world.call(root, "iam", "AddUserToGroup", GroupName="devs", UserName="alice")
    world.call(root, "iam", "PutUserPolicy", UserName="alice", PolicyName="p", PolicyDocument=doc(allow("iam:List*")))
    world.call(root, "iam", "AttachUserPolicy", UserName="alice", PolicyArn=READ_ONLY)
    key_id: str = world.call(root, "iam", "CreateAccessKey", UserName="alice")["AccessKey"]["AccessKeyId"]
    serial = f"arn:aws:iam::{DEV}:mfa/alice"
    with world.services.store.transaction() as tx:
        tx.insert(MfaDevice(serial, DEV, "alice", "/", "sealed", NOW, user_name="alice", enabled=NOW))
    return key_id


def test_rename_moves_everything_the_user_owns(world: World) -> None:
    root = world.account(DEV)
    key_id = _owned_everything(world, root)
    world.call(root, "iam", "UpdateUser", UserName="alice", NewUserName="carol", NewPath="/moved/")
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "GetUser", UserName="alice")
    carol = world.call(root, "iam", "GetUser", UserName="carol")["User"]
    assert carol["Arn"] == f"arn:aws:iam::{DEV}:user/moved/carol"
    assert [g["GroupName"] for g in world.call(root, "iam", "ListGroupsForUser", UserName="carol")["Groups"]] == [
        "devs"
    ]
    assert [u["UserName"] for u in world.call(root, "iam", "GetGroup", GroupName="devs")["Users"]] == ["carol"]
    assert world.call(root, "iam", "ListUserPolicies", UserName="carol")["PolicyNames"] == ["p"]
    attached = world.call(root, "iam", "ListAttachedUserPolicies", UserName="carol")["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [READ_ONLY]
    keys = world.call(root, "iam", "ListAccessKeys", UserName="carol")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["UserName"]) for k in keys] == [(key_id, "carol")]
    assert [d["UserName"] for d in world.call(root, "iam", "ListMFADevices", UserName="carol")["MFADevices"]] == [
        "carol"
    ]
    caller, _ = world.services.authenticate(key_id, None)
    assert caller.arn == f"arn:aws:iam::{DEV}:user/moved/carol" and caller.user_name == "carol"
    assert world.call(caller, "iam", "ListUsers")["Users"][0]["UserName"] == "carol"


def test_rename_conflicts_and_case_only_rename(world: World) -> None:
    root = world.account(DEV)
    world.call(root, "iam", "CreateUser", UserName="alice")
    world.call(root, "iam", "CreateUser", UserName="bob")
    with pytest.raises(EntityAlreadyExists) as taken:
        world.call(root, "iam", "UpdateUser", UserName="alice", NewUserName="BOB")
    assert taken.value.message == "User with name BOB already exists."
    world.call(root, "iam", "UpdateUser", UserName="alice", NewUserName="Alice")
    assert world.call(root, "iam", "GetUser", UserName="alice")["User"]["UserName"] == "Alice"
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "UpdateUser", UserName="ghost", NewPath="/x/")


def test_rename_keeps_get_session_token_sessions(world: World) -> None:
    root = world.account(DEV)
    alice = world.user(DEV, "alice", doc(allow("iam:GetUser")))
    credentials = world.call(alice, "sts", "GetSessionToken")["Credentials"]
    world.call(root, "iam", "UpdateUser", UserName="alice", NewUserName="carol")
    session = world.session_caller(credentials)
    assert world.call(session, "iam", "GetUser")["User"]["UserName"] == "carol"


@pytest.mark.parametrize(
    ("remove", "message"),
    [
        ("DeleteAccessKey", "Cannot delete entity, must delete access keys first."),
        ("DeactivateMFADevice", "Cannot delete entity, must delete MFA device first."),
        ("DeleteUserPolicy", "Cannot delete entity, must delete policies first."),
        ("DetachUserPolicy", "Cannot delete entity, must detach all policies first."),
        ("RemoveUserFromGroup", "Cannot delete entity, must remove users from group first."),
    ],
)
def test_delete_conflicts_in_order(world: World, remove: str, message: str) -> None:
    root = world.account(DEV)
    key_id = _owned_everything(world, root)
    steps: dict[str, Callable[[], object]] = {
        "DeleteAccessKey": lambda: world.call(root, "iam", "DeleteAccessKey", UserName="alice", AccessKeyId=key_id),
        "DeactivateMFADevice": lambda: _unassign(world),
        "DeleteUserPolicy": lambda: world.call(root, "iam", "DeleteUserPolicy", UserName="alice", PolicyName="p"),
        "DetachUserPolicy": lambda: world.call(root, "iam", "DetachUserPolicy", UserName="alice", PolicyArn=READ_ONLY),
        "RemoveUserFromGroup": lambda: world.call(
            root, "iam", "RemoveUserFromGroup", GroupName="devs", UserName="alice"
        ),
    }
    order = list(steps)
    for name in order[: order.index(remove)]:
        steps[name]()
    with pytest.raises(DeleteConflict) as conflict:
        world.call(root, "iam", "DeleteUser", UserName="alice")
    assert conflict.value.message == message and conflict.value.http_status == 409


def _unassign(world: World) -> None:
    with world.services.store.transaction() as tx:
        tx.delete(MfaDevice, f"arn:aws:iam::{DEV}:mfa/alice")


def test_delete_after_everything_is_removed(world: World) -> None:
    root = world.account(DEV)
    key_id = _owned_everything(world, root)
    world.call(root, "iam", "DeleteAccessKey", UserName="alice", AccessKeyId=key_id)
    _unassign(world)
    world.call(root, "iam", "DeleteUserPolicy", UserName="alice", PolicyName="p")
    world.call(root, "iam", "DetachUserPolicy", UserName="alice", PolicyArn=READ_ONLY)
    world.call(root, "iam", "RemoveUserFromGroup", GroupName="devs", UserName="alice")
    world.call(root, "iam", "DeleteUser", UserName="alice")
    assert world.call(root, "iam", "ListUsers")["Users"] == []
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "DeleteUser", UserName="alice")


def test_tags(world: World) -> None:
    root = world.account(DEV)
    world.call(root, "iam", "CreateUser", UserName="alice", Tags=[{"Key": "Team", "Value": "a"}])
    world.call(
        root, "iam", "TagUser", UserName="alice", Tags=[{"Key": "team", "Value": "b"}, {"Key": "x", "Value": ""}]
    )
    assert world.call(root, "iam", "ListUserTags", UserName="alice") == {
        "Tags": [{"Key": "team", "Value": "b"}, {"Key": "x", "Value": ""}],
        "IsTruncated": False,
    }
    world.call(root, "iam", "UntagUser", UserName="alice", TagKeys=["TEAM"])
    assert world.call(root, "iam", "ListUserTags", UserName="alice")["Tags"] == [{"Key": "x", "Value": ""}]
    with pytest.raises(InvalidInput):
        world.call(root, "iam", "TagUser", UserName="alice", Tags=[{"Key": "aws:x", "Value": "v"}])
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    with pytest.raises(LimitExceeded) as limit:
        world.call(root, "iam", "TagUser", UserName="alice", Tags=many)
    assert limit.value.message == "The number of tags has reached the maximum limit of 50."
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "ListUserTags", UserName="ghost")


def test_permissions_boundary(world: World) -> None:
    root = world.account(DEV)
    missing = f"arn:aws:iam::{DEV}:policy/nope"
    with pytest.raises(NoSuchEntity) as no_policy:
        world.call(root, "iam", "CreateUser", UserName="alice", PermissionsBoundary=missing)
    assert no_policy.value.message == f"Policy {missing} does not exist or is not attachable."
    user = world.call(root, "iam", "CreateUser", UserName="alice", PermissionsBoundary=READ_ONLY)["User"]
    assert user["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": READ_ONLY,
    }
    world.call(root, "iam", "DeleteUserPermissionsBoundary", UserName="alice")
    assert "PermissionsBoundary" not in world.call(root, "iam", "GetUser", UserName="alice")["User"]
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "PutUserPermissionsBoundary", UserName="alice", PermissionsBoundary=missing)
    world.call(root, "iam", "PutUserPermissionsBoundary", UserName="alice", PermissionsBoundary=READ_ONLY)
    assert world.call(root, "iam", "GetUser", UserName="alice")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"]


def test_boundary_limits_the_user(world: World) -> None:
    root = world.account(DEV)
    admin = world.user(DEV, "admin", doc(allow("iam:*")))
    world.call(root, "iam", "PutUserPermissionsBoundary", UserName="admin", PermissionsBoundary=READ_ONLY)
    assert world.call(admin, "iam", "GetUser", UserName="admin")["User"]["UserName"] == "admin"
    with pytest.raises(AccessDenied) as denied:
        world.call(admin, "iam", "CreateUser", UserName="x")
    assert denied.value.message.endswith("because no permissions boundary allows the iam:CreateUser action")


def test_authorization_on_the_user_arn(world: World) -> None:
    world.account(DEV)
    nobody = world.user(DEV, "nobody")
    with pytest.raises(AccessDenied) as denied:
        world.call(nobody, "iam", "CreateUser", UserName="x")
    assert denied.value.message == (
        f"User: arn:aws:iam::{DEV}:user/nobody is not authorized to perform: iam:CreateUser on resource: "
        f"arn:aws:iam::{DEV}:user/x because no identity-based policy allows the iam:CreateUser action"
    )
    team = world.user(DEV, "lead", doc(allow(["iam:CreateUser", "iam:DeleteUser"], f"arn:aws:iam::{DEV}:user/team/*")))
    assert world.call(team, "iam", "CreateUser", UserName="x", Path="/team/")["User"]["Path"] == "/team/"
    with pytest.raises(AccessDenied):
        world.call(team, "iam", "CreateUser", UserName="y")
    world.call(team, "iam", "DeleteUser", UserName="x")


def test_accounts_are_separate(world: World) -> None:
    dev, prod = world.account(DEV), world.account(PROD)
    world.call(dev, "iam", "CreateUser", UserName="alice")
    world.call(prod, "iam", "CreateUser", UserName="alice")
    assert world.call(prod, "iam", "GetUser", UserName="alice")["User"]["Arn"] == f"arn:aws:iam::{PROD}:user/alice"
    world.call(prod, "iam", "DeleteUser", UserName="alice")
    assert world.call(dev, "iam", "GetUser", UserName="alice")["User"]["UserName"] == "alice"
    with world.services.store.transaction() as tx:
        assert tx.count(AccessKey, account_id=PROD, user_name="alice") == 0
