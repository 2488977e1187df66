"""The client core: obtain the plan's credentials hop by hop, reuse cached sessions inside their refresh
windows, and keep a session fresh for long-running consumers (`RefreshingSource`).

Time comes from an injected `now`, so tests move the client's clock while the server keeps real time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from botocore.credentials import ReadOnlyCredentials  # type: ignore[import-untyped]  # botocore ships no type hints
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from rolegate.client.cache import SessionCache, cache_key
from rolegate.client.config import DEFAULT_REGION, Profiles, chain_note
from rolegate.client.errors import AssumeError, ClientProblem, UsageError
from rolegate.client.failures import translate
from rolegate.client.model import CHAINED_SESSION_LIMIT, Hop, Plan, RoleSession, utc_now
from rolegate.client.options import check_token_code
from rolegate.client.sources import source_credentials
from rolegate.client.sts import StsCaller, botocore_session, is_role_session, session_name_for
from rolegate.client.windows import Freshness, freshness

Prompt = Callable[[str], str]  # MFA serial -> the code the user typed
Notify = Callable[[str], None]  # one line for stderr; never given a secret


def _quiet(_line: str) -> None:
    return None


@dataclass
class Assumer:
    """Obtains the credentials of one plan; `get` is cache-aware, `fetch` always calls STS."""

    plan: Plan
    profiles: Profiles
    now: Callable[[], datetime] = utc_now
    cache: SessionCache | None = None
    mfa_token: str | None = None
    prompt: Prompt | None = None
    notify: Notify = _quiet

    def get(self, refresh: bool = False) -> tuple[RoleSession, bool]:
        """The session and whether it came from the cache: a fresh cached one is reused; inside the advisory
        window a renewal is tried and the cached one kept if it fails; inside the mandatory window it is renewed."""
        source = source_credentials(self.plan.source, self.profiles)
        key = self._key(source)
        cached = self.cache.load(key) if self.cache is not None and not refresh else None
        state = freshness(cached, self.now()) if cached is not None else Freshness.MANDATORY
        if cached is not None and state is Freshness.FRESH:
            return cached, True
        try:
            session = self._assume(source)
        except ClientProblem as problem:
            if cached is None or state is not Freshness.ADVISORY:
                raise
            self.notify(f"could not renew the cached credentials yet, still using them: {problem.message}")
            return cached, True
        self._store(key, session)
        return session, False

    def fetch(self) -> RoleSession:
        """Fresh credentials from STS (and into the cache)."""
        source = source_credentials(self.plan.source, self.profiles)
        session = self._assume(source)
        self._store(self._key(source), session)
        return session

    def _key(self, source: ReadOnlyCredentials) -> str:
        plan = self.plan
        return cache_key(
            {
                "v": 1,
                "source": [plan.source.kind, plan.source.profile, source.access_key],
                "profile": plan.profile,
                "hops": [hop.identity() for hop in plan.hops],
                "endpoint": plan.endpoint_url.value,
            }
        )

    def _store(self, key: str, session: RoleSession) -> None:
        if self.cache is not None:
            try:
                self.cache.store(key, session)
            except OSError as error:
                self.notify(f"could not write the credential cache: {error.strerror}")

    def _assume(self, source: ReadOnlyCredentials) -> RoleSession:
        plan = self.plan
        session = botocore_session(_settings_profile(plan), self.profiles)
        region, endpoint = plan.region.value or DEFAULT_REGION, plan.endpoint_url.value
        try:
            caller = StsCaller(session, source, region, endpoint)
        except ValueError as error:  # botocore: an invalid endpoint URL or region name
            raise UsageError(str(error)) from None
        try:
            caller_arn = caller.caller_arn()
        except (ClientError, BotoCoreError) as error:
            raise translate(error, plan.hops[0], source, endpoint) from None
        default_name = session_name_for(caller_arn)
        tokens = _TokenSource(self.mfa_token, self.prompt)
        result: RoleSession | None = None
        hops = list(plan.hops)
        if is_role_session(caller_arn):
            hops[0] = self._capped(hops[0])
        for index, hop in enumerate(hops):
            try:
                response = caller.assume_role(hop.params(default_name, tokens.code_for(hop)))
            except (ClientError, BotoCoreError) as error:
                raise translate(error, hop, caller.credentials, endpoint) from None
            result = _role_session(response, hop, self.now())
            if index + 1 < len(hops):
                caller = StsCaller(session, _frozen(result), region, endpoint)
        if result is None:  # a plan always has a hop; kept for the type checker
            raise AssumeError("nothing to assume")
        return result

    def _capped(self, hop: Hop) -> Hop:
        """The source is itself a role session: AssumeRole is role chaining, limited to one hour."""
        if hop.duration is None or hop.duration <= CHAINED_SESSION_LIMIT:
            return hop
        self.notify(chain_note(hop, hop.duration))
        return replace(hop, duration=CHAINED_SESSION_LIMIT)


class _TokenSource:
    """--mfa-token serves the first hop that needs MFA; any further one is prompted for (codes are single use)."""

    def __init__(self, given: str | None, prompt: Prompt | None) -> None:
        self._given = given
        self._prompt = prompt

    def code_for(self, hop: Hop) -> str | None:
        if not hop.mfa_serial:
            return None
        if self._given is not None:
            code, self._given = self._given, None
            return check_token_code(code)
        if self._prompt is None:
            raise AssumeError(f"an MFA code is needed for {hop.mfa_serial}", hint="pass --mfa-token CODE")
        return check_token_code(self._prompt(hop.mfa_serial))


def _settings_profile(plan: Plan) -> str | None:
    return plan.profile or plan.source.profile


def _role_session(response: Mapping[str, Any], hop: Hop, now: datetime) -> RoleSession:
    credentials = response["Credentials"]
    user = response.get("AssumedRoleUser", {})
    expiration: datetime = credentials["Expiration"]
    size = response.get("PackedPolicySize")
    return RoleSession(
        access_key_id=credentials["AccessKeyId"],
        secret_access_key=credentials["SecretAccessKey"],
        session_token=credentials["SessionToken"],
        expiration=expiration.astimezone(UTC),
        issued_at=now.replace(microsecond=0),  # as precise as the cache keeps it
        role_arn=hop.role_arn,
        assumed_role_arn=str(user.get("Arn", "")),
        assumed_role_id=str(user.get("AssumedRoleId", "")),
        source_identity=response.get("SourceIdentity"),
        packed_policy_size=int(size) if size is not None else None,
    )


def _frozen(session: RoleSession) -> ReadOnlyCredentials:
    return ReadOnlyCredentials(session.access_key_id, session.secret_access_key, session.session_token)


class RefreshingSource:
    """One session kept fresh for a long-running consumer (the --exec credential server): renewed inside the
    advisory window when possible, and always before the mandatory window."""

    def __init__(self, assumer: Assumer, initial: RoleSession) -> None:
        self._assumer = assumer
        self._session = initial
        self._lock = threading.Lock()

    @property
    def now(self) -> Callable[[], datetime]:
        return self._assumer.now

    def peek(self) -> RoleSession:
        return self._session

    def current(self) -> RoleSession:
        with self._lock:
            state = freshness(self._session, self._assumer.now())
            if state is Freshness.FRESH:
                return self._session
            try:
                self._session = self._assumer.fetch()
            except ClientProblem as problem:
                if state is Freshness.MANDATORY:
                    raise
                self._assumer.notify(f"could not renew the credentials yet, still serving them: {problem.message}")
            return self._session
