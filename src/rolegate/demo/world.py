"""The walkthroughs' world in one organization, built through the same operations a client would call:
a dev and a prod member account; in prod the role AssumedRoleByGuestAccount trusting dev with an S3 policy
and MyApp/MyS3Access requiring an ExternalId; in dev the group developers whose managed policy allows
sts:AssumeRole on both, and the user natan in that group with an access key."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from rolegate.server.app import Runtime
from rolegate.services.context import Caller
from rolegate.services.dispatch import RequestFacts
from rolegate.store.records import Setting

DEMO_SETTING = "demo_world"
EXTERNAL_ID = "unique-external-id"


@dataclass(frozen=True, slots=True)
class DemoWorld:
    management: str
    dev: str
    prod: str
    user_key_id: str
    user_secret: str


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class _Builder:
    def __init__(self, runtime: Runtime) -> None:
        self.services = runtime.services
        self.count = 0

    def call(self, account: str, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """Act as the account's root user, through the normal service path (authorized and audited)."""
        self.count += 1
        caller = Caller("root", account, f"arn:aws:iam::{account}:root", account)
        facts = RequestFacts(f"demo-{self.count:04d}", user_agent="rolegate-demo")
        return self.services.invoke(caller, service, operation, params, facts)


def _accounts(builder: _Builder, management: str) -> tuple[str, str]:
    builder.call(management, "organizations", "CreateOrganization", FeatureSet="ALL")
    made = []
    for name in ("dev", "prod"):
        status = builder.call(
            management, "organizations", "CreateAccount", AccountName=name, Email=f"{name}@example.com"
        )["CreateAccountStatus"]
        made.append(status["AccountId"])
    return made[0], made[1]


def _prod(builder: _Builder, prod: str, dev: str) -> None:
    builder.call(
        prod,
        "iam",
        "CreateRole",
        RoleName="AssumedRoleByGuestAccount",
        Description="enable a guest account to access s3",
        AssumeRolePolicyDocument=_doc(
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{dev}:root"}, "Action": "sts:AssumeRole"}
        ),
    )
    builder.call(
        prod,
        "iam",
        "PutRolePolicy",
        RoleName="AssumedRoleByGuestAccount",
        PolicyName="PolicyAllowGuestAccountToAccessS3",
        PolicyDocument=_doc(
            {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]},
            {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": ["*"]},
        ),
    )
    trust = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{dev}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
    }
    builder.call(prod, "iam", "CreateRole", RoleName="MyS3Access", Path="/MyApp/", AssumeRolePolicyDocument=_doc(trust))
    builder.call(
        prod,
        "iam",
        "AttachRolePolicy",
        RoleName="MyS3Access",
        PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    )


def demo_bucket(prod: str) -> str:
    """Bucket names are global: the prod account's id keeps the demo's unique."""
    return f"prod-reports-{prod}"


def _prod_bucket(builder: _Builder, prod: str) -> None:
    """A prod bucket with a tagged report, for `aws s3 ls` and `aws s3 cp` under the assumed roles."""
    bucket = demo_bucket(prod)
    builder.call(prod, "s3", "CreateBucket", Bucket=bucket)
    report = b"week,visits\n2026-W47,1337\n"
    builder.call(
        prod,
        "s3",
        "PutObject",
        Bucket=bucket,
        Key="reports/weekly.csv",
        Body=io.BytesIO(report),
        ContentLength=len(report),
        ContentType="text/csv",
        Tagging="Environment=production",
    )


def _dev(builder: _Builder, dev: str, prod: str) -> tuple[str, str]:
    policy = builder.call(
        dev,
        "iam",
        "CreatePolicy",
        PolicyName="AssumeProdRoles",
        PolicyDocument=_doc(
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": [
                    f"arn:aws:iam::{prod}:role/MyApp/MyS3Access",
                    f"arn:aws:iam::{prod}:role/AssumedRoleByGuestAccount",
                ],
            }
        ),
    )["Policy"]
    builder.call(dev, "iam", "CreateGroup", GroupName="developers")
    builder.call(dev, "iam", "AttachGroupPolicy", GroupName="developers", PolicyArn=policy["Arn"])
    builder.call(dev, "iam", "CreateUser", UserName="natan")
    builder.call(dev, "iam", "AddUserToGroup", GroupName="developers", UserName="natan")
    key = builder.call(dev, "iam", "CreateAccessKey", UserName="natan")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def build_demo_world(runtime: Runtime) -> DemoWorld | None:
    """Create the world on first start; None when it already exists (its secrets were shown then)."""
    store = runtime.services.store
    with store.transaction() as tx:
        if tx.get(Setting, DEMO_SETTING) is not None:
            return None
    builder = _Builder(runtime)
    management = runtime.root.account_id
    dev, prod = _accounts(builder, management)
    _prod(builder, prod, dev)
    _prod_bucket(builder, prod)
    key_id, secret = _dev(builder, dev, prod)
    with store.transaction() as tx:
        tx.put(Setting(DEMO_SETTING, json.dumps({"dev": dev, "prod": prod})))
    return DemoWorld(management, dev, prod, key_id, secret)


def print_demo(runtime: Runtime, world: DemoWorld | None) -> None:
    if world is None:
        print("demo world already created (its access key was printed on the first start)")
        return
    endpoint = f"http://{runtime.settings.host}:{runtime.settings.port}"
    prod, dev = world.prod, world.dev
    print(f"""
demo world: dev account {dev}, prod account {prod} (management {world.management})

~/.aws/config snippet:

  [profile natan]
  region = us-east-1
  endpoint_url = {endpoint}

  [profile prod]
  region = us-east-1
  source_profile = natan
  role_arn = arn:aws:iam::{prod}:role/MyApp/MyS3Access
  external_id = {EXTERNAL_ID}
  endpoint_url = {endpoint}

~/.aws/credentials snippet:

  [natan]
  aws_access_key_id = {world.user_key_id}
  aws_secret_access_key = {world.user_secret}

try:
""")
    guest = f"arn:aws:iam::{prod}:role/AssumedRoleByGuestAccount"
    my_app = f"arn:aws:iam::{prod}:role/MyApp/MyS3Access"
    for command in (
        "aws sts get-caller-identity --profile natan",
        f"aws sts assume-role --profile natan --role-arn {guest} --role-session-name session",
        f"aws sts assume-role --profile natan --role-arn {my_app} --role-session-name session   # AccessDenied",
        f"aws sts assume-role --profile natan --role-arn {my_app} --role-session-name session"
        f" --external-id {EXTERNAL_ID}",
        "aws sts get-caller-identity --profile prod",
        f"aws s3 ls s3://{demo_bucket(prod)}/reports/ --profile prod",
        f"aws s3 cp s3://{demo_bucket(prod)}/reports/weekly.csv - --profile prod",
        f"aws s3 ls s3://{demo_bucket(prod)} --profile natan   # AccessDenied: dev's identity policy alone cannot",
        f"rolegate assume prod --exec -- aws s3 ls s3://{demo_bucket(prod)}/reports/   # refreshing credentials",
    ):
        print(f"  {command}")
    print()
