"""Organizations facts the shared record types have no field for, kept as namespaced Setting rows.

Three kinds, each a JSON value under `organizations/<kind>/<id>`: which organization owns a customer policy
(OrgPolicy has no organization field, and two organizations may live in one rolegate), create-account
requests (for DescribeCreateAccountStatus), and tags of roots, OUs, accounts and policies. Keeping them in
Setting rows means both stores persist them with no schema change.
"""

from __future__ import annotations

import json
from typing import Any

from rolegate.store.interface import Transaction
from rolegate.store.records import Setting, Tags

PREFIX = "organizations"
POLICY_OWNER = "policy-owner"
CREATE_ACCOUNT = "create-account"
TAGS = "tags"


def _name(kind: str, key: str) -> str:
    return f"{PREFIX}/{kind}/{key}"


def put(tx: Transaction, kind: str, key: str, value: Any) -> None:
    tx.put(Setting(_name(kind, key), json.dumps(value, separators=(",", ":"), sort_keys=True)))


def get(tx: Transaction, kind: str, key: str) -> Any:
    row = tx.get(Setting, _name(kind, key))
    return None if row is None else json.loads(row.value)


def drop(tx: Transaction, kind: str, key: str) -> None:
    tx.delete(Setting, _name(kind, key))


def all_of(tx: Transaction, kind: str) -> list[tuple[str, Any]]:
    """(key, value) of every row of a kind, in key order."""
    start = _name(kind, "")
    return [(row.name[len(start) :], json.loads(row.value)) for row in tx.find(Setting) if row.name.startswith(start)]


def policy_owner(tx: Transaction, policy_id: str) -> str:
    owner = get(tx, POLICY_OWNER, policy_id)
    return owner if isinstance(owner, str) else ""


def tags_of(tx: Transaction, resource_id: str) -> Tags:
    stored = get(tx, TAGS, resource_id) or []
    return tuple((str(k), str(v)) for k, v in stored)


def set_tags(tx: Transaction, resource_id: str, tags: Tags) -> None:
    if tags:
        put(tx, TAGS, resource_id, [list(pair) for pair in tags])
    else:
        drop(tx, TAGS, resource_id)
