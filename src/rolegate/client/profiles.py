"""`--profile NAME`: write a session into the shared credentials file, atomically, 0600, touching only that
profile's section. It refuses a name the SDKs would not read the keys from (a role, process or SSO profile in
the config file) and one holding long-term keys, which writing over would lose."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from rolegate.client.config import Profiles
from rolegate.client.errors import UsageError
from rolegate.client.files import atomic_write, locked, read_text
from rolegate.client.inifile import read_section, update_section
from rolegate.client.model import Plan, RoleSession, iso8601

PROFILE_NAME = re.compile(r"[^\s\[\]#;=]{1,128}")
CREDENTIAL_KEYS = (
    "role_arn",
    "credential_process",
    "credential_source",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "login_session",
)


def credentials_path(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials").expanduser()


def config_path(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser()


def write_profile(name: str, session: RoleSession, plan: Plan, profiles: Profiles, environ: Mapping[str, str]) -> Path:
    """Store the session as profile `name`; returns the file written."""
    _check_target(name, plan, profiles)
    path = credentials_path(environ)
    values: dict[str, str | None] = {
        "aws_access_key_id": session.access_key_id,
        "aws_secret_access_key": session.secret_access_key,
        "aws_session_token": session.session_token,
        "aws_security_token": None,
        "x_security_token_expires": iso8601(session.expiration),
    }
    if plan.region.chosen:
        values["region"] = plan.region.value
    if plan.endpoint_url.chosen:
        values["endpoint_url"] = plan.endpoint_url.value
    with locked(path.parent):
        text = read_text(path)
        existing = read_section(text, name)
        if existing.get("aws_access_key_id") and not existing.get("aws_session_token"):
            raise UsageError(
                f"profile {name!r} in {path} holds long-term access keys; choose another name for the session"
            )
        atomic_write(path, update_section(text, name, values))
    return path


def _check_target(name: str, plan: Plan, profiles: Profiles) -> None:
    if PROFILE_NAME.fullmatch(name) is None:
        raise UsageError(f"--profile {name!r}: not a usable profile name")
    if name in (plan.source.profile, plan.profile):
        raise UsageError(f"--profile {name!r} is a profile this request reads; choose another name")
    config = profiles.get(name, {})
    conflicting = [key for key in CREDENTIAL_KEYS if config.get(key)]
    if conflicting:
        raise UsageError(
            f"profile {name!r} sets {conflicting[0]}, which SDKs use before stored keys; choose another name"
        )
