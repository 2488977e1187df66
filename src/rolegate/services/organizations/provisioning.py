"""What a new member account starts with, as AWS creates it: the account under the root, and the role
(OrganizationAccountAccessRole unless RoleName says otherwise) that the management account can assume.

AWS gives that role an inline policy named AdministratorAccess allowing every action on every resource,
not an attachment of the AWS managed policy of the same name (the role created for an account differs from
the one the docs ask you to build by hand for invited accounts); rolegate does the same. The trust policy
names the management account (`arn:aws:iam::<management>:root`), so the management account's own IAM
policies decide who may assume it. No root access key is created: member accounts have none by default.
"""

from __future__ import annotations

import json

from rolegate.services.context import CallContext
from rolegate.services.organizations.catalog import attach_defaults
from rolegate.services.organizations.common import unique_id
from rolegate.services.world import create_account
from rolegate.store.records import Account, InlinePolicy, Organization, Role

DEFAULT_ROLE = "OrganizationAccountAccessRole"
ADMIN_POLICY_NAME = "AdministratorAccess"
ADMIN_DOCUMENT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def trust_document(management_account_id: str) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{management_account_id}:root"},
        "Action": "sts:AssumeRole",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def new_account_id(call: CallContext) -> str:
    return unique_id(call.ids.account_id, lambda candidate: call.tx.get(Account, candidate) is not None)


def provision_account(
    call: CallContext, org: Organization, account_id: str, name: str, email: str, role_name: str
) -> Account:
    account = create_account(call.tx, account_id, name, email, call.clock, parent_id=org.root_id)
    role = Role(
        account_id=account_id,
        name=role_name,
        role_id=call.ids.unique_id("AROA"),
        path="/",
        created=call.now,
        trust_policy=trust_document(org.management_account_id),
    )
    call.tx.insert(role)
    call.tx.insert(InlinePolicy(account_id, "role", role_name, ADMIN_POLICY_NAME, ADMIN_DOCUMENT))
    attach_defaults(call.tx, org, account_id)
    return account
