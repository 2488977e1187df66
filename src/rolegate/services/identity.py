"""From an access key id (and session token) to a Caller with its signing secret; session tokens.

A session token is the AEAD-sealed reference `{"k": <ASIA key id>, "i": <issue time>}`: it cannot be forged
or edited without the server key, and it only opens for the key it was issued with. Every failure gives
the same opaque InvalidClientTokenId, except a well-formed token past its expiry (ExpiredToken).
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime

from rolegate.errors import ExpiredToken, InvalidClientTokenId
from rolegate.services.context import Caller
from rolegate.store.interface import Transaction
from rolegate.store.records import AccessKey, Role, Session, User
from rolegate.store.secrets import Sealer, UnsealError

INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"
TOKEN_PURPOSE = "session-token"
ANONYMOUS_KIND = "anonymous"
ANONYMOUS = Caller(ANONYMOUS_KIND, "", "", "anonymous")
"""An unsigned request (S3 only): evaluated against resource policies alone, never an account's identity."""


def mint_session_token(sealer: Sealer, session: Session) -> str:
    reference = json.dumps({"k": session.access_key_id, "i": session.issued.isoformat()}, separators=(",", ":"))
    return sealer.seal(reference, TOKEN_PURPOSE)


def _token_key(sealer: Sealer, token: str) -> str:
    try:
        reference = json.loads(sealer.unseal(token, TOKEN_PURPOSE))
    except (UnsealError, ValueError) as error:
        raise InvalidClientTokenId(INVALID_TOKEN) from error
    key = reference.get("k") if isinstance(reference, dict) else None
    if not isinstance(key, str):
        raise InvalidClientTokenId(INVALID_TOKEN)
    return key


def resolve_caller(
    tx: Transaction, sealer: Sealer, access_key_id: str, session_token: str | None, now: datetime
) -> tuple[Caller, str]:
    """(Caller, secret) for a signed request; raises InvalidClientTokenId / ExpiredToken."""
    if access_key_id.startswith("ASIA"):
        return _session_caller(tx, sealer, access_key_id, session_token, now)
    key = tx.get(AccessKey, access_key_id)
    if key is None or key.status != "Active":
        raise InvalidClientTokenId(INVALID_TOKEN)
    secret = _unseal(sealer, key.sealed_secret, f"access-key:{access_key_id}")
    if not key.user_name:
        arn = f"arn:aws:iam::{key.account_id}:root"
        return Caller("root", key.account_id, arn, key.account_id, access_key_id), secret
    user = tx.get(User, key.account_id, key.user_name)
    if user is None:
        raise InvalidClientTokenId(INVALID_TOKEN)
    arn = user_arn(user)
    return Caller("user", key.account_id, arn, user.user_id, access_key_id, user.name), secret


def _session_caller(
    tx: Transaction, sealer: Sealer, access_key_id: str, token: str | None, now: datetime
) -> tuple[Caller, str]:
    if not token or not hmac.compare_digest(_token_key(sealer, token), access_key_id):
        raise InvalidClientTokenId(INVALID_TOKEN)
    session = tx.get(Session, access_key_id)
    if session is None:
        raise InvalidClientTokenId(INVALID_TOKEN)
    if now >= session.expires:
        raise ExpiredToken(EXPIRED_TOKEN)
    secret = _unseal(sealer, session.sealed_secret, f"session:{access_key_id}")
    account = session.account_id
    if session.kind == "role":
        role = tx.get(Role, account, session.role_arn.rsplit("/", 1)[-1])
        arn = f"arn:aws:sts::{account}:assumed-role/{session.role_arn.rsplit('/', 1)[-1]}/{session.session_name}"
        user_id = f"{session.role_id}:{session.session_name}"
        return Caller("role", account, arn, user_id, access_key_id, role=role, session=session), secret
    if session.kind == "federated":
        arn = f"arn:aws:sts::{account}:federated-user/{session.session_name}"
        caller = Caller(
            "federated",
            account,
            arn,
            f"{account}:{session.session_name}",
            access_key_id,
            user_name=session.user_name,
            session=session,
        )
        return caller, secret
    if session.kind == "root":
        return Caller(
            "root-session", account, f"arn:aws:iam::{account}:root", account, access_key_id, session=session
        ), secret
    user = tx.get(User, account, session.user_name)
    if user is None:
        raise InvalidClientTokenId(INVALID_TOKEN)
    return Caller(
        "user-session", account, user_arn(user), user.user_id, access_key_id, user.name, session=session
    ), secret


def _unseal(sealer: Sealer, sealed: str, purpose: str) -> str:
    try:
        return sealer.unseal(sealed, purpose)
    except UnsealError as error:
        raise InvalidClientTokenId(INVALID_TOKEN) from error


def user_arn(user: User) -> str:
    return f"arn:aws:iam::{user.account_id}:user{user.path}{user.name}"


def role_arn(role: Role) -> str:
    return f"arn:aws:iam::{role.account_id}:role{role.path}{role.name}"
