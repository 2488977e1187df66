"""Gather the policy slice of one call from the store, ask the engine, and turn denials into AccessDenied.

Compiled policies are cached by (id, document text), so a stored document is parsed once however often it
is used. Everything that depends on the caller alone (its policies, the engine's principal and principal
keys, its organization and session keys) is cached while the policy tables are unchanged, so a request only
adds its own keys, with the time strings formatted once per second. A request whose verdict the engine kept
(nothing left to check but its action and resource) skips even that: its keys are merged only if read. Every
decision is appended to the call, so the audit trail records it and a denial's id can be turned into the
engine's full explanation later (`rolegate explain ID`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from rolegate.errors import AccessDenied
from rolegate.policy import (
    CompiledPolicy,
    Decision,
    Gate,
    PolicySet,
    Principal,
    PrincipalKind,
    RequestContext,
    Result,
    authorize,
    compile_policy,
    parse_policy,
    principal_from_arn,
)
from rolegate.policy.context import (
    KeysOnRead,
    base_keys,
    context_from_base,
    principal_keys,
    resolve_resource_account,
    to_strings,
)
from rolegate.policy.decide import kept_verdict
from rolegate.services.context import CallContext, Caller
from rolegate.services.identity import ANONYMOUS_KIND, role_arn
from rolegate.services.organization import RCP, SCP, org_paths, policy_levels
from rolegate.services.policies import managed_document, owner_documents, user_documents
from rolegate.store.records import (
    Account,
    Attachment,
    GroupMember,
    InlinePolicy,
    ManagedPolicy,
    Organization,
    OrganizationalUnit,
    OrgPolicy,
    OrgPolicyAttachment,
    PolicyVersion,
    Role,
    Session,
    Setting,
    User,
)
from rolegate.store.tracking import TrackingStore

# (now, session, secure transport, source IP, user agent, region) of a call: see client_facts
ClientFacts = tuple[datetime, Session | None, bool, str, str, str]
CACHE_SIZE = 4096
POLICY_SETS_PER_CALLER = 16
BASES_PER_CALLER = 8  # key sets of the current second: one per resource account and client facts
POLICY_TABLES = tuple(
    kind.TABLE
    for kind in (
        InlinePolicy,
        Attachment,
        ManagedPolicy,
        PolicyVersion,
        GroupMember,
        User,
        Role,
        Account,
        Organization,
        OrganizationalUnit,
        OrgPolicy,
        OrgPolicyAttachment,
        Setting,
    )
)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
ONE_SECOND = timedelta(seconds=1)
NOT_VIA_SERVICE = ("false",)
DENY_SUFFIX = {
    Gate.SCP: "service control policy",
    Gate.RCP: "resource control policy",
    Gate.RESOURCE: "resource-based policy",
    Gate.TRUST: "resource-based policy",
    Gate.IDENTITY: "identity-based policy",
    Gate.BOUNDARY: "permissions boundary",
    Gate.SESSION: "session policy",
}


class PolicyCache:
    """(id, text) -> CompiledPolicy; stored documents were validated on the way in."""

    def __init__(self) -> None:
        self._compiled: OrderedDict[tuple[str, str], CompiledPolicy | None] = OrderedDict()

    def get(self, policy_id: str, text: str) -> CompiledPolicy | None:
        key = (policy_id, text)
        try:
            found = self._compiled[key]
        except KeyError:
            pass
        else:
            self._compiled.move_to_end(key)
            return found
        parsed = parse_policy(text)
        compiled = compile_policy(parsed.policy, policy_id) if parsed.ok and parsed.policy else None
        self._compiled[key] = compiled
        if len(self._compiled) > CACHE_SIZE:
            self._compiled.popitem(last=False)
        return compiled

    def many(self, documents: list[tuple[str, str]]) -> tuple[CompiledPolicy, ...]:
        compiled = (self.get(policy_id, text) for policy_id, text in documents)
        return tuple(c for c in compiled if c is not None)


def engine_principal(caller: Caller) -> Principal:
    if caller.kind == ANONYMOUS_KIND:
        return Principal(PrincipalKind.ANONYMOUS)
    if caller.kind == "role" and caller.role is not None:
        return principal_from_arn(caller.arn, entity_arn=role_arn(caller.role), unique_id=caller.role.role_id)
    if caller.kind == "role" and caller.session is not None:
        return principal_from_arn(caller.arn, entity_arn=caller.session.role_arn, unique_id=caller.session.role_id)
    if caller.kind == "federated":
        user = f"arn:aws:iam::{caller.account_id}:user/{caller.user_name}" if caller.user_name else ""
        return principal_from_arn(caller.arn, entity_arn=user)
    return principal_from_arn(caller.arn, unique_id=caller.user_id if caller.kind != "root" else "")


@dataclass(frozen=True, slots=True)
class CallerSlice:
    """The caller's policies and everything of the request context that depends on the caller alone."""

    caller: Caller  # the caller it was built for: a cached slice serves only an equal caller
    identity: tuple[CompiledPolicy, ...]
    boundary: CompiledPolicy | None
    session: tuple[CompiledPolicy, ...]
    scps: tuple[tuple[CompiledPolicy, ...], ...]
    management: str
    principal: Principal
    derived: dict[str, tuple[str, ...]]  # the engine's principal keys (type, ARN, ids, tags)
    caller_keys: dict[str, tuple[str, ...]]  # request keys fixed for the caller (organization, session)
    policy_sets: dict[tuple[Any, ...], PolicySet] = field(default_factory=dict, compare=False)
    # (resource account, resource policy, trust) -> the request's PolicySet
    resolved: dict[tuple[Any, ...], PolicySet] = field(default_factory=dict, compare=False)
    # (resource account, time strings, client facts) -> every condition key but the request's own
    bases: dict[tuple[Any, ...], dict[str, tuple[str, ...]]] = field(default_factory=dict, compare=False)

    def policy_set(
        self,
        resource: CompiledPolicy | None,
        trust: bool,
        rcps: tuple[tuple[CompiledPolicy, ...], ...],
        rcp_management: str,
    ) -> PolicySet:
        """The request's PolicySet, shared by the caller's requests that meet the same resource-side policies."""
        key = (resource, trust, rcps, rcp_management)
        found = self.policy_sets.get(key)
        if found is None:
            found = PolicySet(
                identity=self.identity,
                resource=resource,
                resource_gate=Gate.TRUST if trust else Gate.RESOURCE,
                boundary=self.boundary,
                session=self.session,
                scps=self.scps,
                rcps=rcps,
                management_account=self.management or rcp_management,
            )
            if len(self.policy_sets) >= POLICY_SETS_PER_CALLER:
                self.policy_sets.clear()
            self.policy_sets[key] = found
        return found


class Authorizer:
    def __init__(self) -> None:
        self.cache = PolicyCache()
        self.tracking: TrackingStore | None = None
        self._slices: dict[tuple[str, ...], tuple[tuple[int, ...], CallerSlice]] = {}
        self._levels: dict[tuple[str, str], tuple[tuple[int, ...], tuple[Any, str]]] = {}
        self._clock = SecondKeys()
        # The slice last served, with the caller object and stamp it was served for: a server's next request
        # usually comes from the same (cached) Caller, which then needs no key built or looked up.
        self._last: tuple[Caller, tuple[int, ...], CallerSlice] | None = None

    def identity_slice(self, call: CallContext) -> tuple[tuple[CompiledPolicy, ...], CompiledPolicy | None]:
        """The caller's identity policies and permissions boundary, as they are now (live edits apply)."""
        caller, tx = call.caller, call.tx
        boundary_arn = ""
        documents: list[tuple[str, str]] = []
        if caller.kind == "role" and caller.role is not None:
            documents = owner_documents(tx, caller.account_id, "role", caller.role.name)
            boundary_arn = caller.role.permissions_boundary
        elif caller.kind in ("user", "user-session", "federated") and caller.user_name:
            documents = user_documents(tx, caller.account_id, caller.user_name)
            user = tx.get(User, caller.account_id, caller.user_name)
            boundary_arn = user.permissions_boundary if user else ""
        boundary = None
        if boundary_arn:
            text = managed_document(tx, boundary_arn)
            boundary = self.cache.get(boundary_arn, text) if text else None
        return self.cache.many(documents), boundary

    def session_slice(self, call: CallContext) -> tuple[CompiledPolicy, ...]:
        session = call.caller.session
        if session is None:
            return ()
        documents = [("session-policy", session.session_policy)] if session.session_policy else []
        for arn in session.policy_arns:
            text = managed_document(call.tx, arn)
            if text is not None:
                documents.append((arn, text))
        return self.cache.many(documents)

    def org_levels(self, call: CallContext, account_id: str, policy_type: str) -> tuple[Any, str]:
        levels, management = policy_levels(call.tx, account_id, policy_type)
        return tuple(self.cache.many(level) for level in levels), management

    def check(
        self,
        call: CallContext,
        action: str,
        resource: str,
        *,
        resource_account: str = "",
        resource_policy: tuple[str, str] | None = None,
        trust: bool = False,
        keys: dict[str, Any] | None = None,
    ) -> Decision:
        """Authorize `action` on `resource` for the caller; raise AccessDenied naming the gate when denied."""
        decision = self.decide(
            call,
            action,
            resource,
            resource_account=resource_account,
            resource_policy=resource_policy,
            trust=trust,
            keys=keys,
        )
        call.decisions.append(decision)
        if decision.result is not Result.ALLOWED:
            raise AccessDenied(denial_message(call.caller, action, resource, decision), decision=decision)
        return decision

    def decide(
        self,
        call: CallContext,
        action: str,
        resource: str,
        *,
        resource_account: str = "",
        resource_policy: tuple[str, str] | None = None,
        trust: bool = False,
        keys: dict[str, Any] | None = None,
    ) -> Decision:
        """The engine's decision on `action` for the caller, without recording or raising it.

        When the engine kept the verdict of this very request (see `policy.decide.authorize`), the decision
        reads none of its condition keys: they are merged only if something reads them later (an explanation),
        so the request skips its time strings, client facts and merge."""
        caller = call.caller
        stamp = self.tracking.stamp(POLICY_TABLES) if self.tracking is not None else None
        last = self._last
        if last is not None and last[0] is caller and last[1] == stamp:
            caller_slice = last[2]
        else:
            caller_slice = self.caller_slice(call, stamp)
        target_account = resource_account or caller.account_id
        policies = caller_slice.resolved.get((target_account, resource_policy, trust))
        if policies is None:
            policies = self.resolve(call, caller_slice, target_account, resource_policy, trust, stamp)
        principal = caller_slice.principal
        account = target_account or resolve_resource_account(principal, resource, "")
        action_lower = action.lower()
        kept = kept_verdict(policies, principal, action_lower, resource, account) if policies.verdicts else None
        if kept is not None:
            base = partial(self.base, caller_slice, account, client_facts(call))
            context = RequestContext(principal, action, resource, account, KeysOnRead(base, keys), action_lower)
            return Decision(*kept, context, policies)
        every_other = self.base(caller_slice, account, client_facts(call))
        return authorize(context_from_base(principal, action, resource, account, every_other, keys), policies)

    def resolve(
        self,
        call: CallContext,
        caller_slice: CallerSlice,
        target_account: str,
        resource_policy: tuple[str, str] | None,
        trust: bool,
        stamp: tuple[int, ...] | None,
    ) -> PolicySet:
        """The request's PolicySet, kept with the caller's slice per resource account and resource policy."""
        rcps, rcp_management = self.cached_org_levels(call, target_account, RCP, stamp)
        compiled_resource = None
        if resource_policy is not None:
            compiled_resource = self.cache.get(resource_policy[0], resource_policy[1])
        policies = caller_slice.policy_set(compiled_resource, trust, rcps, rcp_management)
        resolved = caller_slice.resolved
        if len(resolved) >= POLICY_SETS_PER_CALLER:
            resolved.clear()
        resolved[(target_account, resource_policy, trust)] = policies
        return policies

    def base(self, caller_slice: CallerSlice, account: str, client: ClientFacts) -> dict[str, tuple[str, ...]]:
        """Every condition key of the request but its own `keys`, as the engine's `base_keys`: the caller's keys
        merged with the request keys of conditions.md §3. That merge is kept for the caller's further requests
        in the same second from the same client, so a request only copies it and adds its own keys."""
        now, session, secure, source_ip, user_agent, region = client
        current_time, epoch_time = self._clock.keys(now)
        mfa_age = None
        if session is not None and session.mfa_authenticated and session.mfa_time is not None:
            mfa_age = str(int((now - session.mfa_time).total_seconds()))
        # type(secure): True and 1 are equal keys but become different strings
        facts = (account, current_time, epoch_time, mfa_age, type(secure), secure, source_ip, user_agent, region)
        bases = caller_slice.bases
        found = bases.get(facts)
        if found is None:
            prepared = request_keys(caller_slice, client, current_time, epoch_time, mfa_age)
            found = base_keys(account, caller_slice.derived, prepared)
            if len(bases) >= BASES_PER_CALLER:
                bases.clear()
            bases[facts] = found
        return found

    def caller_slice(self, call: CallContext, stamp: tuple[int, ...] | None) -> CallerSlice:
        """Everything about the caller the engine needs, cached while the policy tables are unchanged."""
        caller = call.caller
        key = (
            caller.kind,
            caller.account_id,
            caller.user_name,
            caller.role.name if caller.role else "",
            caller.access_key_id if caller.session else "",
        )
        cached = self._slices.get(key)
        if stamp is not None and cached is not None and cached[0] == stamp:
            made = cached[1]
            if made.caller is caller or made.caller == caller:
                self._last = (caller, stamp, made)
                return made
        made = self.build_slice(call)
        if stamp is not None:
            if len(self._slices) >= CACHE_SIZE:
                self._slices.clear()
            self._slices[key] = (stamp, made)
            self._last = (caller, stamp, made)
        return made

    def build_slice(self, call: CallContext) -> CallerSlice:
        caller = call.caller
        identity, boundary = self.identity_slice(call)
        scps, management = self.org_levels(call, caller.account_id, SCP)
        principal = engine_principal(caller)
        return CallerSlice(
            caller,
            identity,
            boundary,
            self.session_slice(call),
            scps,
            management,
            principal,
            principal_keys(principal, principal_tags(call)),
            normalised(caller_request_keys(caller, org_paths(call.tx, caller.account_id))),
        )

    def cached_org_levels(
        self, call: CallContext, account_id: str, policy_type: str, stamp: tuple[int, ...] | None
    ) -> tuple[Any, str]:
        key = (account_id, policy_type)
        cached = self._levels.get(key)
        if stamp is not None and cached is not None and cached[0] == stamp:
            return cached[1]
        made = self.org_levels(call, account_id, policy_type)
        if stamp is not None:
            if len(self._levels) >= CACHE_SIZE:
                self._levels.clear()
            self._levels[key] = (stamp, made)
        return made


class SecondKeys:
    """aws:CurrentTime and aws:EpochTime, formatted once per second rather than once per request.

    Only UTC instants from 1970 to 2106 are cached: there the epoch second fixes both strings exactly (the
    clock is UTC; other instants are formatted each time). A request of the same second is recognised by
    comparing its instant with the second's bounds, cheaper than computing its timestamp."""

    def __init__(self) -> None:
        self._last: tuple[datetime, datetime, tuple[str], tuple[str]] | None = None

    def keys(self, now: datetime) -> tuple[tuple[str], tuple[str]]:
        last = self._last
        if last is not None and now.tzinfo is UTC and last[0] <= now < last[1]:
            return last[2], last[3]
        seconds = now.timestamp()
        epoch = int(seconds)
        made = (now.strftime(TIME_FORMAT),), (str(epoch),)
        if now.tzinfo is UTC and 0 <= seconds < 2**32:  # int() is the floor, and exact, only there
            start = now.replace(microsecond=0)
            self._last = (start, start + ONE_SECOND, *made)
        return made


def client_facts(call: CallContext) -> ClientFacts:
    """What the request keys of conditions.md §3 are made of, besides the caller, read when the call is decided
    (a decision's keys may be merged later)."""
    return (call.now, call.caller.session, call.secure_transport, call.source_ip, call.user_agent, call.region)


def request_keys(
    caller_slice: CallerSlice,
    client: ClientFacts,
    current_time: tuple[str],
    epoch_time: tuple[str],
    mfa_age: str | None,
) -> dict[str, tuple[str, ...]]:
    """The global condition keys of conditions.md §3 that this request carries, normalised for the engine."""
    _, _, secure, source_ip, user_agent, region = client
    keys = {
        "aws:currenttime": current_time,
        "aws:epochtime": epoch_time,
        "aws:securetransport": to_strings(secure),
        "aws:sourceip": to_strings(source_ip),
        "aws:useragent": to_strings(user_agent),
        "aws:requestedregion": to_strings(region),
        "aws:viaawsservice": NOT_VIA_SERVICE,
    }
    keys.update(caller_slice.caller_keys)
    if mfa_age is not None:
        keys["aws:multifactorauthage"] = (mfa_age,)
    return keys


def principal_tags(call: CallContext) -> dict[str, str]:
    """Role or user tags, overridden case-insensitively by session tags."""
    caller = call.caller
    tags: dict[str, str] = {}
    if caller.kind == "role" and caller.role is not None:
        tags = dict(caller.role.tags)
    elif caller.kind in ("user", "user-session") and caller.user_name:
        user = call.tx.get(User, caller.account_id, caller.user_name)
        tags = dict(user.tags) if user else {}
    if caller.session is not None:
        override = {k.lower() for k, _ in caller.session.tags}
        tags = {k: v for k, v in tags.items() if k.lower() not in override} | dict(caller.session.tags)
    return tags


def caller_request_keys(caller: Caller, paths: tuple[str, str] | None) -> dict[str, Any]:
    """The global condition keys that depend on the caller alone: its organization and its session."""
    keys: dict[str, Any] = {}
    if paths is not None:
        keys["aws:PrincipalOrgID"], keys["aws:PrincipalOrgPaths"] = paths[0], [paths[1]]
    session = caller.session
    if session is not None:
        keys["aws:TokenIssueTime"] = session.issued.strftime(TIME_FORMAT)
        keys["aws:MultiFactorAuthPresent"] = session.mfa_authenticated
        if session.source_identity:
            keys["aws:SourceIdentity"] = session.source_identity
    return keys


def normalised(keys: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Condition keys as the engine stores them: lower-case names, tuples of strings."""
    return {name.lower(): to_strings(value) for name, value in keys.items()}


def denial_message(caller: Caller, action: str, resource: str, decision: Decision) -> str:
    """AWS's AccessDenied wording, naming the gate (evaluation.md §7)."""
    base = f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}"
    if decision.reason == "root_cannot_assume_role":
        return "Roles may not be assumed by root accounts."
    if decision.gate is Gate.TRUST and decision.result is Result.IMPLICIT_DENY:
        return base
    kind = DENY_SUFFIX.get(decision.gate, "identity-based policy")
    if decision.result is Result.EXPLICIT_DENY:
        article = "an" if kind[0] in "aeiou" else "a"
        return f"{base} with an explicit deny in {article} {kind}"
    return f"{base} because no {kind} allows the {action} action"
