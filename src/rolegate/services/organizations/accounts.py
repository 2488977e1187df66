"""Member accounts: CreateAccount and its status, DescribeAccount, ListAccounts, ListAccountsForParent,
MoveAccount.

CreateAccount is asynchronous in AWS; rolegate completes it within the call, so the returned
CreateAccountStatus is already SUCCEEDED (or FAILED with EMAIL_ALREADY_EXISTS, which AWS also reports
through the status rather than as an error). MoveAccount authorizes the account (by the pipeline) and both
parents named in the request (here), since IAM checks every resource a request names.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.organizations import meta
from rolegate.services.organizations.common import management_org, page
from rolegate.services.organizations.errors import (
    AccountNotFoundException,
    CreateAccountStatusNotFoundException,
    DestinationParentNotFoundException,
    DuplicateAccountException,
    ParentNotFoundException,
    SourceParentNotFoundException,
)
from rolegate.services.organizations.provisioning import DEFAULT_ROLE, new_account_id, provision_account
from rolegate.services.organizations.shapes import account_out
from rolegate.services.organizations.tags import checked_request_tags
from rolegate.services.organizations.tree import (
    all_accounts,
    anywhere,
    belongs,
    child_accounts,
    entity_arn,
    is_container,
    resource_of,
)
from rolegate.services.registry import operation
from rolegate.store.records import Account, Organization

ACCOUNT_NOT_FOUND = "You specified an account that doesn't exist."
PARENT_NOT_FOUND = "We can't find a root or OU with the ParentId that you specified."
STATUS_NOT_FOUND = "We can't find an create account request with the CreateAccountRequestId that you specified."


def member_account(call: CallContext, org: Organization, account_id: str) -> Account:
    account = call.tx.get(Account, account_id)
    if account is None or not belongs(call.tx, org, account_id):
        raise AccountNotFoundException(ACCOUNT_NOT_FOUND)
    return account


# -- CreateAccount and its status ------------------------------------------------------------------------


@operation("organizations", "CreateAccount", resource=anywhere)
def create_account_op(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    account_id = new_account_id(call)
    tags = checked_request_tags(call, entity_arn(call.tx, org, account_id), params.get("Tags", []))
    request_id = "car-" + call.ids.token(32)
    request: dict[str, Any] = {
        "org": org.org_id,
        "name": params["AccountName"],
        "requested": call.now.isoformat(),
        "completed": call.now.isoformat(),
    }
    if call.tx.find(Account, email=params["Email"]):
        request.update(state="FAILED", failure="EMAIL_ALREADY_EXISTS")
    else:
        role = str(params.get("RoleName") or DEFAULT_ROLE)
        provision_account(call, org, account_id, params["AccountName"], params["Email"], role)
        meta.set_tags(call.tx, account_id, tags)
        request.update(state="SUCCEEDED", account=account_id)
    meta.put(call.tx, meta.CREATE_ACCOUNT, request_id, request)
    return {"CreateAccountStatus": status_out(request_id, request)}


def status_out(request_id: str, request: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Id": request_id,
        "AccountName": request["name"],
        "State": request["state"],
        "RequestedTimestamp": datetime.fromisoformat(request["requested"]),
        "CompletedTimestamp": datetime.fromisoformat(request["completed"]),
    }
    if request.get("account"):
        out["AccountId"] = request["account"]
    if request.get("failure"):
        out["FailureReason"] = request["failure"]
    return out


@operation("organizations", "DescribeCreateAccountStatus", resource=anywhere)
def describe_create_account_status(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    request_id = params["CreateAccountRequestId"]
    request = meta.get(call.tx, meta.CREATE_ACCOUNT, request_id)
    if not isinstance(request, dict) or request.get("org") != org.org_id:
        raise CreateAccountStatusNotFoundException(STATUS_NOT_FOUND)
    return {"CreateAccountStatus": status_out(request_id, request)}


@operation("organizations", "ListCreateAccountStatus", resource=anywhere)
def list_create_account_status(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    states = set(params.get("States") or ())
    requests = [
        (request_id, request)
        for request_id, request in meta.all_of(call.tx, meta.CREATE_ACCOUNT)
        if isinstance(request, dict) and request.get("org") == org.org_id and (not states or request["state"] in states)
    ]
    requests.sort(key=lambda item: (item[1]["requested"], item[0]))
    return page(requests, params, "CreateAccountStatuses", lambda item: status_out(*item))


# -- reading accounts ------------------------------------------------------------------------------------


@operation("organizations", "DescribeAccount", resource=resource_of("AccountId"))
def describe_account(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    return {"Account": account_out(call.tx, org, member_account(call, org, params["AccountId"]))}


@operation("organizations", "ListAccounts", resource=anywhere)
def list_accounts(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    return page(all_accounts(call.tx, org), params, "Accounts", lambda a: account_out(call.tx, org, a))


@operation("organizations", "ListAccountsForParent", resource=resource_of("ParentId"))
def list_accounts_for_parent(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    parent = params["ParentId"]
    if not is_container(call.tx, org, parent):
        raise ParentNotFoundException(PARENT_NOT_FOUND)
    accounts = child_accounts(call.tx, parent)
    return page(accounts, params, "Accounts", lambda a: account_out(call.tx, org, a))


# -- MoveAccount -----------------------------------------------------------------------------------------


@operation("organizations", "MoveAccount", resource=resource_of("AccountId"))
def move_account(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    source, destination = params["SourceParentId"], params["DestinationParentId"]
    for parent in (source, destination):
        call.authorizer.check(call, "organizations:MoveAccount", entity_arn(call.tx, org, parent))
    account = member_account(call, org, params["AccountId"])
    if not is_container(call.tx, org, source) or account.parent_id != source:
        raise SourceParentNotFoundException("We can't find a source root or OU with the ParentId that you specified.")
    if not is_container(call.tx, org, destination):
        raise DestinationParentNotFoundException(
            "We can't find the destination container (a root or OU) with the ParentId that you specified."
        )
    if destination == account.parent_id:
        raise DuplicateAccountException("That account is already present in the specified destination.")
    call.tx.put(replace(account, parent_id=destination))
    return {}
