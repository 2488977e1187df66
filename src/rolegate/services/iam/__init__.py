"""IAM operations; importing this package registers them all."""

from rolegate.services.iam import (
    access_keys,
    account,
    attachments,
    groups,
    inline,
    managed,
    mfa_devices,
    roles,
    simulate,
    users,
)

__all__ = [
    "access_keys",
    "account",
    "attachments",
    "groups",
    "inline",
    "managed",
    "mfa_devices",
    "roles",
    "simulate",
    "users",
]
