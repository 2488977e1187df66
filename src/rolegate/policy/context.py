"""The request as the engine sees it: who calls, the action, the resource, and the condition keys.

Condition-key names are case-insensitive, so keys are stored lower-cased; every value is a tuple of strings
(a multivalued key has several). `build_context` derives the principal keys of conditions.md §4 unless the
caller already supplied them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

ContextValue = str | bool | int | float | list[str | bool | int | float] | tuple[str, ...]


class PrincipalKind(enum.Enum):
    USER = "User"
    ROLE_SESSION = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    ROOT = "Account"
    SERVICE = "Service"
    WEB_IDENTITY = "WebIdentity"
    ANONYMOUS = "Anonymous"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller. `entity_arn` is the role ARN (with path) of a role session or the user who federated."""

    kind: PrincipalKind
    arn: str = ""
    account: str = ""
    entity_arn: str = ""
    unique_id: str = ""
    service: str = ""
    provider: str = ""
    name: str = ""
    canonical_id: str = ""

    @property
    def account_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:root" if self.account else ""

    @property
    def is_session(self) -> bool:
        return self.kind in (PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER)


def principal_from_arn(arn: str, *, entity_arn: str = "", unique_id: str = "") -> Principal:
    """Classify an IAM/STS caller ARN; an unrecognised ARN is treated as a user-like identity."""
    parts = arn.split(":", 5)
    account = parts[4] if len(parts) == 6 else ""
    resource = parts[5] if len(parts) == 6 else ""
    if resource == "root":
        return Principal(PrincipalKind.ROOT, arn, account, unique_id=unique_id)
    if resource.startswith("assumed-role/"):
        pieces = resource.split("/")
        role_name = pieces[1] if len(pieces) > 2 else ""
        role_arn = entity_arn or f"arn:aws:iam::{account}:role/{role_name}"
        return Principal(PrincipalKind.ROLE_SESSION, arn, account, role_arn, unique_id, name=pieces[-1])
    if resource.startswith("federated-user/"):
        name = resource.split("/", 1)[1]
        return Principal(PrincipalKind.FEDERATED_USER, arn, account, entity_arn, unique_id, name=name)
    name = resource.rsplit("/", 1)[-1]
    return Principal(PrincipalKind.USER, arn, account, arn, unique_id, name=name)


@dataclass(frozen=True, slots=True, init=False)
class RequestContext:
    """One request. A context is made for every decision, so `__init__` stores the fields through the slots'
    own setters rather than the frozen dataclass's object.__setattr__ per field (the same object results)."""

    principal: Principal
    action: str
    resource: str
    resource_account: str
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    action_lower: str = ""

    def __init__(
        self,
        principal: Principal,
        action: str,
        resource: str,
        resource_account: str,
        keys: Mapping[str, tuple[str, ...]] | None = None,
        action_lower: str = "",
    ) -> None:
        set_principal, set_action, set_resource, set_account, set_keys, set_lower = _CTX_SETTERS
        set_principal(self, principal)
        set_action(self, action)
        set_resource(self, resource)
        set_account(self, resource_account)
        set_keys(self, {} if keys is None else keys)
        set_lower(self, action_lower)

    def get(self, key: str) -> tuple[str, ...] | None:
        return self.keys.get(key.lower())

    @property
    def cross_account(self) -> bool:
        principal_account = self.principal.account
        return bool(principal_account and self.resource_account and principal_account != self.resource_account)


def to_strings(value: ContextValue) -> tuple[str, ...]:
    if type(value) is str:  # the common case, without the generic conversion
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(_scalar(v) for v in value)
    return (_scalar(value),)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def principal_keys(principal: Principal, tags: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """The derived keys that depend on the caller alone, so a server can build them once per caller."""
    keys: dict[str, tuple[str, ...]] = {}
    kind = principal.kind
    if kind is PrincipalKind.ANONYMOUS:
        keys["aws:principaltype"] = ("Anonymous",)
        keys["aws:principalaccount"] = ("anonymous",)
        keys["aws:userid"] = ("anonymous",)
    elif kind is PrincipalKind.SERVICE:
        keys["aws:principalisawsservice"] = ("true",)
        keys["aws:principalservicename"] = (principal.service,)
    elif kind is not PrincipalKind.WEB_IDENTITY:
        keys["aws:principaltype"] = (kind.value,)
        keys["aws:principalaccount"] = (principal.account,)
        keys["aws:principalisawsservice"] = ("false",)
        if kind is PrincipalKind.ROLE_SESSION:
            keys["aws:principalarn"] = (principal.entity_arn,)
        else:
            keys["aws:principalarn"] = (principal.arn,)
        userid = _userid(principal)
        if userid:
            keys["aws:userid"] = (userid,)
        if kind is PrincipalKind.USER:
            keys["aws:username"] = (principal.name,)
    for tag_key, tag_value in tags.items():
        keys[f"aws:principaltag/{tag_key.lower()}"] = (tag_value,)
    return keys


def _userid(principal: Principal) -> str:
    if principal.kind is PrincipalKind.ROOT:
        return principal.account
    if principal.kind is PrincipalKind.FEDERATED_USER:
        return f"{principal.account}:{principal.name}"
    if principal.kind is PrincipalKind.ROLE_SESSION:
        return f"{principal.unique_id}:{principal.name}" if principal.unique_id else ""
    return principal.unique_id


def build_context(
    principal: Principal,
    action: str,
    resource: str,
    *,
    resource_account: str = "",
    keys: Mapping[str, ContextValue] | None = None,
    tags: Mapping[str, str] | None = None,
    derived: Mapping[str, tuple[str, ...]] | None = None,
    prepared: Mapping[str, tuple[str, ...]] | None = None,
) -> RequestContext:
    """Assemble a request; explicit `keys` win over derived ones (the caller may know better).

    A server that decides many requests for one caller passes prebuilt pieces instead of recomputing them:
    `derived` is `principal_keys(principal, tags)` (then `tags` is not read), and `prepared` holds keys that
    are already normalised (lower-case names, string tuples); they apply before `keys`. A server that sees
    the same pieces again can keep `base_keys` of them and call `context_from_base` instead.
    """
    resource_account = resolve_resource_account(principal, resource, resource_account)
    if derived is None:
        derived = principal_keys(principal, tags or {})
    return context_from_base(
        principal, action, resource, resource_account, base_keys(resource_account, derived, prepared), keys
    )


def resolve_resource_account(principal: Principal, resource: str, resource_account: str) -> str:
    """The resource's account: as given, else the ARN's account field, else the caller's account."""
    if resource_account:
        return resource_account
    parts = resource.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4] else principal.account


def base_keys(
    resource_account: str,
    derived: Mapping[str, tuple[str, ...]],
    prepared: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, tuple[str, ...]]:
    """Every key of a context but the request's own `keys`: the derived keys, the (resolved) resource account,
    then the prepared keys. The pieces are copied, never changed."""
    merged = dict(derived)
    if resource_account:
        merged["aws:resourceaccount"] = (resource_account,)
    if prepared:
        merged.update(prepared)
    return merged


def context_from_base(
    principal: Principal,
    action: str,
    resource: str,
    resource_account: str,
    base: Mapping[str, tuple[str, ...]],
    keys: Mapping[str, ContextValue] | None = None,
) -> RequestContext:
    """The context `build_context` makes, from `base_keys` of its pieces and the resolved resource account;
    `base` is copied, so a server may share it between requests."""
    return RequestContext(principal, action, resource, resource_account, merge_keys(base, keys), action.lower())


def merge_keys(
    base: Mapping[str, tuple[str, ...]], keys: Mapping[str, ContextValue] | None
) -> dict[str, tuple[str, ...]]:
    """A copy of `base` with the request's own `keys` normalised over it."""
    merged = dict(base)
    if keys:
        for name, value in keys.items():
            merged[name.lower()] = (value,) if type(value) is str else to_strings(value)  # to_strings, inlined
    return merged


class KeysOnRead(Mapping[str, tuple[str, ...]]):
    """Condition keys merged when first read: `merge_keys(base(), keys)`, exactly what `context_from_base` would
    hold. A server that knows a decision will not read them (`decide.kept_verdict`) defers the work of its
    per-request keys to the rare reader, such as an explanation. `keys` is copied at once; `base()` must give
    the same keys whenever it is called."""

    __slots__ = ("_base", "_keys", "_merged")

    def __init__(
        self, base: Callable[[], Mapping[str, tuple[str, ...]]], keys: Mapping[str, ContextValue] | None
    ) -> None:
        self._base = base
        self._keys = dict(keys) if keys else None
        self._merged: dict[str, tuple[str, ...]] | None = None

    def merged(self) -> dict[str, tuple[str, ...]]:
        found = self._merged
        if found is None:
            found = self._merged = merge_keys(self._base(), self._keys)
        return found

    def __getitem__(self, key: str) -> tuple[str, ...]:
        return self.merged()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.merged())

    def __len__(self) -> int:
        return len(self.merged())

    def __repr__(self) -> str:
        return repr(self.merged())


_Setter = Callable[[object, Any], None]


def _slot_setters(cls: type, names: str) -> tuple[_Setter, ...]:
    """The slot descriptors' setters of a frozen dataclass, checked against its fields at import (so a field
    added later cannot be left unset): storing through them is cheaper than the frozen dataclass's
    object.__setattr__ per field, and yields the same object. (sigv4 has the same five lines: the engine
    imports nothing outside the standard library, and sigv4 may not import the engine.)"""
    declared = " ".join(item.name for item in fields(cls))
    if names != declared:
        raise TypeError(f"{cls.__name__} declares {declared!r}, not {names!r}")
    return tuple(vars(cls)[name].__set__ for name in names.split())


_CTX_SETTERS = _slot_setters(RequestContext, "principal action resource resource_account keys action_lower")
