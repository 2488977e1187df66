"""Typed, immutable policy documents: what the parser produces and every later stage consumes.

The shapes keep enough of the source form (scalar vs list, JSON scalar types of condition values) that
rendering a parsed document gives back the same JSON value: `render(parse(doc)) == doc`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

JsonScalar = str | bool | int | float

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"


class Effect(enum.Enum):
    ALLOW = "Allow"
    DENY = "Deny"


class PolicyKind(enum.Enum):
    """Where a document is used; decides which validation rules and size limits apply."""

    IDENTITY = "identity"
    RESOURCE = "resource"
    TRUST = "trust"
    BOUNDARY = "boundary"
    SESSION = "session"
    SCP = "scp"
    RCP = "rcp"


@dataclass(frozen=True, slots=True)
class Strings:
    """A policy element holding one string or a list of strings (`single` = written as a bare string)."""

    items: tuple[str, ...]
    single: bool = False


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """`"*"` (wildcard=True) or a map of principal type (AWS, Service, Federated, CanonicalUser) to values."""

    wildcard: bool
    entries: tuple[tuple[str, Strings], ...] = ()

    def values(self, principal_type: str) -> tuple[str, ...]:
        for name, strings in self.entries:
            if name == principal_type:
                return strings.items
        return ()


@dataclass(frozen=True, slots=True)
class ConditionClause:
    """One `Operator: {key: values}` pair; values keep their JSON scalar types for faithful rendering."""

    operator: str
    key: str
    values: tuple[JsonScalar, ...]
    single: bool = False


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    sid: str | None
    effect: Effect
    action: Strings | None = None
    not_action: Strings | None = None
    resource: Strings | None = None
    not_resource: Strings | None = None
    principal: PrincipalSpec | None = None
    not_principal: PrincipalSpec | None = None
    conditions: tuple[ConditionClause, ...] = ()
    condition_operators: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.sid if self.sid else f"Statement[{self.index}]"


@dataclass(frozen=True, slots=True)
class Policy:
    version: str | None
    policy_id: str | None
    statements: tuple[Statement, ...]
    statement_is_list: bool = True

    @property
    def variables_enabled(self) -> bool:
        return self.version == VERSION_2012
