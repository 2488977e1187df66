"""Creating accounts and their root keys, and first-start bootstrap of the management account."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.clock import Clock
from rolegate.ids import Ids
from rolegate.store.interface import Store, Transaction
from rolegate.store.records import AccessKey, Account, Setting
from rolegate.store.secrets import Sealer

MANAGEMENT_SETTING = "management_account"


@dataclass(frozen=True, slots=True)
class RootKey:
    account_id: str
    access_key_id: str
    secret_access_key: str
    created: bool


def create_account(
    tx: Transaction, account_id: str, name: str, email: str, clock: Clock, parent_id: str = ""
) -> Account:
    account = Account(account_id, name, email, parent_id=parent_id, joined_at=clock.now())
    tx.insert(account)
    return account


def create_root_key(
    tx: Transaction, sealer: Sealer, ids: Ids, clock: Clock, account_id: str, key_id: str = "", secret: str = ""
) -> tuple[str, str]:
    key_id = key_id or ids.access_key_id()
    secret = secret or ids.secret_access_key()
    sealed = sealer.seal(secret, f"access-key:{key_id}")
    tx.insert(AccessKey(key_id, account_id, "", sealed, "Active", clock.now()))
    return key_id, secret


def bootstrap(store: Store, sealer: Sealer, ids: Ids, clock: Clock, key_id: str = "", secret: str = "") -> RootKey:
    """Create the management account and its root key on first start; later starts reuse them.

    A fixed key (from the environment) is installed if missing, so scripts can rely on it."""
    with store.transaction() as tx:
        setting = tx.get(Setting, MANAGEMENT_SETTING)
        if setting is not None:
            account_id = setting.value
            if key_id and tx.get(AccessKey, key_id) is None:
                create_root_key(tx, sealer, ids, clock, account_id, key_id, secret)
                return RootKey(account_id, key_id, secret, True)
            return RootKey(account_id, key_id, secret, False)
        account_id = ids.account_id()
        create_account(tx, account_id, "management", f"management+{account_id}@example.com", clock)
        tx.insert(Setting(MANAGEMENT_SETTING, account_id))
        key_id, secret = create_root_key(tx, sealer, ids, clock, account_id, key_id, secret)
        return RootKey(account_id, key_id, secret, True)
