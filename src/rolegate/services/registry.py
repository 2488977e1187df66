"""Operation table: (service, operation name) -> handler, with how the call is authorized.

Every operation is declared here through `@operation`, and the pipeline consults this table only, so no
operation can run without passing authorization: `resource=` operations are checked by the pipeline before
the handler runs with the action `<service>:<Operation>`; `auth="handler"` operations (AssumeRole and the
like, whose resource policy the handler must load) call the authorizer themselves, which a test verifies;
`auth="none"` is reserved for calls AWS never authorizes (GetCallerIdentity).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from rolegate.services.context import CallContext

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[CallContext, Params], Result]
ResourceFn = Callable[[CallContext, Params], str]


@dataclass(frozen=True, slots=True)
class Operation:
    service: str
    name: str
    handler: Handler
    auth: Literal["resource", "handler", "none"]
    resource: ResourceFn | None = None
    action: str = ""
    reads_audit: bool = False  # the handler reads the audit trail: queued events are stored first

    @property
    def iam_action(self) -> str:
        prefix = {"organizations": "organizations", "iam": "iam", "sts": "sts", "s3": "s3"}[self.service]
        return self.action or f"{prefix}:{self.name}"


REGISTRY: dict[tuple[str, str], Operation] = {}


def operation(
    service: str,
    name: str,
    *,
    resource: ResourceFn | None = None,
    auth: Literal["resource", "handler", "none"] = "resource",
    action: str = "",
    reads_audit: bool = False,
) -> Callable[[Handler], Handler]:
    """Register a handler. With the default auth="resource", `resource` computes the ARN to authorize."""

    def register(handler: Handler) -> Handler:
        if auth == "resource" and resource is None:
            raise ValueError(f"{service}:{name} needs a resource function")
        if (service, name) in REGISTRY:
            raise ValueError(f"{service}:{name} registered twice")
        REGISTRY[(service, name)] = Operation(service, name, handler, auth, resource, action, reads_audit)
        return handler

    return register


def lookup(service: str, name: str) -> Operation | None:
    return REGISTRY.get((service, name))


OPERATION_PACKAGES = (
    "rolegate.services.iam",
    "rolegate.services.sts",
    "rolegate.services.organizations",
    "rolegate.services.s3",
)


def load_all() -> None:
    """Import every operation package so the table is complete (import order does not matter)."""
    for package in OPERATION_PACKAGES:
        importlib.import_module(package)
