"""Virtual MFA devices with real TOTP codes computed from the returned seed at the fixed clock's times:
creation, enabling with two consecutive codes, single use of codes for STS, resync, deactivate, delete."""

from __future__ import annotations

import botocore.parsers
import pyotp
import pytest
from services_support import DEV, NOW, World, allow, doc

from rolegate.errors import AccessDenied
from rolegate.protocol.models import operation_model
from rolegate.protocol.query import serialize_query_result
from rolegate.services.context import Caller
from rolegate.services.iam import mfa_devices
from rolegate.services.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidAuthenticationCode,
    LimitExceeded,
    NoSuchEntity,
)
from rolegate.store.records import MfaDevice

SERIAL = f"arn:aws:iam::{DEV}:mfa/alice"
BASE32 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
SESSION_MFA_FAILED = "MultiFactorAuthentication failed, unable to validate MFA code"


def _code(seed: str, step: int) -> str:
    return pyotp.TOTP(seed, interval=30).at(step * 30)


def _step(world: World) -> int:
    return int(world.clock.now().timestamp()) // 30


def _device(world: World, caller: Caller, name: str = "alice", path: str = "/") -> str:
    created = world.call(caller, "iam", "CreateVirtualMFADevice", VirtualMFADeviceName=name, Path=path)
    seed: bytes = created["VirtualMFADevice"]["Base32StringSeed"]
    return seed.decode("ascii")


def _enable(world: World, caller: Caller, seed: str, user: str = "alice", serial: str = SERIAL) -> None:
    step = _step(world)
    codes = {"AuthenticationCode1": _code(seed, step - 1), "AuthenticationCode2": _code(seed, step)}
    world.call(caller, "iam", "EnableMFADevice", UserName=user, SerialNumber=serial, **codes)


def test_create_virtual_device(world: World) -> None:
    root = world.account(DEV)
    created = world.call(
        root,
        "iam",
        "CreateVirtualMFADevice",
        VirtualMFADeviceName="phone",
        Path="/team/",
        Tags=[{"Key": "k", "Value": "v"}],
    )["VirtualMFADevice"]
    serial = f"arn:aws:iam::{DEV}:mfa/team/phone"
    assert set(created) == {"SerialNumber", "Base32StringSeed", "Tags"} and created["SerialNumber"] == serial
    seed = created["Base32StringSeed"].decode("ascii")
    assert len(seed) == 64 and set(seed) <= BASE32
    with world.services.store.transaction() as tx:
        stored = tx.get(MfaDevice, serial)
    assert stored is not None and seed not in stored.sealed_seed
    assert world.services.sealer.unseal(stored.sealed_seed, f"mfa:{serial}") == seed
    with pytest.raises(EntityAlreadyExists) as exists:
        world.call(root, "iam", "CreateVirtualMFADevice", VirtualMFADeviceName="PHONE", Path="/team/")
    assert exists.value.message == "MFADevice entity at the same path and name already exists."
    world.call(root, "iam", "CreateVirtualMFADevice", VirtualMFADeviceName="phone")


def test_seed_round_trips_as_a_blob(world: World) -> None:
    root = world.account(DEV)
    result = world.call(root, "iam", "CreateVirtualMFADevice", VirtualMFADeviceName="alice")
    model = operation_model("iam", "CreateVirtualMFADevice")
    assert model is not None
    body = serialize_query_result(model, result, "req")
    parsed = botocore.parsers.create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": 200}, model.output_shape
    )
    assert parsed["VirtualMFADevice"]["Base32StringSeed"] == result["VirtualMFADevice"]["Base32StringSeed"]


def test_enable_with_two_consecutive_codes(world: World) -> None:
    root = world.account(DEV)
    world.user(DEV, "alice")
    _enable(world, root, _device(world, root))
    assert world.call(root, "iam", "ListMFADevices", UserName="alice") == {
        "MFADevices": [{"UserName": "alice", "SerialNumber": SERIAL, "EnableDate": NOW}],
        "IsTruncated": False,
    }
    assigned = world.call(root, "iam", "ListVirtualMFADevices", AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [(d["SerialNumber"], d["User"]["UserName"], d["EnableDate"]) for d in assigned] == [(SERIAL, "alice", NOW)]
    assert world.call(root, "iam", "ListVirtualMFADevices", AssignmentStatus="Unassigned")["VirtualMFADevices"] == []


@pytest.mark.parametrize(("first", "second"), [(0, 0), (-1, 1), (0, -1), (1, 2), (-2, -1)])
def test_enable_refuses_codes_that_are_not_consecutive_and_fresh(world: World, first: int, second: int) -> None:
    root = world.account(DEV)
    world.user(DEV, "alice")
    seed, step = _device(world, root), _step(world)
    with pytest.raises(InvalidAuthenticationCode) as invalid:
        world.call(
            root,
            "iam",
            "EnableMFADevice",
            UserName="alice",
            SerialNumber=SERIAL,
            AuthenticationCode1=_code(seed, step + first),
            AuthenticationCode2=_code(seed, step + second),
        )
    assert invalid.value.message == "Authentication code for device is not valid."
    assert invalid.value.http_status == 403
    assert world.call(root, "iam", "ListMFADevices", UserName="alice")["MFADevices"] == []


def test_enable_errors(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    root = world.account(DEV)
    world.user(DEV, "alice")
    world.user(DEV, "bob")
    seed = _device(world, root)
    codes = {"AuthenticationCode1": "123456", "AuthenticationCode2": "654321"}
    with pytest.raises(NoSuchEntity) as no_user:
        world.call(root, "iam", "EnableMFADevice", UserName="ghost", SerialNumber=SERIAL, **codes)
    assert no_user.value.message == "The user with name ghost cannot be found."
    ghost = f"arn:aws:iam::{DEV}:mfa/ghost"
    with pytest.raises(NoSuchEntity) as no_device:
        world.call(root, "iam", "EnableMFADevice", UserName="alice", SerialNumber=ghost, **codes)
    assert no_device.value.message == f"VirtualMFADevice with serial number {ghost} does not exist."
    _enable(world, root, seed)
    world.clock.advance(90)
    with pytest.raises(EntityAlreadyExists) as in_use:
        _enable(world, root, seed, user="bob")
    assert in_use.value.message == "MFA Device is already in use."
    assert mfa_devices.MFA_DEVICES_PER_USER == 8
    monkeypatch.setattr(mfa_devices, "MFA_DEVICES_PER_USER", 1)
    second = _device(world, root, "second")
    with pytest.raises(LimitExceeded) as limit:
        _enable(world, root, second, serial=f"arn:aws:iam::{DEV}:mfa/second")
    assert limit.value.message == "Cannot exceed quota for MFADevicesPerUser: 1"


def test_codes_are_single_use_for_get_session_token(world: World) -> None:
    root = world.account(DEV)
    alice = world.user(DEV, "alice")
    seed = _device(world, root)
    _enable(world, root, seed)
    with pytest.raises(AccessDenied) as reused:
        world.call(alice, "sts", "GetSessionToken", SerialNumber=SERIAL, TokenCode=_code(seed, _step(world)))
    assert reused.value.message == SESSION_MFA_FAILED
    world.clock.advance(30)
    fresh = _code(seed, _step(world))
    credentials = world.call(alice, "sts", "GetSessionToken", SerialNumber=SERIAL, TokenCode=fresh)["Credentials"]
    session = world.session_caller(credentials)
    assert session.session is not None and session.session.mfa_authenticated
    with pytest.raises(AccessDenied) as again:
        world.call(alice, "sts", "GetSessionToken", SerialNumber=SERIAL, TokenCode=fresh)
    assert again.value.message == SESSION_MFA_FAILED


def test_codes_are_single_use_for_assume_role(world: World) -> None:
    root = world.account(DEV)
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    )
    world.role(DEV, "admin", trust)
    alice = world.user(DEV, "alice", doc(allow("sts:AssumeRole")))
    seed = _device(world, root)
    _enable(world, root, seed)
    world.clock.advance(30)
    arn = f"arn:aws:iam::{DEV}:role/admin"
    code = _code(seed, _step(world))
    assumed = world.call(
        alice, "sts", "AssumeRole", RoleArn=arn, RoleSessionName="s", SerialNumber=SERIAL, TokenCode=code
    )
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{DEV}:assumed-role/admin/s"
    with pytest.raises(AccessDenied) as again:
        world.call(alice, "sts", "AssumeRole", RoleArn=arn, RoleSessionName="s", SerialNumber=SERIAL, TokenCode=code)
    assert again.value.message == "MultiFactorAuthentication failed with invalid MFA one time pass code."
    with pytest.raises(AccessDenied):
        world.call(alice, "sts", "AssumeRole", RoleArn=arn, RoleSessionName="s")


def test_deactivate_then_delete(world: World) -> None:
    root = world.account(DEV)
    alice = world.user(DEV, "alice")
    world.user(DEV, "bob")
    seed = _device(world, root)
    _enable(world, root, seed)
    with pytest.raises(DeleteConflict) as in_use:
        world.call(root, "iam", "DeleteVirtualMFADevice", SerialNumber=SERIAL)
    assert (
        in_use.value.message == "MFA VirtualDevice in use. Must deactivate first." and in_use.value.http_status == 409
    )
    with pytest.raises(NoSuchEntity) as not_bobs:
        world.call(root, "iam", "DeactivateMFADevice", UserName="bob", SerialNumber=SERIAL)
    assert not_bobs.value.message == "MFA Device invalid for user."
    world.call(root, "iam", "DeactivateMFADevice", UserName="alice", SerialNumber=SERIAL)
    assert world.call(root, "iam", "ListMFADevices", UserName="alice")["MFADevices"] == []
    unassigned = world.call(root, "iam", "ListVirtualMFADevices", AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert unassigned == [{"SerialNumber": SERIAL}]
    world.clock.advance(30)
    with pytest.raises(AccessDenied):
        world.call(alice, "sts", "GetSessionToken", SerialNumber=SERIAL, TokenCode=_code(seed, _step(world)))
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "DeactivateMFADevice", UserName="alice", SerialNumber=SERIAL)
    world.call(root, "iam", "DeleteVirtualMFADevice", SerialNumber=SERIAL)
    assert world.call(root, "iam", "ListVirtualMFADevices")["VirtualMFADevices"] == []
    with pytest.raises(NoSuchEntity) as gone:
        world.call(root, "iam", "DeleteVirtualMFADevice", SerialNumber=SERIAL)
    assert gone.value.message == f"VirtualMFADevice with serial number {SERIAL} does not exist."


def test_reenabling_needs_fresh_codes(world: World) -> None:
    root = world.account(DEV)
    world.user(DEV, "alice")
    seed = _device(world, root)
    _enable(world, root, seed)
    world.call(root, "iam", "DeactivateMFADevice", UserName="alice", SerialNumber=SERIAL)
    with pytest.raises(InvalidAuthenticationCode):
        _enable(world, root, seed)
    world.clock.advance(60)
    _enable(world, root, seed)
    assert len(world.call(root, "iam", "ListMFADevices", UserName="alice")["MFADevices"]) == 1


def test_resync(world: World) -> None:
    root = world.account(DEV)
    world.user(DEV, "alice")
    seed = _device(world, root)
    _enable(world, root, seed)
    world.clock.advance(60)
    step = _step(world)
    codes = {"AuthenticationCode1": _code(seed, step - 1), "AuthenticationCode2": _code(seed, step)}
    world.call(root, "iam", "ResyncMFADevice", UserName="alice", SerialNumber=SERIAL, **codes)
    with pytest.raises(InvalidAuthenticationCode):
        world.call(root, "iam", "ResyncMFADevice", UserName="alice", SerialNumber=SERIAL, **codes)
    other = f"arn:aws:iam::{DEV}:mfa/other"
    world.call(root, "iam", "CreateVirtualMFADevice", VirtualMFADeviceName="other")
    with pytest.raises(NoSuchEntity) as unassigned:
        world.call(root, "iam", "ResyncMFADevice", UserName="alice", SerialNumber=other, **codes)
    assert unassigned.value.message == "MFA Device invalid for user."


def test_list_virtual_devices_pages(world: World) -> None:
    root = world.account(DEV)
    for name in ("c", "a", "b"):
        world.call(root, "iam", "CreateVirtualMFADevice", VirtualMFADeviceName=name)
    first = world.call(root, "iam", "ListVirtualMFADevices", MaxItems=2)
    assert [d["SerialNumber"].rsplit("/", 1)[1] for d in first["VirtualMFADevices"]] == ["a", "b"]
    rest = world.call(root, "iam", "ListVirtualMFADevices", AssignmentStatus="Any", Marker=first["Marker"])
    assert [d["SerialNumber"].rsplit("/", 1)[1] for d in rest["VirtualMFADevices"]] == ["c"]


def test_self_service_policy(world: World) -> None:
    world.account(DEV)
    policy = doc(
        allow(["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"], "arn:aws:iam::*:mfa/${aws:username}"),
        allow(
            ["iam:EnableMFADevice", "iam:ListMFADevices", "iam:DeactivateMFADevice", "iam:ResyncMFADevice"],
            "arn:aws:iam::*:user/${aws:username}",
        ),
    )
    alice = world.user(DEV, "alice", policy)
    world.user(DEV, "bob")
    seed = _device(world, alice)
    with pytest.raises(AccessDenied) as denied:
        _device(world, alice, "bob")
    assert denied.value.message == (
        f"User: arn:aws:iam::{DEV}:user/alice is not authorized to perform: iam:CreateVirtualMFADevice on resource: "
        f"arn:aws:iam::{DEV}:mfa/bob because no identity-based policy allows the iam:CreateVirtualMFADevice action"
    )
    _enable(world, alice, seed)
    assert world.call(alice, "iam", "ListMFADevices")["MFADevices"][0]["SerialNumber"] == SERIAL
    with pytest.raises(AccessDenied):
        world.call(alice, "iam", "ListMFADevices", UserName="bob")
    world.call(alice, "iam", "DeactivateMFADevice", SerialNumber=SERIAL)
    world.call(alice, "iam", "DeleteVirtualMFADevice", SerialNumber=SERIAL)
    with pytest.raises(AccessDenied):
        world.call(alice, "iam", "ListVirtualMFADevices")


def test_root_lists_its_own_devices(world: World) -> None:
    root = world.account(DEV)
    assert world.call(root, "iam", "ListMFADevices") == {"MFADevices": [], "IsTruncated": False}
