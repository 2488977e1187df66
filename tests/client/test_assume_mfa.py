"""MFA with a real TOTP device: --mfa-token, the prompt when the profile needs MFA, the cache sparing a second
code, and one-line hints for a rejected code and for a role that requires MFA."""

from __future__ import annotations

import json
import time

import pyotp
from assume_support import Home, World, run_inprocess

MFA_TRUST = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def _fresh_code(totp: pyotp.TOTP) -> str:
    """A code the server has not seen: enabling used the current step, so take the next (within drift)."""
    return str(totp.at((int(time.time()) // 30 + 1) * 30))


def _setup(home: Home, name: str) -> tuple[str, pyotp.TOTP]:
    world: World = home.world
    key, secret = world.add_user(name)
    serial, totp = world.add_mfa(name)
    role = world.add_role(f"{name}-role", world.trust(MFA_TRUST))
    home.credentials.write_text(
        home.credentials.read_text() + f"\n[{name}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
    )
    home.add_config(
        f"\n[profile {name}-secure]\nrole_arn = {role}\nsource_profile = {name}\nmfa_serial = {serial}\n"
        f"endpoint_url = {world.live.endpoint}\n"
    )
    return serial, totp


def test_mfa_token_then_cached_without_a_code(home: Home) -> None:
    _serial, totp = _setup(home, "mfa-token-user")
    shown = run_inprocess("mfa-token-user-secure", "--mfa-token", _fresh_code(totp))
    assert shown.returncode == 0, shown.stderr
    assert ":assumed-role/mfa-token-user-role/mfa-token-user" in shown.stdout
    again = run_inprocess("mfa-token-user-secure", "--credential-process")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["AccessKeyId"].startswith("ASIA")


def test_prompted_code_from_stdin_without_a_terminal(home: Home) -> None:
    serial, totp = _setup(home, "mfa-prompt-user")
    shown = home.run("mfa-prompt-user-secure", "--json", stdin=_fresh_code(totp) + "\n")
    assert shown.returncode == 0, shown.stderr
    assert f"MFA code for {serial}: " in shown.stderr
    assert json.loads(shown.stdout)["AssumedRoleUser"]["Arn"].endswith(
        ":assumed-role/mfa-prompt-user-role/mfa-prompt-user"
    )


def test_credential_process_never_reads_stdin_for_a_code(home: Home) -> None:
    serial, totp = _setup(home, "mfa-process-user")
    shown = home.run("mfa-process-user-secure", "--credential-process", stdin=_fresh_code(totp) + "\n")
    assert shown.returncode == 1
    assert shown.stdout == ""
    assert f"an MFA code is needed for {serial}" in shown.stderr
    assert "hint: pass --mfa-token CODE" in shown.stderr


def test_rejected_code_gets_a_hint(home: Home) -> None:
    _serial, totp = _setup(home, "mfa-wrong-user")
    now = int(time.time())
    valid = {totp.at(now + offset) for offset in (-30, 0, 30, 60)}
    wrong = next(code for code in (f"{n:06d}" for n in range(123456, 999999, 111111)) if code not in valid)
    shown = run_inprocess("mfa-wrong-user-secure", "--mfa-token", wrong)
    assert shown.returncode == 1
    assert "AccessDenied: MultiFactorAuthentication failed with invalid MFA one time pass code." in shown.stderr
    assert "hint: the MFA code was not accepted" in shown.stderr
    malformed = run_inprocess("mfa-wrong-user-secure", "--mfa-token", "12ab")
    assert malformed.returncode == 2 and "6 digits" in malformed.stderr


def test_role_requiring_mfa_explained_when_no_device_is_used(home: Home) -> None:
    _setup(home, "mfa-missing-user")
    role = home.world.role_arn("mfa-missing-user-role")
    shown = run_inprocess(role, "--source-profile", "mfa-missing-user", "--endpoint-url", home.world.live.endpoint)
    assert shown.returncode == 1
    assert "AccessDenied: User: " in shown.stderr
    assert "rolegate: ImplicitDeny at the role trust policy (trust)" in shown.stderr
    assert "aws:MultiFactorAuthPresent" in shown.stderr
    assert "hint: the role requires MFA: pass --mfa-serial" in shown.stderr


def test_token_without_a_device_is_a_usage_error(home: Home) -> None:
    shown = run_inprocess("dev", "--mfa-token", "123456")
    assert shown.returncode == 2
    assert "--mfa-token needs --mfa-serial" in shown.stderr
