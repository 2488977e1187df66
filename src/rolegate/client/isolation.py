"""The environment of an `--exec` child: credentials only from the refreshing endpoint, nothing that shadows it.

SDKs try, in order: environment keys, the active profile (keys, role_arn, SSO, credential_process), then the
container endpoint. So the child gets no static AWS_* keys, no AWS_PROFILE, and, when the [default] profile
itself carries credentials, private copies of the config and credentials files with only those [default]
credential keys removed (other profiles, regions and endpoints stay as they were).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from rolegate.client.config import Profiles
from rolegate.client.files import atomic_write, read_text
from rolegate.client.inifile import read_section, update_section
from rolegate.client.profiles import CREDENTIAL_KEYS, config_path, credentials_path

REMOVED_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
)
SHADOWING_KEYS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
    "source_profile",
    "sso_role_name",
    "sso_region",
    *CREDENTIAL_KEYS,
)


def base_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in environ.items() if name not in REMOVED_VARIABLES}


def default_profile_shadows(profiles: Profiles) -> bool:
    default = profiles.get("default", {})
    return any(default.get(key) for key in SHADOWING_KEYS)


def unshadowed_files(environ: Mapping[str, str], directory: Path) -> dict[str, str]:
    """Write copies of the config and credentials files without [default]'s credential keys into `directory`
    (private, removed by the caller) and return the variables that point the child at them."""
    removal: dict[str, str | None] = dict.fromkeys(SHADOWING_KEYS)
    config_text = read_text(config_path(environ))
    for section in ("default", "profile default"):
        if read_section(config_text, section):
            config_text = update_section(config_text, section, removal)
    credentials_text = update_section(read_text(credentials_path(environ)), "default", removal)
    config_copy, credentials_copy = directory / "config", directory / "credentials"
    atomic_write(config_copy, config_text)
    atomic_write(credentials_copy, credentials_text)
    return {"AWS_CONFIG_FILE": str(config_copy), "AWS_SHARED_CREDENTIALS_FILE": str(credentials_copy)}


def private_tempdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="rolegate-exec-")  # mkdtemp creates it 0700
