"""What the user asked for (`AssumeOptions`) and the checks on option values made before any network call.

Only the syntax of our own options is checked here (k=v tags, JSON policies, number ranges); everything AWS
validates (name patterns, packed sizes, trust) is left to STS so its own wording reaches the user.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from rolegate.client.errors import UsageError

MIN_DURATION = 900
MAX_DURATION = 43200
MAX_POLICY_FILE = 64 * 1024  # far above the 2,048-character session policy limit; STS reports the real one
TOKEN_CODE = re.compile(r"\d{6}")
ROLE_ARN = re.compile(r"arn:[a-z0-9-]+:iam::\d{12}:role/.+")


@dataclass(frozen=True)
class AssumeOptions:
    """The command's inputs, already split into typed values."""

    role: str
    source_profile: str | None = None
    external_id: str | None = None
    duration: int | None = None
    session_name: str | None = None
    mfa_serial: str | None = None
    mfa_token: str | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None
    chain: tuple[str, ...] = ()
    region: str | None = None
    endpoint_url: str | None = None


def is_role_arn(text: str) -> bool:
    return ROLE_ARN.fullmatch(text) is not None


def parse_tag(text: str) -> tuple[str, str]:
    """`key=value` (the value may be empty, the key may not)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UsageError(f"--tag {text!r}: expected KEY=VALUE")
    return key, value


def parse_duration(text: str | int) -> int:
    try:
        seconds = int(text)
    except ValueError:
        raise UsageError(f"duration {text!r}: expected a number of seconds") from None
    if not MIN_DURATION <= seconds <= MAX_DURATION:
        raise UsageError(f"duration {seconds}: must be between {MIN_DURATION} and {MAX_DURATION} seconds")
    return seconds


def check_token_code(code: str) -> str:
    code = code.strip()
    if TOKEN_CODE.fullmatch(code) is None:
        raise UsageError("the MFA code must be the 6 digits your device shows")
    return code


def load_policy(value: str) -> str:
    """A session policy given inline (`{...}`), as `file://PATH`, or as a path; checked to be JSON."""
    text = value
    if not value.lstrip().startswith("{"):
        path = Path(value.removeprefix("file://")).expanduser()
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_POLICY_FILE + 1)
        except OSError as error:
            raise UsageError(f"--policy: cannot read {path}: {error.strerror}") from None
        if len(raw) > MAX_POLICY_FILE:
            raise UsageError(f"--policy: {path} is larger than {MAX_POLICY_FILE} bytes")
        text = raw.decode("utf-8", errors="replace")
    try:
        document = json.loads(text)
    except ValueError as error:
        raise UsageError(f"--policy: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise UsageError("--policy: a policy document is a JSON object")
    return text
