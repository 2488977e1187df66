"""The two STS calls the client makes (GetCallerIdentity, AssumeRole) through botocore clients with explicit
credentials, region and endpoint, so no ambient configuration changes who is calling or where."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from botocore.config import Config  # type: ignore[import-untyped]  # botocore ships no type hints
from botocore.credentials import ReadOnlyCredentials  # type: ignore[import-untyped]
from botocore.session import Session  # type: ignore[import-untyped]

CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"max_attempts": 3, "mode": "standard"},
    user_agent_extra="rolegate-assume",
)
SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")
SESSION_NAME_MAX = 64


def botocore_session(profile: str | None, profiles: Mapping[str, object]) -> Session:
    """A session reading `profile`'s settings (CA bundle, STS regional endpoints...) when it exists; otherwise
    one that ignores AWS_PROFILE, whose absence the source-credential step already reported."""
    if profile and profile in profiles:
        return Session(profile=profile)
    return Session(session_vars={"profile": (None, None, None, None)})


class StsCaller:
    """STS with one set of credentials."""

    def __init__(self, session: Session, credentials: ReadOnlyCredentials, region: str, endpoint_url: str | None):
        self.credentials = credentials
        self.endpoint_url = endpoint_url
        self._client = session.create_client(
            "sts",
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            aws_session_token=credentials.token,
            config=CLIENT_CONFIG,
        )

    def caller_arn(self) -> str:
        result: dict[str, Any] = self._client.get_caller_identity()
        return str(result["Arn"])

    def assume_role(self, params: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._client.assume_role(**params)
        return result


def session_name_for(caller_arn: str) -> str:
    """A RoleSessionName from the caller: the user name, or the caller's own session name when it is a role
    session, with characters AWS rejects replaced; CloudTrail then shows who is behind each session."""
    resource = caller_arn.split(":", 5)[-1]
    name = resource.rsplit("/", 1)[-1] if "/" in resource else resource
    name = SESSION_NAME_CHARS.sub("-", name)[:SESSION_NAME_MAX]
    return name if len(name) >= 2 else f"rolegate-{name}"


def is_role_session(caller_arn: str) -> bool:
    return ":assumed-role/" in caller_arn
