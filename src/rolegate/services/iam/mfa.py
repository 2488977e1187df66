"""Virtual MFA devices with real TOTP (RFC 6238): codes are checked within one 30-second step of drift and a
code (time step) is never accepted twice for the same device."""

from __future__ import annotations

import time
from dataclasses import replace

import pyotp

from rolegate.services.context import CallContext
from rolegate.store.records import MfaDevice

STEP = 30
DRIFT_STEPS = 1


def _steps(call: CallContext) -> int:
    return int(call.now.timestamp()) // STEP


def matching_step(seed: str, code: str, around: int) -> int | None:
    """The time step within the drift window whose TOTP equals `code`, if any."""
    totp = pyotp.TOTP(seed, interval=STEP)
    for step in range(around - DRIFT_STEPS, around + DRIFT_STEPS + 1):
        if totp.at(step * STEP) == code:
            return step
    return None


def verify_mfa_code(call: CallContext, serial: str, code: str) -> bool:
    """True when `serial` is an enabled device of the caller and `code` is fresh; consumes the code."""
    device = call.tx.get(MfaDevice, serial)
    caller = call.caller
    if device is None or device.enabled is None or device.account_id != caller.account_id:
        return False
    if device.user_name != (caller.user_name if not caller.is_root else ""):
        return False
    seed = call.sealer.unseal(device.sealed_seed, f"mfa:{serial}")
    step = matching_step(seed, code, _steps(call))
    if step is None or step <= device.last_counter:
        return False
    call.tx.put(replace(device, last_counter=step))
    return True


def now_code(seed: str, at: float | None = None) -> str:
    """The current code for a seed (used by the demo and tests)."""
    return pyotp.TOTP(seed, interval=STEP).at(at if at is not None else time.time())
