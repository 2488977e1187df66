"""Virtual MFA devices: create, enable for a user, resync, deactivate, delete, and list.

The TOTP seed is 64 base32 characters drawn from the injected id source and stored only sealed under
`mfa:<serial>`, the purpose mfa.verify_mfa_code unseals with. Enabling (and resyncing) takes two
consecutive codes, as AWS does; the later step becomes the device's counter, so neither code can be
replayed to STS afterwards. No QR code is generated: CreateVirtualMFADevice omits QRCodePNG.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.iam.common import (
    account_of,
    account_resource,
    get_user,
    paginate,
    tags_out,
    user_out,
    user_resource,
    validate_tags,
)
from rolegate.services.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidAuthenticationCode,
    LimitExceeded,
    NoSuchEntity,
)
from rolegate.services.iam.mfa import STEP, matching_step
from rolegate.services.iam.users import caller_user_name, root_user_out, self_resource
from rolegate.services.registry import operation
from rolegate.store.records import MfaDevice, User

SEED_LENGTH = 64
MFA_DEVICES_PER_USER = 8
INVALID_CODE = "Authentication code for device is not valid."
INVALID_FOR_USER = "MFA Device invalid for user."


def _serial(account: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:mfa{path}{name}"


def _new_device_resource(call: CallContext, params: dict[str, Any]) -> str:
    return _serial(account_of(call), params.get("Path", "/"), params["VirtualMFADeviceName"])


def _device_resource(call: CallContext, params: dict[str, Any]) -> str:
    serial = str(params["SerialNumber"])
    return serial if serial.startswith("arn:") else _serial(account_of(call), "/", serial)


def _new_seed(call: CallContext) -> str:
    """Base32 text: unique ids are drawn from the base32 alphabet (A-Z, 2-7) by the injected source."""
    chars = ""
    while len(chars) < SEED_LENGTH:
        chars += call.ids.unique_id("")
    return chars[:SEED_LENGTH]


def _device(call: CallContext, serial: str) -> MfaDevice:
    device = call.tx.get(MfaDevice, serial)
    if device is None or device.account_id != account_of(call):
        raise NoSuchEntity(f"VirtualMFADevice with serial number {serial} does not exist.")
    return device


@operation("iam", "CreateVirtualMFADevice", resource=_new_device_resource)
def create_virtual_mfa_device(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    account, path, name = account_of(call), params.get("Path", "/"), params["VirtualMFADeviceName"]
    serial = _serial(account, path, name)
    if any(d.serial.lower() == serial.lower() for d in call.tx.find(MfaDevice, account_id=account)):
        raise EntityAlreadyExists("MFADevice entity at the same path and name already exists.")
    seed = _new_seed(call)
    tags = validate_tags(params.get("Tags", []))
    sealed = call.sealer.seal(seed, f"mfa:{serial}")
    call.tx.insert(MfaDevice(serial, account, name, path, sealed, call.now, tags=tags))
    out: dict[str, Any] = {"SerialNumber": serial, "Base32StringSeed": seed.encode("ascii")}
    if tags:
        out["Tags"] = tags_out(tags)
    return {"VirtualMFADevice": out}


def _consecutive_step(call: CallContext, device: MfaDevice, params: dict[str, Any]) -> int:
    """The second code's time step when both codes are fresh and one step apart; else InvalidAuthenticationCode."""
    seed = call.sealer.unseal(device.sealed_seed, f"mfa:{device.serial}")
    around = int(call.now.timestamp()) // STEP
    first = matching_step(seed, params["AuthenticationCode1"], around)
    second = matching_step(seed, params["AuthenticationCode2"], around)
    if first is None or second != first + 1 or first <= device.last_counter:
        raise InvalidAuthenticationCode(INVALID_CODE)
    return second


def _enabled_for(call: CallContext, owner: str) -> list[MfaDevice]:
    devices = call.tx.find(MfaDevice, account_id=account_of(call), user_name=owner)
    return [d for d in devices if d.enabled is not None]


@operation("iam", "EnableMFADevice", resource=user_resource)
def enable_mfa_device(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    user = get_user(call, params["UserName"])
    device = _device(call, params["SerialNumber"])
    if device.enabled is not None:
        raise EntityAlreadyExists("MFA Device is already in use.")
    if len(_enabled_for(call, user.name)) >= MFA_DEVICES_PER_USER:
        raise LimitExceeded(f"Cannot exceed quota for MFADevicesPerUser: {MFA_DEVICES_PER_USER}")
    step = _consecutive_step(call, device, params)
    call.tx.put(replace(device, user_name=user.name, enabled=call.now, last_counter=step))
    return {}


def _assigned(call: CallContext, params: dict[str, Any]) -> MfaDevice:
    """The device named by SerialNumber if it is enabled for the user named (or the caller)."""
    owner = caller_user_name(call, params)
    device = call.tx.get(MfaDevice, params["SerialNumber"])
    if device is None or device.account_id != account_of(call) or device.enabled is None:
        raise NoSuchEntity(INVALID_FOR_USER)
    if device.user_name.lower() != owner.lower():
        raise NoSuchEntity(INVALID_FOR_USER)
    return device


@operation("iam", "ResyncMFADevice", resource=user_resource)
def resync_mfa_device(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Checks two consecutive codes within the usual drift window and advances the device's counter."""
    device = _assigned(call, params)
    call.tx.put(replace(device, last_counter=_consecutive_step(call, device, params)))
    return {}


@operation("iam", "DeactivateMFADevice", resource=self_resource)
def deactivate_mfa_device(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """The device becomes unassigned; its counter stays, so codes already used remain spent."""
    device = _assigned(call, params)
    call.tx.put(replace(device, user_name="", enabled=None))
    return {}


@operation("iam", "DeleteVirtualMFADevice", resource=_device_resource)
def delete_virtual_mfa_device(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    device = _device(call, params["SerialNumber"])
    if device.enabled is not None:
        raise DeleteConflict("MFA VirtualDevice in use. Must deactivate first.")
    call.tx.delete(MfaDevice, device.serial)
    return {}


@operation("iam", "ListMFADevices", resource=self_resource)
def list_mfa_devices(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    owner = caller_user_name(call, params)
    devices = sorted(_enabled_for(call, owner), key=lambda d: d.serial)
    return paginate(devices, params, "MFADevices", _mfa_device_out)


def _mfa_device_out(device: MfaDevice) -> dict[str, Any]:
    out: dict[str, Any] = {"SerialNumber": device.serial, "EnableDate": device.enabled}
    if device.user_name:
        out["UserName"] = device.user_name
    return out


def _assignment(device: MfaDevice) -> str:
    return "Assigned" if device.enabled is not None else "Unassigned"


@operation("iam", "ListVirtualMFADevices", resource=account_resource)
def list_virtual_mfa_devices(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    wanted = params.get("AssignmentStatus", "Any")
    devices = [
        d for d in call.tx.find(MfaDevice, account_id=account_of(call)) if wanted == "Any" or _assignment(d) == wanted
    ]
    devices.sort(key=lambda d: d.serial)
    return paginate(devices, params, "VirtualMFADevices", lambda d: _virtual_device_out(call, d))


def _virtual_device_out(call: CallContext, device: MfaDevice) -> dict[str, Any]:
    out: dict[str, Any] = {"SerialNumber": device.serial}
    if device.enabled is not None:
        out["EnableDate"] = device.enabled
        user = call.tx.get(User, device.account_id, device.user_name) if device.user_name else None
        out["User"] = user_out(user) if user is not None else root_user_out(call)
    if device.tags:
        out["Tags"] = tags_out(device.tags)
    return out
