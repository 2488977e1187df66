"""Frozen records for everything rolegate stores, each declaring its key and its indexed fields.

`KEY` fields identify a record; `INDEXED` fields can be searched with `Transaction.find`; `FOLDED` fields
compare case-insensitively (IAM names are unique per account regardless of case); `BINARY` fields hold raw
bytes in a column of their own (not in the JSON payload); `DEFERRED` binary fields are loaded by `get` but
not by `find`, which leaves them None (an object listing must not read every small object's bytes).
Everything else is payload. Secrets are stored only in sealed form (see secrets.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

Tags = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Record:
    TABLE: ClassVar[str] = ""
    KEY: ClassVar[tuple[str, ...]] = ()
    INDEXED: ClassVar[tuple[str, ...]] = ()
    FOLDED: ClassVar[tuple[str, ...]] = ()
    BINARY: ClassVar[tuple[str, ...]] = ()
    DEFERRED: ClassVar[tuple[str, ...]] = ()
    # Records that caches may keep as written, not only as read back: their writers build them with exactly
    # the declared field types (tuples, aware datetimes), so the written and the decoded record are equal.
    WRITE_THROUGH: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Setting(Record):
    """Server-wide values (bootstrap state, schema version)."""

    TABLE: ClassVar[str] = "settings"
    KEY: ClassVar[tuple[str, ...]] = ("name",)
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Account(Record):
    TABLE: ClassVar[str] = "accounts"
    KEY: ClassVar[tuple[str, ...]] = ("account_id",)
    INDEXED: ClassVar[tuple[str, ...]] = ("parent_id", "email")
    account_id: str
    name: str
    email: str
    parent_id: str = ""
    status: str = "ACTIVE"
    joined_method: str = "CREATED"
    joined_at: datetime | None = None
    alias: str = ""


@dataclass(frozen=True, slots=True)
class Organization(Record):
    TABLE: ClassVar[str] = "organizations"
    KEY: ClassVar[tuple[str, ...]] = ("org_id",)
    INDEXED: ClassVar[tuple[str, ...]] = ("management_account_id",)
    org_id: str
    management_account_id: str
    management_email: str
    root_id: str
    feature_set: str = "ALL"
    enabled_policy_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OrganizationalUnit(Record):
    TABLE: ClassVar[str] = "organizational_units"
    KEY: ClassVar[tuple[str, ...]] = ("ou_id",)
    INDEXED: ClassVar[tuple[str, ...]] = ("parent_id",)
    ou_id: str
    parent_id: str
    name: str


@dataclass(frozen=True, slots=True)
class OrgPolicy(Record):
    TABLE: ClassVar[str] = "org_policies"
    KEY: ClassVar[tuple[str, ...]] = ("policy_id",)
    INDEXED: ClassVar[tuple[str, ...]] = ("policy_type", "name")
    policy_id: str
    policy_type: str
    name: str
    description: str
    content: str
    aws_managed: bool = False


@dataclass(frozen=True, slots=True)
class OrgPolicyAttachment(Record):
    TABLE: ClassVar[str] = "org_policy_attachments"
    KEY: ClassVar[tuple[str, ...]] = ("policy_id", "target_id")
    INDEXED: ClassVar[tuple[str, ...]] = ("target_id",)
    policy_id: str
    target_id: str


@dataclass(frozen=True, slots=True)
class User(Record):
    TABLE: ClassVar[str] = "users"
    KEY: ClassVar[tuple[str, ...]] = ("account_id", "name")
    INDEXED: ClassVar[tuple[str, ...]] = ("user_id",)
    FOLDED: ClassVar[tuple[str, ...]] = ("name",)
    account_id: str
    name: str
    user_id: str
    path: str
    created: datetime
    permissions_boundary: str = ""
    tags: Tags = ()
    password_last_used: datetime | None = None


@dataclass(frozen=True, slots=True)
class Group(Record):
    TABLE: ClassVar[str] = "groups"
    KEY: ClassVar[tuple[str, ...]] = ("account_id", "name")
    FOLDED: ClassVar[tuple[str, ...]] = ("name",)
    account_id: str
    name: str
    group_id: str
    path: str
    created: datetime


@dataclass(frozen=True, slots=True)
class GroupMember(Record):
    TABLE: ClassVar[str] = "group_members"
    KEY: ClassVar[tuple[str, ...]] = ("account_id", "group_name", "user_name")
    INDEXED: ClassVar[tuple[str, ...]] = ("user_name",)
    FOLDED: ClassVar[tuple[str, ...]] = ("group_name", "user_name")
    account_id: str
    group_name: str
    user_name: str


@dataclass(frozen=True, slots=True)
class Role(Record):
    TABLE: ClassVar[str] = "roles"
    KEY: ClassVar[tuple[str, ...]] = ("account_id", "name")
    INDEXED: ClassVar[tuple[str, ...]] = ("role_id",)
    FOLDED: ClassVar[tuple[str, ...]] = ("name",)
    account_id: str
    name: str
    role_id: str
    path: str
    created: datetime
    trust_policy: str
    description: str = ""
    max_session_duration: int = 3600
    permissions_boundary: str = ""
    tags: Tags = ()
    last_used: datetime | None = None
    last_used_region: str = ""


@dataclass(frozen=True, slots=True)
class ManagedPolicy(Record):
    """A customer managed policy (account_id = the account) or an AWS managed one (account_id = "aws")."""

    TABLE: ClassVar[str] = "managed_policies"
    KEY: ClassVar[tuple[str, ...]] = ("arn",)
    INDEXED: ClassVar[tuple[str, ...]] = ("account_id", "policy_id")
    arn: str
    account_id: str
    name: str
    policy_id: str
    path: str
    default_version: str
    created: datetime
    updated: datetime
    description: str = ""
    next_version: int = 2
    tags: Tags = ()


@dataclass(frozen=True, slots=True)
class PolicyVersion(Record):
    TABLE: ClassVar[str] = "policy_versions"
    KEY: ClassVar[tuple[str, ...]] = ("policy_arn", "version_id")
    policy_arn: str
    version_id: str
    document: str
    created: datetime


@dataclass(frozen=True, slots=True)
class InlinePolicy(Record):
    """owner_kind is "user", "group" or "role"."""

    TABLE: ClassVar[str] = "inline_policies"
    KEY: ClassVar[tuple[str, ...]] = ("account_id", "owner_kind", "owner_name", "name")
    FOLDED: ClassVar[tuple[str, ...]] = ("owner_name",)
    account_id: str
    owner_kind: str
    owner_name: str
    name: str
    document: str


@dataclass(frozen=True, slots=True)
class Attachment(Record):
    TABLE: ClassVar[str] = "attachments"
    KEY: ClassVar[tuple[str, ...]] = ("account_id", "owner_kind", "owner_name", "policy_arn")
    INDEXED: ClassVar[tuple[str, ...]] = ("policy_arn",)
    FOLDED: ClassVar[tuple[str, ...]] = ("owner_name",)
    account_id: str
    owner_kind: str
    owner_name: str
    policy_arn: str


@dataclass(frozen=True, slots=True)
class AccessKey(Record):
    """A long-term key; user_name "" means the account root user's key."""

    TABLE: ClassVar[str] = "access_keys"
    KEY: ClassVar[tuple[str, ...]] = ("access_key_id",)
    INDEXED: ClassVar[tuple[str, ...]] = ("account_id", "user_name")
    access_key_id: str
    account_id: str
    user_name: str
    sealed_secret: str
    status: str
    created: datetime
    last_used: datetime | None = None
    last_used_service: str = ""
    last_used_region: str = ""


@dataclass(frozen=True, slots=True)
class MfaDevice(Record):
    TABLE: ClassVar[str] = "mfa_devices"
    KEY: ClassVar[tuple[str, ...]] = ("serial",)
    INDEXED: ClassVar[tuple[str, ...]] = ("account_id", "user_name")
    serial: str
    account_id: str
    name: str
    path: str
    sealed_seed: str
    created: datetime
    user_name: str = ""
    enabled: datetime | None = None
    last_counter: int = -1
    tags: Tags = ()


@dataclass(frozen=True, slots=True)
class Session(Record):
    """Temporary credentials. kind: "role" (AssumeRole*), "federated" (GetFederationToken), "user"
    (GetSessionToken), "root" (root GetSessionToken)."""

    TABLE: ClassVar[str] = "sessions"
    KEY: ClassVar[tuple[str, ...]] = ("access_key_id",)
    INDEXED: ClassVar[tuple[str, ...]] = ("account_id", "role_arn")
    access_key_id: str
    account_id: str
    kind: str
    sealed_secret: str
    issued: datetime
    expires: datetime
    session_name: str = ""
    role_arn: str = ""
    role_id: str = ""
    user_name: str = ""
    session_policy: str = ""
    policy_arns: tuple[str, ...] = ()
    tags: Tags = ()
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str = ""
    mfa_authenticated: bool = False
    mfa_time: datetime | None = None
    chained: bool = False
    source_ip: str = ""


@dataclass(frozen=True, slots=True)
class AuditEvent(Record):
    """One API call with its decision; `explanation` is the engine's JSON explanation for denials."""

    TABLE: ClassVar[str] = "audit_events"
    KEY: ClassVar[tuple[str, ...]] = ("event_id",)
    INDEXED: ClassVar[tuple[str, ...]] = ("request_id", "account_id", "principal_arn")
    event_id: str
    time: datetime
    request_id: str
    service: str
    operation: str
    account_id: str
    principal_arn: str
    source_ip: str
    user_agent: str
    decision: str
    gate: str = ""
    error_code: str = ""
    error_message: str = ""
    resource: str = ""
    action: str = ""
    request_parameters: str = ""
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class Bucket(Record):
    """An S3 bucket: names are global across accounts; the bucket policy is stored with it ("" = none)."""

    TABLE: ClassVar[str] = "s3_buckets"
    KEY: ClassVar[tuple[str, ...]] = ("name",)
    INDEXED: ClassVar[tuple[str, ...]] = ("account_id",)
    name: str
    account_id: str
    region: str
    created: datetime
    policy: str = ""
    tags: Tags = ()
    # Block Public Access settings that are on (BlockPublicPolicy, RestrictPublicBuckets, ...); None when the
    # bucket has no configuration. New buckets get all four, as S3 does since April 2023.
    public_access_block: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class S3Object(Record):
    """An object's metadata and where its bytes are: `data` in its own row (small objects, `inline`), the
    InlineBlob `blob` (small objects stored before bytes moved into the row, also `inline`), the file blob
    `blob`, or, for a completed multipart upload (`upload_id` set), the ObjectPart blobs of that upload in
    part-number order."""

    TABLE: ClassVar[str] = "s3_objects"
    KEY: ClassVar[tuple[str, ...]] = ("bucket", "key")
    BINARY: ClassVar[tuple[str, ...]] = ("data",)
    DEFERRED: ClassVar[tuple[str, ...]] = ("data",)
    WRITE_THROUGH: ClassVar[bool] = True  # an overwrite finds the object it replaces without reading it
    bucket: str
    key: str
    size: int
    etag: str
    last_modified: datetime
    blob: str = ""
    upload_id: str = ""
    parts_count: int = 0
    content_type: str = "binary/octet-stream"
    metadata: Tags = ()
    tags: Tags = ()
    headers: Tags = ()
    expires: datetime | None = None
    # ((algorithm, base64 value),): verified on a single-request upload, or a completed multipart upload's
    # (a COMPOSITE value ends in "-<parts>")
    checksum: Tags = ()
    inline: bool = False  # the bytes are in the database (`data`, or the InlineBlob `blob`), not in a file
    data: bytes | None = None  # an inline object's bytes; None from `find`, and for every other object


@dataclass(frozen=True, slots=True)
class InlineBlob(Record):
    """The bytes of a small object, kept in the database with its metadata (services/s3/storage.py): written
    in the same transaction as the object's row, so it is as atomic and as durable as the row itself.
    Immutable once named, like file blobs."""

    TABLE: ClassVar[str] = "s3_inline_blobs"
    KEY: ClassVar[tuple[str, ...]] = ("name",)
    BINARY: ClassVar[tuple[str, ...]] = ("data",)
    name: str
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class MultipartUpload(Record):
    """A multipart upload in progress (removed when completed or aborted)."""

    TABLE: ClassVar[str] = "s3_multipart_uploads"
    KEY: ClassVar[tuple[str, ...]] = ("upload_id",)
    INDEXED: ClassVar[tuple[str, ...]] = ("bucket",)
    upload_id: str
    bucket: str
    key: str
    initiated: datetime
    initiator_arn: str
    initiator_id: str
    content_type: str = "binary/octet-stream"
    metadata: Tags = ()
    tags: Tags = ()
    headers: Tags = ()
    expires: datetime | None = None
    checksum_algorithm: str = ""  # CRC32, CRC32C, CRC64NVME, SHA1 or SHA256; "" for an upload created without one
    checksum_type: str = ""  # COMPOSITE or FULL_OBJECT when `checksum_algorithm` is set


@dataclass(frozen=True, slots=True)
class ObjectPart(Record):
    """One uploaded part: of an upload in progress, or of the completed object that kept it."""

    TABLE: ClassVar[str] = "s3_object_parts"
    KEY: ClassVar[tuple[str, ...]] = ("upload_id", "part_number")
    upload_id: str
    part_number: int
    blob: str
    size: int
    etag: str
    last_modified: datetime
    checksum: Tags = ()  # ((algorithm, base64 value),): verified as the part was read, or computed from its bytes


@dataclass(frozen=True, slots=True)
class DeadBlob(Record):
    """A blob no metadata refers to any more, written in the same transaction that dropped the reference;
    its file is removed only after that transaction committed (services/s3/storage.py)."""

    TABLE: ClassVar[str] = "s3_dead_blobs"
    KEY: ClassVar[tuple[str, ...]] = ("name",)
    INDEXED: ClassVar[tuple[str, ...]] = ("minute",)
    name: str
    doomed: datetime
    minute: str = ""  # `doomed` as YYYYmmddHHMM: purges look rows up by minute, never scan the graveyard


ALL_RECORDS: tuple[type[Record], ...] = (
    Setting,
    Account,
    Organization,
    OrganizationalUnit,
    OrgPolicy,
    OrgPolicyAttachment,
    User,
    Group,
    GroupMember,
    Role,
    ManagedPolicy,
    PolicyVersion,
    InlinePolicy,
    Attachment,
    AccessKey,
    MfaDevice,
    Session,
    AuditEvent,
    Bucket,
    S3Object,
    InlineBlob,
    MultipartUpload,
    ObjectPart,
    DeadBlob,
)
