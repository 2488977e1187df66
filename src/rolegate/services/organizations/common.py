"""Shared Organizations helpers: the caller's organization and who may act on it, new ids, NextToken paging.

Who may call: only the management account may call most operations; a member account gets
AccessDeniedException and an account outside any organization gets AWSOrganizationsNotInUseException
(DescribeOrganization is open to members). These checks run in the handler, after the pipeline has
authorized the IAM action, as AWS evaluates IAM before the service's own rules.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from rolegate.services.context import CallContext
from rolegate.services.organization import organization_of
from rolegate.services.organizations.errors import (
    AccessDeniedException,
    AWSOrganizationsNotInUseException,
    InvalidInputException,
)
from rolegate.store.records import Organization

T = TypeVar("T")
NOT_IN_USE = "Your account is not a member of an organization."
NOT_MANAGEMENT = "You don't have permissions to access this resource."
DEFAULT_MAX_RESULTS = 20
ID_ATTEMPTS = 64


def caller_org(call: CallContext) -> Organization:
    """The organization of the calling account (management or member)."""
    org = organization_of(call.tx, call.caller.account_id)
    if org is None:
        raise AWSOrganizationsNotInUseException(NOT_IN_USE)
    return org


def management_org(call: CallContext) -> Organization:
    """The caller's organization, when the caller is its management account."""
    org = caller_org(call)
    if org.management_account_id != call.caller.account_id:
        raise AccessDeniedException(NOT_MANAGEMENT)
    return org


def unique_id(make: Callable[[], str], taken: Callable[[str], bool]) -> str:
    """A fresh id from `make` that `taken` does not know; collisions are astronomically rare."""
    for _ in range(ID_ATTEMPTS):
        candidate = make()
        if not taken(candidate):
            return candidate
    raise RuntimeError("could not allocate a unique id")


def page(items: Sequence[T], params: dict[str, Any], key: str, render: Callable[[T], Any]) -> dict[str, Any]:
    """NextToken/MaxResults paging; the token is an opaque offset."""
    size = int(params.get("MaxResults") or DEFAULT_MAX_RESULTS)
    start = _offset(params.get("NextToken"))
    result: dict[str, Any] = {key: [render(item) for item in items[start : start + size]]}
    if start + size < len(items):
        result["NextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return result


def _offset(token: Any) -> int:
    if not token:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(str(token).encode()).decode())
    except (ValueError, UnicodeDecodeError, binascii.Error) as error:
        raise InvalidInputException("You specified an invalid value for nextToken.", "INVALID_NEXT_TOKEN") from error
    if offset < 0:
        raise InvalidInputException("You specified an invalid value for nextToken.", "INVALID_NEXT_TOKEN")
    return offset
