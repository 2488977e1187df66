"""The one service-level path every call takes: look up the operation, open a transaction, authorize,
run the handler, commit (or roll back on any error), and record the call in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rolegate.clock import Clock
from rolegate.errors import AwsError, InternalFailure, InvalidAction
from rolegate.ids import Ids
from rolegate.services.audit import record_call
from rolegate.services.authorization import Authorizer
from rolegate.services.context import CallContext, Caller
from rolegate.services.identity import resolve_caller
from rolegate.services.registry import Operation, load_all, lookup
from rolegate.store.interface import Store
from rolegate.store.secrets import Sealer


@dataclass
class RequestFacts:
    request_id: str
    region: str = "us-east-1"
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    secure_transport: bool = False


@dataclass
class Services:
    """The composition of store, sealer, clock, ids and authorizer that every call runs against."""

    store: Store
    sealer: Sealer
    clock: Clock
    ids: Ids
    authorizer: Authorizer = field(default_factory=Authorizer)

    def __post_init__(self) -> None:
        load_all()

    def authenticate(self, access_key_id: str, session_token: str | None) -> tuple[Caller, str]:
        """(Caller, signing secret) for a key; raises InvalidClientTokenId / ExpiredToken."""
        with self.store.transaction() as tx:
            return resolve_caller(tx, self.sealer, access_key_id, session_token, self.clock.now())

    def invoke(
        self, caller: Caller, service: str, name: str, params: dict[str, Any], facts: RequestFacts
    ) -> dict[str, Any]:
        operation = lookup(service, name)
        if operation is None:
            raise InvalidAction(f"Could not find operation {name} for version")
        now = self.clock.now()
        error: Exception | None = None
        call: CallContext | None = None
        try:
            with self.store.transaction() as tx:
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
                )
                return self._run(operation, call, params)
        except AwsError as failure:
            error = failure
            raise
        except Exception as failure:
            error = failure
            raise InternalFailure("An internal error occurred.") from failure
        finally:
            if call is not None:
                self._audit(call, params, error)

    def _run(self, operation: Operation, call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        if operation.auth == "resource" and operation.resource is not None:
            self.authorizer.check(call, operation.iam_action, operation.resource(call, params))
        return operation.handler(call, params)

    def _audit(self, call: CallContext, params: dict[str, Any], error: Exception | None) -> None:
        event = record_call(call, params, error)
        with self.store.transaction() as tx:
            tx.put(event)
