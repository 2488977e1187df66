"""Helpers for service tests: a Services composition over the memory store or a real SQLite file, with a
fixed clock, deterministic ids, and a small builder for accounts, users, groups, roles and policies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rolegate.clock import FixedClock
from rolegate.services.context import CallContext, Caller
from rolegate.services.dispatch import RequestFacts, Services
from rolegate.services.world import create_account, create_root_key
from rolegate.store.records import AccessKey, Attachment, Group, GroupMember, InlinePolicy, Role, User

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
DEV, PROD, MGMT = "111111111111", "222222222222", "999999999999"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


class World:
    """Builds state directly in the store (bypassing authorization) and calls operations as a caller."""

    def __init__(self, services: Services, clock: FixedClock) -> None:
        self.services = services
        self.clock = clock
        self._requests = 0

    def s3_context(
        self, tx: Any, caller: Caller, *, region: str, source_ip: str, user_agent: str, secure: bool
    ) -> CallContext:
        """The context of an S3 GetObject call by `caller` from the given client, for calling the authorizer."""
        services = self.services
        return CallContext(
            tx,
            caller,
            self.clock,
            services.ids,
            services.sealer,
            "req",
            "s3",
            "GetObject",
            self.clock.now(),
            region,
            source_ip,
            user_agent,
            secure,
            services.authorizer,
        )

    def account(self, account_id: str) -> Caller:
        with self.services.store.transaction() as tx:
            create_account(tx, account_id, f"acct-{account_id}", f"{account_id}@example.com", self.clock)
            key_id, _ = create_root_key(tx, self.services.sealer, self.services.ids, self.clock, account_id)
        return Caller("root", account_id, f"arn:aws:iam::{account_id}:root", account_id, key_id)

    def user(self, account: str, name: str, *policies: str, groups: tuple[str, ...] = (), path: str = "/") -> Caller:
        ids = self.services.ids
        with self.services.store.transaction() as tx:
            user = User(account, name, ids.unique_id("AIDA"), path, self.clock.now())
            tx.insert(user)
            for index, policy in enumerate(policies):
                tx.insert(InlinePolicy(account, "user", name, f"inline{index}", policy))
            for group in groups:
                if tx.get(Group, account, group) is None:
                    tx.insert(Group(account, group, ids.unique_id("AGPA"), "/", self.clock.now()))
                tx.insert(GroupMember(account, group, name))
            key_id = ids.access_key_id()
            sealed = self.services.sealer.seal("secret", f"access-key:{key_id}")
            tx.insert(AccessKey(key_id, account, name, sealed, "Active", self.clock.now()))
        return Caller("user", account, f"arn:aws:iam::{account}:user{path}{name}", user.user_id, key_id, name)

    def role(self, account: str, name: str, trust: str, *policies: str, path: str = "/", **extra: Any) -> Role:
        role = Role(account, name, self.services.ids.unique_id("AROA"), path, self.clock.now(), trust, **extra)
        with self.services.store.transaction() as tx:
            tx.insert(role)
            for index, policy in enumerate(policies):
                tx.insert(InlinePolicy(account, "role", name, f"inline{index}", policy))
        return role

    def attach(self, account: str, kind: str, owner: str, arn: str) -> None:
        with self.services.store.transaction() as tx:
            tx.insert(Attachment(account, kind, owner, arn))

    def inline(self, account: str, kind: str, owner: str, name: str, policy: str) -> None:
        with self.services.store.transaction() as tx:
            tx.put(InlinePolicy(account, kind, owner, name, policy))

    def call(self, caller: Caller, service: str, operation: str, **params: Any) -> dict[str, Any]:
        self._requests += 1
        facts = RequestFacts(f"req-{self._requests}", source_ip="203.0.113.10")
        return self.services.invoke(caller, service, operation, params, facts)

    def session_caller(self, credentials: dict[str, Any]) -> Caller:
        caller, _ = self.services.authenticate(credentials["AccessKeyId"], credentials["SessionToken"])
        return caller
