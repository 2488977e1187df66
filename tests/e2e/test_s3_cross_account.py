"""Who may touch a bucket, over real HTTP: the same-account and cross-account rules of evaluation.md with the
bucket policy as the resource policy, S3's missing-key rule, SCPs on the caller's OU, and the revocation of a
live role session. Dev and prod are member accounts of one organization, made as AWS makes them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from awscli_support import Principal, client_error, management_admin, member_account, policy
from e2e_support import LiveServer, live_server
from s3_e2e_support import keys_of, s3_client

S3_ALL = policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
DENIED = ("AccessDenied", "Access Denied", 403)


@dataclass(frozen=True)
class Org:
    server: LiveServer
    management: Principal  # the management account's admin user
    dev: Principal  # dev's administrator
    prod: Principal  # prod's administrator

    def s3(self, who: Principal) -> Any:
        return s3_client(self.server, keys_of(who))

    def prod_bucket(self, name: str, *statements: dict[str, Any]) -> str:
        """A prod bucket holding `report.csv`, with a bucket policy of `statements` if any."""
        s3 = self.s3(self.prod)
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="report.csv", Body=b"q1,q2\n1,2\n")
        if statements:
            s3.put_bucket_policy(Bucket=name, Policy=policy(*statements))
        return name


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    with live_server(tmp_path_factory.mktemp("s3xacct") / "data") as server:
        admin = management_admin(server)
        yield Org(server, admin, member_account(admin, "dev"), member_account(admin, "prod"))


def grant(principal: Any, actions: list[str], bucket: str, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {
        "Effect": effect,
        "Principal": principal,
        "Action": actions,
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        **extra,
    }


def test_a_dev_identity_policy_alone_cannot_touch_a_prod_bucket(org: Org) -> None:
    bucket = org.prod_bucket("prod-closed")
    alice = org.s3(org.dev.user("alice", S3_ALL))
    assert client_error(alice.get_object, Bucket=bucket, Key="report.csv") == DENIED
    assert client_error(alice.put_object, Bucket=bucket, Key="upload.txt", Body=b"x") == DENIED
    assert client_error(alice.list_objects_v2, Bucket=bucket) == DENIED
    assert client_error(alice.head_object, Bucket=bucket, Key="report.csv")[2] == 403
    # The same identity policy works on dev's own bucket.
    alice.create_bucket(Bucket="dev-scratch")
    alice.put_object(Bucket="dev-scratch", Key="note.txt", Body=b"mine")
    assert alice.get_object(Bucket="dev-scratch", Key="note.txt")["Body"].read() == b"mine"


def test_a_bucket_policy_naming_the_dev_account_hands_the_decision_to_devs_policies(org: Org) -> None:
    bucket = org.prod_bucket(
        "prod-shared",
        grant({"AWS": org.dev.account}, ["s3:GetObject", "s3:PutObject", "s3:ListBucket"], bucket="prod-shared"),
    )
    allowed = org.s3(org.dev.user("bea", S3_ALL))
    assert allowed.get_object(Bucket=bucket, Key="report.csv")["Body"].read() == b"q1,q2\n1,2\n"
    assert [o["Key"] for o in allowed.list_objects_v2(Bucket=bucket)["Contents"]] == ["report.csv"]
    allowed.put_object(Bucket=bucket, Key="from-dev.txt", Body=b"hello prod")
    owner_view = org.s3(org.prod).get_object(Bucket=bucket, Key="from-dev.txt")
    assert owner_view["Body"].read() == b"hello prod"
    # No identity allow in dev: the bucket policy alone does not suffice across accounts.
    nothing = org.s3(org.dev.user("bob"))
    assert client_error(nothing.get_object, Bucket=bucket, Key="report.csv") == DENIED
    assert client_error(nothing.list_objects_v2, Bucket=bucket) == DENIED
    # An identity allow for reads only: reads pass, listing and writes do not.
    reads = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    reader = org.s3(org.dev.user("carol", reads))
    assert reader.get_object(Bucket=bucket, Key="report.csv")["ContentLength"] == 10
    assert client_error(reader.list_objects_v2, Bucket=bucket) == DENIED
    assert client_error(reader.put_object, Bucket=bucket, Key="carol.txt", Body=b"x") == DENIED
    # A principal of a third account the policy does not name gets nothing, whatever its own policies say.
    outsider = org.s3(member_account(org.management, "third"))
    assert client_error(outsider.get_object, Bucket=bucket, Key="report.csv") == DENIED


def test_delete_objects_reports_each_denied_key(org: Org) -> None:
    bucket = org.prod_bucket(
        "prod-batch",
        {
            "Effect": "Allow",
            "Principal": {"AWS": org.dev.account},
            "Action": "s3:DeleteObject",
            "Resource": "arn:aws:s3:::prod-batch/tmp/*",
        },
    )
    prod = org.s3(org.prod)
    for key in ("tmp/a.txt", "keep/b.txt"):
        prod.put_object(Bucket=bucket, Key=key, Body=b".")
    dev = org.s3(org.dev.user("dora", S3_ALL))
    result = dev.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "tmp/a.txt"}, {"Key": "keep/b.txt"}]})
    assert result["Deleted"] == [{"Key": "tmp/a.txt"}]
    assert result["Errors"] == [{"Key": "keep/b.txt", "Code": "AccessDenied", "Message": "Access Denied"}]
    assert sorted(o["Key"] for o in prod.list_objects_v2(Bucket=bucket)["Contents"]) == ["keep/b.txt", "report.csv"]


def test_a_bucket_policy_deny_beats_any_allow(org: Org) -> None:
    bucket = org.prod_bucket(
        "prod-guarded",
        grant({"AWS": org.dev.account}, ["s3:*"], bucket="prod-guarded"),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::prod-guarded/secret/*",
        },
    )
    prod = org.s3(org.prod)  # AdministratorAccess, same account
    prod.put_object(Bucket=bucket, Key="secret/keys.txt", Body=b"hush")
    dev = org.s3(org.dev.user("dave", S3_ALL))
    assert dev.get_object(Bucket=bucket, Key="report.csv")["Body"].read() == b"q1,q2\n1,2\n"
    assert client_error(dev.get_object, Bucket=bucket, Key="secret/keys.txt") == DENIED
    assert client_error(prod.get_object, Bucket=bucket, Key="secret/keys.txt") == DENIED
    assert prod.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_same_account_bucket_policy_alone_allows(org: Org) -> None:
    reader = org.prod.user("reader")  # no identity policy at all
    iam = org.prod.client("iam")
    trust = policy({"Effect": "Allow", "Principal": {"AWS": org.prod.account}, "Action": "sts:AssumeRole"})
    role_arn = iam.create_role(RoleName="bare-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    bucket = org.prod_bucket(
        "prod-direct",
        grant({"AWS": reader.arn}, ["s3:GetObject"], bucket="prod-direct"),
        grant({"AWS": role_arn}, ["s3:GetObject", "s3:ListBucket"], bucket="prod-direct"),
    )
    as_reader = org.s3(reader)
    assert as_reader.get_object(Bucket=bucket, Key="report.csv")["Body"].read() == b"q1,q2\n1,2\n"
    assert client_error(as_reader.put_object, Bucket=bucket, Key="r.txt", Body=b"x") == DENIED
    assert client_error(as_reader.list_objects_v2, Bucket=bucket) == DENIED
    session = org.s3(org.prod.assume(role_arn, "bare"))
    assert [o["Key"] for o in session.list_objects_v2(Bucket=bucket)["Contents"]] == ["report.csv"]
    # Another user of the same account, not named, with no identity policy: nothing.
    stranger = org.s3(org.prod.user("stranger"))
    assert client_error(stranger.get_object, Bucket=bucket, Key="report.csv") == DENIED


def test_a_missing_key_is_access_denied_without_list_bucket_and_no_such_key_with_it(org: Org) -> None:
    bucket = org.prod_bucket("prod-probe")
    iam = org.prod.client("iam")
    getter = org.prod.user(
        "getter", policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    )
    s3 = org.s3(getter)
    assert s3.get_object(Bucket=bucket, Key="report.csv")["ContentLength"] == 10
    assert client_error(s3.get_object, Bucket=bucket, Key="absent.csv") == DENIED
    assert client_error(s3.head_object, Bucket=bucket, Key="absent.csv")[0::2] == ("403", 403)
    iam.put_user_policy(
        UserName="getter",
        PolicyName="list",
        PolicyDocument=policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}),
    )
    assert client_error(s3.get_object, Bucket=bucket, Key="absent.csv") == (
        "NoSuchKey",
        "The specified key does not exist.",
        404,
    )
    assert client_error(s3.head_object, Bucket=bucket, Key="absent.csv")[0::2] == ("404", 404)


def test_an_scp_on_the_dev_ou_denies_s3_even_where_policies_allow(org: Org) -> None:
    bucket = org.prod_bucket("prod-org", grant({"AWS": org.dev.account}, ["s3:GetObject"], bucket="prod-org"))
    dev = org.s3(org.dev.user("erin", S3_ALL))
    dev.create_bucket(Bucket="dev-own")
    dev.put_object(Bucket="dev-own", Key="k", Body=b"v")
    assert dev.get_object(Bucket=bucket, Key="report.csv")["ContentLength"] == 10
    organizations = org.management.client("organizations")
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    organizations.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    unit = organizations.create_organizational_unit(ParentId=root_id, Name="Development")["OrganizationalUnit"]["Id"]
    organizations.move_account(AccountId=org.dev.account, SourceParentId=root_id, DestinationParentId=unit)
    scp = organizations.create_policy(
        Name="NoS3InDevelopment",
        Description="development accounts may not use S3",
        Type="SERVICE_CONTROL_POLICY",
        Content=policy({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}),
    )["Policy"]["PolicySummary"]["Id"]
    organizations.attach_policy(PolicyId=scp, TargetId=unit)
    try:
        assert client_error(dev.get_object, Bucket=bucket, Key="report.csv") == DENIED
        assert client_error(dev.get_object, Bucket="dev-own", Key="k") == DENIED
        assert client_error(dev.list_buckets)[0::2] == ("AccessDenied", 403)
        # Prod is not in the OU: its administrator is unaffected.
        assert org.s3(org.prod).get_object(Bucket=bucket, Key="report.csv")["ContentLength"] == 10
    finally:
        organizations.detach_policy(PolicyId=scp, TargetId=unit)
    assert dev.get_object(Bucket=bucket, Key="report.csv")["ContentLength"] == 10
    assert dev.get_object(Bucket="dev-own", Key="k")["Body"].read() == b"v"


def test_revoking_a_roles_sessions_ends_the_older_session_on_s3(org: Org) -> None:
    iam = org.prod.client("iam")
    trust = policy({"Effect": "Allow", "Principal": {"AWS": org.prod.account}, "Action": "sts:AssumeRole"})
    role_arn = iam.create_role(RoleName="s3-writer", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName="s3-writer", PolicyName="s3", PolicyDocument=S3_ALL)
    bucket = org.prod_bucket("prod-revocable")
    old = org.s3(org.prod.assume(role_arn, "before"))
    old.put_object(Bucket=bucket, Key="old-1.txt", Body=b"1")
    time.sleep(1.1)  # token issue times have one-second resolution
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=org.prod.key_id,
        AWS_SECRET_ACCESS_KEY=org.prod.secret,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    revoked = subprocess.run(
        [sys.executable, "-m", "rolegate", "revoke-sessions", role_arn, "--endpoint-url", org.server.endpoint],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert revoked.returncode == 0, revoked.stderr
    assert client_error(old.put_object, Bucket=bucket, Key="old-2.txt", Body=b"2") == DENIED
    assert client_error(old.get_object, Bucket=bucket, Key="old-1.txt") == DENIED
    time.sleep(1.1)
    fresh = org.s3(org.prod.assume(role_arn, "after"))
    fresh.put_object(Bucket=bucket, Key="new.txt", Body=b"3")
    assert fresh.get_object(Bucket=bucket, Key="old-1.txt")["Body"].read() == b"1"
