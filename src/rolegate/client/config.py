"""ROLE + options + the AWS config files -> a `Plan`, resolving profiles the way the aws CLI does.

Profile keys honoured: role_arn, source_profile (followed, so profiles may chain), credential_source,
external_id, mfa_serial, duration_seconds, role_session_name, region, endpoint_url. Options override the
profile of ROLE; `--chain` adds hops after it. The config files are read with botocore, so AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE apply as they do for every SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped]  # botocore ships no type hints
from botocore.session import Session  # type: ignore[import-untyped]

from rolegate.client.errors import UsageError
from rolegate.client.model import CHAINED_SESSION_LIMIT, Hop, Plan, Setting, Source
from rolegate.client.options import AssumeOptions, is_role_arn, parse_duration

CREDENTIAL_SOURCES = ("Environment", "EcsContainer", "Ec2InstanceMetadata")
DEFAULT_REGION = "us-east-1"
Profiles = Mapping[str, Mapping[str, Any]]


def load_profiles(session: Session | None = None) -> Profiles:
    """Every profile of the config and credentials files (botocore merges the two)."""
    try:
        profiles: Profiles = (session or Session()).full_config.get("profiles", {})
    except BotoCoreError as error:  # e.g. a file that is not INI
        raise UsageError(f"cannot read the AWS config files: {error}") from None
    return profiles


def build_plan(options: AssumeOptions, profiles: Profiles, environ: Mapping[str, str]) -> Plan:
    """Resolve ROLE and `--chain` into hops and apply the options to them."""
    notes: list[str] = []
    if is_role_arn(options.role):
        settings_profile = options.source_profile or environ.get("AWS_PROFILE") or None
        if options.source_profile:
            source, hops = _profile_hops(profiles, options.source_profile, frozenset())
        else:
            source, hops = Source("chain", settings_profile), []
        hops.append(Hop(options.role, label=options.role))
        profile_name = None
    elif options.source_profile:
        raise UsageError("--source-profile applies to a role ARN; a profile names its own source_profile")
    elif options.role in profiles:
        source, hops = _profile_hops(profiles, options.role, frozenset())
        if not hops:
            raise UsageError(f"profile {options.role!r} has no role_arn: there is no role to assume")
        settings_profile = profile_name = options.role
    else:
        raise UsageError(f"{options.role!r} is neither a role ARN (arn:aws:iam::ACCOUNT:role/NAME) nor a profile")
    role_index = len(hops) - 1
    hops.extend(_chain_hop(profiles, item) for item in options.chain)
    hops = _apply_options(hops, role_index, options)
    hops = _cap_chained(hops, notes)
    settings = profiles.get(settings_profile, {}) if settings_profile else {}
    return Plan(
        source=source,
        hops=tuple(hops),
        region=_region(options, settings, environ),
        endpoint_url=_endpoint(options, settings, environ),
        profile=profile_name,
        notes=tuple(notes),
    )


def _profile_hops(profiles: Profiles, name: str, seen: frozenset[str]) -> tuple[Source, list[Hop]]:
    config = profiles.get(name)
    if config is None:
        raise UsageError(f"profile {name!r} not found in the AWS config or credentials file")
    if not config.get("role_arn"):
        return Source("profile", name), []
    hop = _hop_from_profile(name, config)
    source_profile = config.get("source_profile")
    credential_source = config.get("credential_source")
    if source_profile and credential_source:
        raise UsageError(f"profile {name!r} sets both source_profile and credential_source; keep one")
    if credential_source:
        if credential_source not in CREDENTIAL_SOURCES:
            raise UsageError(f"profile {name!r}: credential_source must be one of {', '.join(CREDENTIAL_SOURCES)}")
        return Source(credential_source), [hop]
    if not source_profile:
        raise UsageError(f"profile {name!r} has role_arn but neither source_profile nor credential_source")
    if source_profile == name:  # the profile's own static keys call AssumeRole (botocore allows this)
        return Source("profile", name), [hop]
    if source_profile in seen or len(seen) > 16:
        raise UsageError(f"profile {name!r}: source_profile loops back to {source_profile!r}")
    source, hops = _profile_hops(profiles, source_profile, seen | {name})
    return source, [*hops, hop]


def _hop_from_profile(name: str, config: Mapping[str, Any]) -> Hop:
    duration = config.get("duration_seconds")
    return Hop(
        role_arn=str(config["role_arn"]),
        label=name,
        external_id=config.get("external_id"),
        mfa_serial=config.get("mfa_serial"),
        duration=parse_duration(duration) if duration else None,
        session_name=config.get("role_session_name"),
    )


def _chain_hop(profiles: Profiles, item: str) -> Hop:
    if is_role_arn(item):
        return Hop(item, label=item)
    config = profiles.get(item)
    if config is None or not config.get("role_arn"):
        raise UsageError(f"--chain {item!r}: expected a role ARN or a profile with role_arn")
    return _hop_from_profile(item, config)


def _apply_options(hops: list[Hop], role_index: int, options: AssumeOptions) -> list[Hop]:
    """Options that shape who assumes go to ROLE's hop; options that shape the result go to the last hop."""
    out = [replace(h, session_name=h.session_name or options.session_name) for h in hops]
    role = out[role_index]
    out[role_index] = replace(
        role,
        external_id=options.external_id if options.external_id is not None else role.external_id,
        mfa_serial=options.mfa_serial or role.mfa_serial,
        tags=options.tags,
        transitive_tag_keys=options.transitive_tag_keys,
        source_identity=options.source_identity,
    )
    last = out[-1]
    out[-1] = replace(
        last,
        duration=options.duration if options.duration is not None else last.duration,
        policy=options.policy,
        policy_arns=options.policy_arns,
    )
    return out


def _cap_chained(hops: list[Hop], notes: list[str]) -> list[Hop]:
    out = list(hops)
    for index, hop in enumerate(hops[1:], start=1):
        if hop.duration is not None and hop.duration > CHAINED_SESSION_LIMIT:
            notes.append(chain_note(hop, hop.duration))
            out[index] = replace(hop, duration=CHAINED_SESSION_LIMIT)
    return out


def chain_note(hop: Hop, asked: int) -> str:
    return (
        f"role chaining: {hop.label} is assumed by a role session, which AWS limits to 1 hour; "
        f"asking for {CHAINED_SESSION_LIMIT} seconds instead of {asked}"
    )


def _region(options: AssumeOptions, settings: Mapping[str, Any], environ: Mapping[str, str]) -> Setting:
    if options.region:
        return Setting(options.region, chosen=True)
    if settings.get("region"):
        return Setting(str(settings["region"]), chosen=True)
    return Setting(environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION)


def _endpoint(options: AssumeOptions, settings: Mapping[str, Any], environ: Mapping[str, str]) -> Setting:
    if options.endpoint_url:
        return Setting(options.endpoint_url, chosen=True)
    ignore = str(settings.get("ignore_configured_endpoint_urls", "")).lower() == "true"
    if ignore or environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return Setting(None)
    if settings.get("endpoint_url"):
        return Setting(str(settings["endpoint_url"]), chosen=True)
    return Setting(environ.get("AWS_ENDPOINT_URL_STS") or environ.get("AWS_ENDPOINT_URL") or None)
