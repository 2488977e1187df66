"""The first caller's credentials, through botocore's own providers (env, profiles, process, SSO, container,
instance metadata), so every way the SDKs find credentials works here too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.credentials import (  # type: ignore[import-untyped]  # botocore ships no type hints
    ContainerProvider,
    Credentials,
    EnvProvider,
    InstanceMetadataFetcher,
    InstanceMetadataProvider,
    ReadOnlyCredentials,
)
from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped]
from botocore.session import Session  # type: ignore[import-untyped]

from rolegate.client.errors import AssumeError
from rolegate.client.model import Source

NO_CREDENTIALS_HINT = (
    "give the source credentials: a profile with source_profile, --source-profile NAME, AWS_PROFILE, "
    "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment"
)


def source_credentials(source: Source, profiles: Mapping[str, Mapping[str, Any]]) -> ReadOnlyCredentials:
    """Frozen credentials of the source, or an AssumeError with a hint when there are none."""
    try:
        credentials = _load(source, profiles)
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
    except BotoCoreError as error:
        raise AssumeError(f"cannot load the source credentials ({source.describe()}): {error}") from None
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        raise AssumeError(f"no source credentials found ({source.describe()})", hint=NO_CREDENTIALS_HINT)
    return frozen


def _load(source: Source, profiles: Mapping[str, Mapping[str, Any]]) -> Any:
    if source.kind == "profile":
        config = profiles.get(source.profile or "", {})
        if config.get("aws_access_key_id"):  # static keys; also for a role profile that is its own source
            return Credentials(
                config.get("aws_access_key_id"), config.get("aws_secret_access_key"), config.get("aws_session_token")
            )
        return Session(profile=source.profile).get_credentials()
    if source.kind == "chain":
        return Session().get_credentials()
    if source.kind == "Environment":
        return EnvProvider().load()
    if source.kind == "EcsContainer":
        return ContainerProvider().load()
    return InstanceMetadataProvider(iam_role_fetcher=InstanceMetadataFetcher(timeout=2, num_attempts=1)).load()
