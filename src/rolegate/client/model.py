"""Values of the assume client: one AssumeRole step (`Hop`), where the first caller's keys come from (`Source`),
the whole request (`Plan`) and the temporary credentials it yields (`RoleSession`).

Secrets are excluded from `repr` so a traceback or a debug print never shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

CHAINED_SESSION_LIMIT = 3600  # AWS caps a session obtained by a role session (role chaining) at one hour

SourceKind = Literal["chain", "profile", "Environment", "EcsContainer", "Ec2InstanceMetadata"]


@dataclass(frozen=True)
class Source:
    """The long-lived (or outer) credentials that make the first AssumeRole call."""

    kind: SourceKind
    profile: str | None = None

    def describe(self) -> str:
        if self.kind == "profile":
            return f"profile {self.profile}"
        if self.kind == "chain":
            return "the default credential chain" + (f" (profile {self.profile})" if self.profile else "")
        return f"credential_source {self.kind}"


@dataclass(frozen=True)
class Hop:
    """One sts:AssumeRole call; `label` names it in messages (a profile name or the role ARN)."""

    role_arn: str
    label: str
    external_id: str | None = None
    mfa_serial: str | None = None
    duration: int | None = None
    session_name: str | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None

    def params(self, session_name: str, token_code: str | None) -> dict[str, Any]:
        """The AssumeRole parameters, as botocore takes them."""
        params: dict[str, Any] = {"RoleArn": self.role_arn, "RoleSessionName": self.session_name or session_name}
        optional: dict[str, Any] = {
            "ExternalId": self.external_id,
            "DurationSeconds": self.duration,
            "Policy": self.policy,
            "PolicyArns": [{"arn": arn} for arn in self.policy_arns] or None,
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags] or None,
            "TransitiveTagKeys": list(self.transitive_tag_keys) or None,
            "SourceIdentity": self.source_identity,
        }
        params.update({name: value for name, value in optional.items() if value is not None})
        if self.mfa_serial:
            params["SerialNumber"] = self.mfa_serial
            params["TokenCode"] = token_code or ""
        return params

    def identity(self) -> dict[str, Any]:
        """What makes two requests interchangeable for the cache (never an MFA code)."""
        return {
            "role": self.role_arn,
            "externalId": self.external_id,
            "mfa": self.mfa_serial,
            "duration": self.duration,
            "session": self.session_name,
            "policy": self.policy,
            "policyArns": list(self.policy_arns),
            "tags": [list(t) for t in self.tags],
            "transitive": list(self.transitive_tag_keys),
            "sourceIdentity": self.source_identity,
        }


@dataclass(frozen=True)
class Setting:
    """A configuration value and whether the user chose it (option or profile) or it came from the environment."""

    value: str | None
    chosen: bool = False


@dataclass(frozen=True)
class Plan:
    """Everything needed to obtain the credentials: the source, the hops in order, where STS is."""

    source: Source
    hops: tuple[Hop, ...]
    region: Setting
    endpoint_url: Setting
    profile: str | None = None  # the profile ROLE named, if any
    notes: tuple[str, ...] = ()

    @property
    def target(self) -> Hop:
        return self.hops[-1]


@dataclass(frozen=True)
class RoleSession:
    """Temporary credentials of the last hop and what AssumeRole said about them."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime
    issued_at: datetime
    role_arn: str
    assumed_role_arn: str
    assumed_role_id: str = ""
    source_identity: str | None = None
    packed_policy_size: int | None = None

    @property
    def lifetime(self) -> float:
        return (self.expiration - self.issued_at).total_seconds()

    def remaining(self, now: datetime) -> float:
        return (self.expiration - now).total_seconds()

    def aws_result(self) -> dict[str, Any]:
        """The shape `aws sts assume-role` prints (Expiration as ISO 8601 UTC)."""
        result: dict[str, Any] = {
            "Credentials": {
                "AccessKeyId": self.access_key_id,
                "SecretAccessKey": self.secret_access_key,
                "SessionToken": self.session_token,
                "Expiration": iso8601(self.expiration),
            },
            "AssumedRoleUser": {"AssumedRoleId": self.assumed_role_id, "Arn": self.assumed_role_arn},
        }
        if self.packed_policy_size is not None:
            result["PackedPolicySize"] = self.packed_policy_size
        if self.source_identity:
            result["SourceIdentity"] = self.source_identity
        return result

    def to_json(self) -> dict[str, Any]:
        return {**self.aws_result(), "RoleArn": self.role_arn, "IssuedAt": iso8601(self.issued_at)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoleSession:
        """The inverse of `to_json`; raises KeyError/ValueError/TypeError on a damaged entry."""
        creds = data["Credentials"]
        user = data["AssumedRoleUser"]
        size = data.get("PackedPolicySize")
        return cls(
            access_key_id=str(creds["AccessKeyId"]),
            secret_access_key=str(creds["SecretAccessKey"]),
            session_token=str(creds["SessionToken"]),
            expiration=parse_iso8601(str(creds["Expiration"])),
            issued_at=parse_iso8601(str(data["IssuedAt"])),
            role_arn=str(data["RoleArn"]),
            assumed_role_arn=str(user["Arn"]),
            assumed_role_id=str(user.get("AssumedRoleId", "")),
            source_identity=data.get("SourceIdentity"),
            packed_policy_size=int(size) if size is not None else None,
        )


def iso8601(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso8601(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)
