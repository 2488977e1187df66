"""Who is calling and the per-call environment every operation handler receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rolegate.clock import Clock
from rolegate.ids import Ids
from rolegate.store.interface import Transaction
from rolegate.store.records import Role, Session
from rolegate.store.secrets import Sealer


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated principal.

    kind: "root", "user", "role" (AssumeRole* session), "federated" (GetFederationToken session),
    "user-session" / "root-session" (GetSessionToken credentials of a user / the root user),
    "anonymous" (unsigned, where a service allows it).
    """

    kind: str
    account_id: str
    arn: str
    user_id: str
    access_key_id: str = ""
    user_name: str = ""
    role: Role | None = None
    session: Session | None = None

    @property
    def is_temporary(self) -> bool:
        return self.session is not None

    @property
    def is_root(self) -> bool:
        return self.kind in ("root", "root-session")


@dataclass(slots=True)
class CallContext:
    """Everything a handler may use: the open transaction, the caller, time, ids, the sealer, request facts."""

    tx: Transaction
    caller: Caller
    clock: Clock
    ids: Ids
    sealer: Sealer
    request_id: str
    service: str
    operation: str
    now: datetime
    region: str = "us-east-1"
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    secure_transport: bool = False
    authorizer: Any = None
    decisions: list[Any] = field(default_factory=list)
    blobs: Any = None
