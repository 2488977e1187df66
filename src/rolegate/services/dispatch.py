"""The one service-level path every call takes: look up the operation, open a transaction, authorize,
run the handler, commit (or roll back on any error), and record the call in the audit trail through the
audit writer, which stores events in batches (audit_writer.py): inserting a write's event in the call's own
transaction instead cost a PutObject about 100 µs more, in index pages and log frames that a batch shares.
Denials are stored at once, so their explanation can be looked up by the id they carry.

Authentication results are cached per (key, token) and stay valid while the tables they were read from
are unchanged (see store/tracking.py), so a deactivated key or a deleted user is refused on the next
request; session expiry is re-checked on every request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rolegate.clock import Clock
from rolegate.errors import AwsError, ExpiredToken, InternalFailure, InvalidAction
from rolegate.ids import Ids
from rolegate.services.audit import record_call
from rolegate.services.audit_writer import AuditWriter
from rolegate.services.authorization import Authorizer
from rolegate.services.context import CallContext, Caller
from rolegate.services.identity import EXPIRED_TOKEN, resolve_caller
from rolegate.services.lazy_transaction import LazyTransaction
from rolegate.services.read_cache import ReadCache
from rolegate.services.registry import Operation, load_all, lookup
from rolegate.store.interface import Store
from rolegate.store.records import AccessKey, Role, Session, User
from rolegate.store.secrets import Sealer
from rolegate.store.tracking import TrackingStore

# What a caller's resolution reads: long-term keys do not depend on the sessions table, which every
# AssumeRole writes, so issuing sessions does not evict the cached callers of access keys.
KEY_TABLES = (AccessKey.TABLE, User.TABLE)
SESSION_TABLES = (Session.TABLE, Role.TABLE, User.TABLE)
AUTH_CACHE_SIZE = 4096
READ_PREFIXES = ("Get", "List", "Describe", "Simulate", "Head")
WRITING_READS = frozenset({"GetSessionToken", "GetFederationToken"})


@dataclass
class RequestFacts:
    request_id: str
    region: str = "us-east-1"
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    secure_transport: bool = False


def is_read_only(name: str) -> bool:
    return name.startswith(READ_PREFIXES) and name not in WRITING_READS


@dataclass
class Services:
    """The composition of store, sealer, clock, ids and authorizer that every call runs against."""

    store: Store
    sealer: Sealer
    clock: Clock
    ids: Ids
    authorizer: Authorizer = field(default_factory=Authorizer)
    background_audit: bool = False
    blobs: Any = None  # the object-bytes store S3 handlers stream to and from (store/blobs.py)

    def __post_init__(self) -> None:
        load_all()
        self.tracking = self.store if isinstance(self.store, TrackingStore) else TrackingStore(self.store)
        self.store = self.tracking
        self.authorizer.tracking = self.tracking
        self.audit = AuditWriter(self.tracking, self.background_audit)
        self.read_cache = ReadCache(self.tracking)
        self._auth_cache: dict[tuple[str, str | None], tuple[tuple[int, ...], Caller, str]] = {}

    def authenticate(self, access_key_id: str, session_token: str | None) -> tuple[Caller, str]:
        """(Caller, signing secret) for a key; raises InvalidClientTokenId / ExpiredToken."""
        now = self.clock.now()
        stamp = self.tracking.stamp(SESSION_TABLES if access_key_id.startswith("ASIA") else KEY_TABLES)
        cached = self._auth_cache.get((access_key_id, session_token))
        if cached is not None and cached[0] == stamp:
            _, caller, secret = cached
            if caller.session is not None and now >= caller.session.expires:
                raise ExpiredToken(EXPIRED_TOKEN)
            return caller, secret
        with self.store.transaction(write=False) as tx:
            caller, secret = resolve_caller(tx, self.sealer, access_key_id, session_token, now)
        if len(self._auth_cache) >= AUTH_CACHE_SIZE:
            self._auth_cache.clear()
        self._auth_cache[(access_key_id, session_token)] = (stamp, caller, secret)
        return caller, secret

    def invoke(
        self, caller: Caller, service: str, name: str, params: dict[str, Any], facts: RequestFacts
    ) -> dict[str, Any]:
        operation = lookup(service, name)
        if operation is None:
            raise InvalidAction(f"Could not find operation {name} for version")
        if operation.reads_audit:
            self.audit.flush()
        now = self.clock.now()
        error: Exception | None = None
        call: CallContext | None = None
        try:
            with LazyTransaction(self.store, write=not is_read_only(name), cache=self.read_cache) as tx:
                call = CallContext(
                    tx,
                    caller,
                    self.clock,
                    self.ids,
                    self.sealer,
                    facts.request_id,
                    service,
                    name,
                    now,
                    facts.region,
                    facts.source_ip,
                    facts.user_agent,
                    facts.secure_transport,
                    self.authorizer,
                    blobs=self.blobs,
                )
                return self._run(operation, call, params)
        except AwsError as failure:
            error = failure
            raise
        except Exception as failure:
            error = failure
            raise InternalFailure("An internal error occurred.") from failure
        finally:
            if call is not None:  # a denial is stored before the answer leaves, so its id can be explained
                self.audit.record(record_call(call, params, error))

    def _run(self, operation: Operation, call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        if operation.auth == "resource" and operation.resource is not None:
            self.authorizer.check(call, operation.iam_action, operation.resource(call, params))
        return operation.handler(call, params)
