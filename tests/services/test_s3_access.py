"""S3 under real IAM, through the service path on both stores: bucket policies as resource policies with
the same-account and cross-account rules of evaluation.md, anonymous callers, SCPs and RCPs, S3's condition
keys (object tags, list prefixes), the missing-key rule, bucket-policy validation, and live revocation."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from s3_support import S3World, bucket_policy, grant, raises
from services_support import DEV, MGMT, PROD, allow, doc
from test_organizations import ADMIN_ROLE, RCP, new_org

from rolegate.clock import FixedClock
from rolegate.errors import AccessDenied
from rolegate.ids import seeded
from rolegate.services.context import CallContext, Caller
from rolegate.services.dispatch import Services
from rolegate.services.iam.errors import NoSuchEntity
from rolegate.services.iam.revoke import REVOKE_POLICY_NAME, revoke_older_sessions
from rolegate.services.identity import ANONYMOUS
from rolegate.services.registry import REGISTRY
from rolegate.services.s3 import access
from rolegate.store.blobs import BlobStore
from rolegate.store.interface import Store
from rolegate.store.records import AuditEvent, Bucket, InlinePolicy
from rolegate.store.secrets import Sealer

BUCKET = "prod-data"
OBJECTS = f"arn:aws:s3:::{BUCKET}/*"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
S3_ALL = doc(allow("s3:*"))


@pytest.fixture
def prod(s3: S3World) -> Caller:
    """Prod's root user, owner of BUCKET with one object `report.csv`; the dev account exists too."""
    root = s3.account(PROD)
    s3.account(DEV)
    s3.bucket(root, BUCKET)
    s3.put(root, BUCKET, "report.csv", b"q1,q2\n")
    return root


def set_policy(s3: S3World, owner: Caller, *statements: dict[str, Any]) -> None:
    s3.s3(owner, "PutBucketPolicy", Bucket=BUCKET, Policy=bucket_policy(*statements))


def can_get(s3: S3World, caller: Caller, key: str = "report.csv") -> bool:
    """Whether GetObject is allowed; a denial must be S3's bare "Access Denied"."""
    try:
        s3.get(caller, BUCKET, key)
    except AccessDenied as error:
        message = error.message
    else:
        return True
    assert message == "Access Denied"
    return False


# -- cross-account -----------------------------------------------------------------------------------------


def test_a_dev_identity_policy_alone_cannot_touch_a_prod_bucket(s3: S3World, prod: Caller) -> None:
    alice = s3.user(DEV, "alice", S3_ALL)
    assert not can_get(s3, alice)
    raises("AccessDenied", 403, s3.put, alice, BUCKET, "upload.txt")
    raises("AccessDenied", 403, s3.s3, alice, "ListObjectsV2", Bucket=BUCKET)
    raises("AccessDenied", 403, s3.s3, alice, "HeadBucket", Bucket=BUCKET)


def test_a_bucket_policy_naming_the_dev_account_hands_the_decision_to_devs_policies(s3: S3World, prod: Caller) -> None:
    set_policy(s3, prod, grant({"AWS": DEV}, ["s3:GetObject", "s3:ListBucket"], [BUCKET_ARN, OBJECTS]))
    alice = s3.user(DEV, "alice", S3_ALL)
    bob = s3.user(DEV, "bob")
    assert can_get(s3, alice)
    assert [c["Key"] for c in s3.s3(alice, "ListObjectsV2", Bucket=BUCKET)["Contents"]] == ["report.csv"]
    assert not can_get(s3, bob)  # the bucket policy delegates to dev, and dev's policies give bob nothing
    raises("AccessDenied", 403, s3.put, alice, BUCKET, "upload.txt")  # PutObject is not in the bucket policy


def test_naming_a_dev_user_still_needs_that_users_identity_allow(s3: S3World, prod: Caller) -> None:
    bob = s3.user(DEV, "bob")
    set_policy(s3, prod, grant({"AWS": bob.arn}, "s3:GetObject", OBJECTS))
    assert not can_get(s3, bob)  # cross-account: the resource side allows, the identity side does not
    s3.inline(DEV, "user", "bob", "s3", doc(allow("s3:GetObject", OBJECTS)))
    assert can_get(s3, bob)
    assert not can_get(s3, s3.user(DEV, "bob2", S3_ALL))  # another dev user is not named


def test_a_bucket_policy_deny_beats_any_allow(s3: S3World, prod: Caller) -> None:
    carol = s3.user(PROD, "carol", S3_ALL)
    alice = s3.user(DEV, "alice", S3_ALL)
    set_policy(
        s3,
        prod,
        grant({"AWS": DEV}, "s3:GetObject", OBJECTS),
        grant("*", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/report.csv", effect="Deny"),
    )
    s3.put(prod, BUCKET, "other.csv", b"fine")
    assert not can_get(s3, carol) and not can_get(s3, alice)
    assert can_get(s3, carol, "other.csv") and can_get(s3, alice, "other.csv")
    assert not can_get(s3, prod)  # not even the owner's root user reads through a Deny


def test_same_account_bucket_policy_alone_allows(s3: S3World, prod: Caller) -> None:
    carol = s3.user(PROD, "carol")
    dave = s3.user(PROD, "dave")
    assert not can_get(s3, carol)
    set_policy(
        s3,
        prod,
        grant({"AWS": f"arn:aws:iam::{PROD}:user/carol"}, "s3:GetObject", OBJECTS),
        grant({"AWS": PROD}, "s3:GetObject", OBJECTS),
    )
    assert can_get(s3, carol)  # named directly: no identity policy needed
    assert not can_get(s3, dave)  # the account principal still needs dave's identity allow
    s3.inline(PROD, "user", "dave", "read", doc(allow("s3:GetObject", OBJECTS)))
    assert can_get(s3, dave)


def test_same_account_identity_policy_alone_allows(s3: S3World, prod: Caller) -> None:
    erin = s3.user(PROD, "erin", doc(allow(["s3:GetObject", "s3:PutObject"], OBJECTS)))
    assert can_get(s3, erin)
    s3.put(erin, BUCKET, "erin.txt", b"mine")
    raises("AccessDenied", 403, s3.s3, erin, "DeleteObject", Bucket=BUCKET, Key="erin.txt")


# -- anonymous ---------------------------------------------------------------------------------------------


def test_anonymous_requests_are_evaluated_against_the_bucket_policy(s3: S3World, prod: Caller) -> None:
    assert not can_get(s3, ANONYMOUS)
    s3.s3(prod, "DeletePublicAccessBlock", Bucket=BUCKET)  # new buckets block public policies, as in S3
    set_policy(s3, prod, grant("*", "s3:GetObject", OBJECTS))
    assert s3.get(ANONYMOUS, BUCKET, "report.csv")[1] == b"q1,q2\n"
    raises("AccessDenied", 403, s3.s3, ANONYMOUS, "ListObjectsV2", Bucket=BUCKET)
    raises("AccessDenied", 403, s3.put, ANONYMOUS, BUCKET, "graffiti.txt")
    raises("AccessDenied", 403, s3.s3, ANONYMOUS, "ListBuckets")
    raises("AccessDenied", 403, s3.s3, ANONYMOUS, "CreateBucket", Bucket="anon-bucket")
    # a missing key is AccessDenied for the public too, since it cannot list the bucket
    raises("AccessDenied", 403, s3.get, ANONYMOUS, BUCKET, "missing")


# -- block public access -----------------------------------------------------------------------------------


def test_new_buckets_block_public_policies_until_the_owner_lifts_it(s3: S3World, prod: Caller) -> None:
    settings = s3.s3(prod, "GetPublicAccessBlock", Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert settings == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    error = raises("AccessDenied", 403, set_policy, s3, prod, grant("*", "s3:GetObject", OBJECTS))
    assert error.message.endswith(
        "because public policies are blocked by the BlockPublicPolicy block public access setting."
    )
    # a wildcard principal pinned to the organization or to an address range is not public
    pinned = grant("*", "s3:GetObject", OBJECTS) | {"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}
    set_policy(s3, prod, pinned)
    narrow = grant("*", "s3:GetObject", OBJECTS) | {"Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
    set_policy(s3, prod, narrow)
    everywhere = grant("*", "s3:GetObject", OBJECTS) | {"Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}
    raises("AccessDenied", 403, set_policy, s3, prod, everywhere)
    s3.s3(prod, "DeletePublicAccessBlock", Bucket=BUCKET)
    raises("NoSuchPublicAccessBlockConfiguration", 404, s3.s3, prod, "GetPublicAccessBlock", Bucket=BUCKET)
    set_policy(s3, prod, grant("*", "s3:GetObject", OBJECTS))
    assert can_get(s3, ANONYMOUS)


def test_restrict_public_buckets_takes_a_public_policy_away_from_outsiders(s3: S3World, prod: Caller) -> None:
    s3.s3(prod, "DeletePublicAccessBlock", Bucket=BUCKET)
    set_policy(s3, prod, grant("*", "s3:GetObject", OBJECTS))
    assert can_get(s3, ANONYMOUS)
    dev_user = s3.user(DEV, "devon", doc(allow("s3:GetObject", OBJECTS)))
    assert can_get(s3, dev_user)  # cross-account, through the public policy
    s3.s3(
        prod,
        "PutPublicAccessBlock",
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={"RestrictPublicBuckets": True, "BlockPublicPolicy": False},
    )
    assert not can_get(s3, ANONYMOUS)
    assert not can_get(s3, dev_user)
    owner_reader = s3.user(PROD, "olive", doc(allow("s3:GetObject", OBJECTS)))
    assert can_get(s3, owner_reader)  # principals of the owner's account keep their access


# -- organizations -----------------------------------------------------------------------------------------


def _member_with_bucket(s3: S3World) -> tuple[Any, Caller, Caller]:
    """An organization, a member account with a bucket of its own, the management account's admin user and
    a session of the member's OrganizationAccountAccessRole."""
    org = new_org(s3)
    member = org.account("workloads")
    admin = s3.user(MGMT, "admin", doc(allow("*")))
    role_arn = f"arn:aws:iam::{member}:role/{ADMIN_ROLE}"
    credentials = s3.call(admin, "sts", "AssumeRole", RoleArn=role_arn, RoleSessionName="ops")["Credentials"]
    session = s3.session_caller(credentials)
    s3.s3(session, "CreateBucket", Bucket="member-bucket")
    s3.put(session, "member-bucket", "k", b"v")
    return org, admin, session


def test_an_scp_deny_on_s3_binds_member_accounts(s3: S3World) -> None:
    org, admin, session = _member_with_bucket(s3)
    org.enable()
    deny = org.policy("DenyS3", doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}))
    org.call("AttachPolicy", PolicyId=deny, TargetId=org.root_id)
    raises("AccessDenied", 403, s3.get, session, "member-bucket", "k")
    raises("AccessDenied", 403, s3.s3, session, "CreateBucket", Bucket="another-bucket")
    s3.s3(admin, "CreateBucket", Bucket="management-bucket")  # the management account is outside SCPs
    org.call("DetachPolicy", PolicyId=deny, TargetId=org.root_id)
    assert s3.get(session, "member-bucket", "k")[1] == b"v"


def test_an_rcp_deny_binds_the_member_accounts_buckets(s3: S3World) -> None:
    org, _admin, session = _member_with_bucket(s3)
    org.enable(RCP)
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "*"}
    rcp = org.policy("NoDeletes", doc(statement), RCP)
    org.call("AttachPolicy", PolicyId=rcp, TargetId=org.root_id)
    raises("AccessDenied", 403, s3.s3, session, "DeleteObject", Bucket="member-bucket", Key="k")
    assert s3.get(session, "member-bucket", "k")[1] == b"v"


# -- condition keys ----------------------------------------------------------------------------------------

SEED_003_POLICY = doc(
    {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
        "Resource": [BUCKET_ARN, OBJECTS],
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/Environment": "Production"}},
    }
)


def test_walkthrough_003_existing_object_tag_condition(s3: S3World, prod: Caller) -> None:
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}, "Action": "sts:AssumeRole"})
    s3.role(PROD, "CrossAccountAccessRole", trust, SEED_003_POLICY)
    role_arn = f"arn:aws:iam::{PROD}:role/CrossAccountAccessRole"
    user = s3.user(DEV, "AssumeRoleUser", doc(allow("sts:AssumeRole", role_arn)))
    credentials = s3.call(user, "sts", "AssumeRole", RoleArn=role_arn, RoleSessionName="t")["Credentials"]
    session = s3.session_caller(credentials)
    s3.put(prod, BUCKET, "prod.txt", b"production", Tagging="Environment=Production")
    s3.put(prod, BUCKET, "stage.txt", b"staging", Tagging="Environment=Staging")
    assert s3.get(session, BUCKET, "prod.txt")[1] == b"production"
    assert not can_get(s3, session, "stage.txt")
    assert not can_get(s3, session, "report.csv")  # untagged
    raises("AccessDenied", 403, s3.s3, session, "ListObjectsV2", Bucket=BUCKET)  # a bucket has no object tags
    s3.s3(
        prod,
        "PutObjectTagging",
        Bucket=BUCKET,
        Key="stage.txt",
        Tagging={"TagSet": [{"Key": "Environment", "Value": "Production"}]},
    )
    assert can_get(s3, session, "stage.txt")  # the tag as it is now decides


def test_request_object_tags_condition_on_put(s3: S3World, prod: Caller) -> None:
    policy = doc(
        allow("s3:PutObject", OBJECTS, Condition={"StringEquals": {"s3:RequestObjectTag/team": "data"}}),
        allow(
            "s3:PutObjectTagging",
            OBJECTS,
            Condition={"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team", "env"]}},
        ),
    )
    frank = s3.user(PROD, "frank", policy)
    s3.put(frank, BUCKET, "tagged.txt", Tagging="team=data")
    raises("AccessDenied", 403, s3.put, frank, BUCKET, "untagged.txt")
    raises("AccessDenied", 403, s3.put, frank, BUCKET, "wrong.txt", Tagging="team=web")
    ok = {"TagSet": [{"Key": "team", "Value": "x"}, {"Key": "env", "Value": "y"}]}
    s3.s3(frank, "PutObjectTagging", Bucket=BUCKET, Key="tagged.txt", Tagging=ok)
    bad = {"TagSet": [{"Key": "owner", "Value": "x"}]}
    raises("AccessDenied", 403, s3.s3, frank, "PutObjectTagging", Bucket=BUCKET, Key="tagged.txt", Tagging=bad)


def test_prefix_conditions_on_list_bucket(s3: S3World, prod: Caller) -> None:
    for key in ("home/alice/notes.txt", "home/bob/secret.txt"):
        s3.put(prod, BUCKET, key)
    condition = {"StringLike": {"s3:prefix": ["", "home/", "home/alice/*"]}, "StringEquals": {"s3:delimiter": "/"}}
    alice = s3.user(PROD, "alice", doc(allow("s3:ListBucket", BUCKET_ARN, Condition=condition)))
    top = s3.s3(alice, "ListObjectsV2", Bucket=BUCKET, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["home/"]
    home = s3.s3(alice, "ListObjectsV2", Bucket=BUCKET, Prefix="home/", Delimiter="/")
    assert [p["Prefix"] for p in home["CommonPrefixes"]] == ["home/alice/", "home/bob/"]
    mine = s3.s3(alice, "ListObjectsV2", Bucket=BUCKET, Prefix="home/alice/", Delimiter="/")
    assert [c["Key"] for c in mine["Contents"]] == ["home/alice/notes.txt"]
    raises("AccessDenied", 403, s3.s3, alice, "ListObjectsV2", Bucket=BUCKET, Prefix="home/bob/", Delimiter="/")
    raises("AccessDenied", 403, s3.s3, alice, "ListObjectsV2", Bucket=BUCKET, Prefix="home/alice/")  # no delimiter
    capped = doc(allow("s3:ListBucket", BUCKET_ARN, Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}}))
    gina = s3.user(PROD, "gina", capped)
    assert s3.s3(gina, "ListObjects", Bucket=BUCKET, MaxKeys=10)["MaxKeys"] == 10
    raises("AccessDenied", 403, s3.s3, gina, "ListObjects", Bucket=BUCKET, MaxKeys=100)


def test_header_condition_keys(s3: S3World, prod: Caller) -> None:
    condition = {"StringEquals": {"s3:x-amz-server-side-encryption": "AES256"}}
    hana = s3.user(PROD, "hana", doc(allow("s3:PutObject", OBJECTS, Condition=condition)))
    s3.put(hana, BUCKET, "encrypted.txt", ServerSideEncryption="AES256")
    raises("AccessDenied", 403, s3.put, hana, BUCKET, "plain.txt")


def test_a_missing_key_is_access_denied_without_list_bucket(s3: S3World, prod: Caller) -> None:
    reader = s3.user(PROD, "reader", doc(allow("s3:GetObject", OBJECTS)))
    lister = s3.user(PROD, "lister", doc(allow(["s3:GetObject", "s3:ListBucket"], [OBJECTS, BUCKET_ARN])))
    error = raises("AccessDenied", 403, s3.get, reader, BUCKET, "missing.txt")
    assert error.message == "Access Denied"
    raises("AccessDenied", 403, s3.s3, reader, "HeadObject", Bucket=BUCKET, Key="missing.txt")
    raises("NoSuchKey", 404, s3.get, lister, BUCKET, "missing.txt")
    raises("NoSuchKey", 404, s3.get, prod, BUCKET, "missing.txt")


def test_delete_objects_reports_denied_keys_one_by_one(s3: S3World, prod: Caller) -> None:
    s3.put(prod, BUCKET, "tmp/a", b"")
    ivan = s3.user(PROD, "ivan", doc(allow("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/tmp/*")))
    result = s3.s3(ivan, "DeleteObjects", Bucket=BUCKET, Delete={"Objects": [{"Key": "tmp/a"}, {"Key": "report.csv"}]})
    assert result == {
        "Deleted": [{"Key": "tmp/a"}],
        "Errors": [{"Key": "report.csv", "Code": "AccessDenied", "Message": "Access Denied"}],
    }
    assert can_get(s3, prod)


def test_copy_needs_get_on_the_source_and_put_on_the_destination(s3: S3World, prod: Caller) -> None:
    jan = s3.user(DEV, "jan", S3_ALL)
    s3.bucket(jan, "dev-bucket")
    raises(
        "AccessDenied", 403, s3.s3, jan, "CopyObject", Bucket="dev-bucket", Key="c", CopySource=f"{BUCKET}/report.csv"
    )
    set_policy(s3, prod, grant({"AWS": DEV}, "s3:GetObject", OBJECTS))
    s3.s3(jan, "CopyObject", Bucket="dev-bucket", Key="c", CopySource=f"{BUCKET}/report.csv")
    assert s3.get(jan, "dev-bucket", "c")[1] == b"q1,q2\n"
    raises("AccessDenied", 403, s3.s3, jan, "CopyObject", Bucket=BUCKET, Key="c", CopySource="dev-bucket/c")


def test_denials_are_recorded_for_explanation(s3: S3World, prod: Caller) -> None:
    alice = s3.user(DEV, "alice", S3_ALL)
    assert not can_get(s3, alice)
    with s3.services.store.transaction(write=False) as tx:
        events = [e for e in tx.find(AuditEvent) if e.operation == "GetObject" and e.principal_arn == alice.arn]
    assert len(events) == 1
    event = events[0]
    assert (event.service, event.error_code, event.error_message) == ("s3", "AccessDenied", "Access Denied")
    assert (event.action, event.resource, event.decision) == (
        "s3:GetObject",
        f"{OBJECTS[:-1]}report.csv",
        "ImplicitDeny",
    )
    assert event.gate == "resource" and json.loads(event.explanation)


# -- bucket policies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (grant("*", "s3:GetObject", "*"), "Policy has invalid resource"),
        (grant("*", "s3:GetObject", "arn:aws:s3:::another-bucket/*"), "Policy has invalid resource"),
        (grant("*", "s3:GetObject", "arn:aws:s3:::prod-data-2/*"), "Policy has invalid resource"),
        (grant("*", "iam:CreateUser", OBJECTS), "Policy has invalid action"),
        (grant({"AWS": f"arn:aws:iam::{DEV}:user/nobody"}, "s3:GetObject", OBJECTS), "Invalid principal in policy"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJECTS}, "Missing required field Principal"),
        (
            grant({"AWS": "arn:aws:iam::1234:user/x*"}, "s3:GetObject", OBJECTS),
            'Invalid principal in policy: "AWS":"arn:aws:iam::1234:user/x*"',
        ),
    ],
)
def test_bucket_policy_validation(s3: S3World, prod: Caller, statement: dict[str, Any], message: str) -> None:
    error = raises("MalformedPolicy", 400, set_policy, s3, prod, statement)
    assert error.message == message


def test_bucket_policy_that_is_not_json(s3: S3World, prod: Caller) -> None:
    error = raises("MalformedPolicy", 400, s3.s3, prod, "PutBucketPolicy", Bucket=BUCKET, Policy="{not json")
    assert error.message


def test_bucket_policy_lifecycle(s3: S3World, prod: Caller) -> None:
    error = raises("NoSuchBucketPolicy", 404, s3.s3, prod, "GetBucketPolicy", Bucket=BUCKET)
    assert error.message == "The bucket policy does not exist" and error.extra == {"BucketName": BUCKET}
    policy = bucket_policy(grant({"AWS": DEV}, "s3:GetObject", OBJECTS))
    s3.s3(prod, "PutBucketPolicy", Bucket=BUCKET, Policy=policy)
    assert s3.s3(prod, "GetBucketPolicy", Bucket=BUCKET) == {"Policy": policy}
    assert s3.s3(prod, "DeleteBucketPolicy", Bucket=BUCKET) == {}
    raises("NoSuchBucketPolicy", 404, s3.s3, prod, "GetBucketPolicy", Bucket=BUCKET)
    raises("NoSuchBucket", 404, s3.s3, prod, "GetBucketPolicy", Bucket="no-bucket-here")


def test_only_the_owner_account_manages_the_policy_and_its_root_always_may(s3: S3World, prod: Caller) -> None:
    set_policy(
        s3,
        prod,
        grant({"AWS": DEV}, "s3:GetBucketPolicy", BUCKET_ARN),
        grant("*", ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:GetBucketPolicy"], BUCKET_ARN, effect="Deny"),
    )
    alice = s3.user(DEV, "alice", S3_ALL)
    raises("AccessDenied", 403, s3.s3, alice, "GetBucketPolicy", Bucket=BUCKET)  # the Deny still applies
    carol = s3.user(PROD, "carol", S3_ALL)
    raises("AccessDenied", 403, s3.s3, carol, "DeleteBucketPolicy", Bucket=BUCKET)
    assert "Policy" in s3.s3(prod, "GetBucketPolicy", Bucket=BUCKET)  # the owner's root is never locked out
    set_policy(s3, prod, grant({"AWS": DEV}, "s3:GetBucketPolicy", BUCKET_ARN))
    error = raises("MethodNotAllowed", 405, s3.s3, alice, "GetBucketPolicy", Bucket=BUCKET)
    assert error.message == "The specified method is not allowed against this resource."


# -- live revocation ---------------------------------------------------------------------------------------


def test_revoking_older_sessions_denies_them_on_their_next_s3_call(s3: S3World, prod: Caller) -> None:
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}, "Action": "sts:AssumeRole"})
    s3.role(PROD, "Reader", trust, doc(allow("s3:GetObject", OBJECTS)))
    role_arn = f"arn:aws:iam::{PROD}:role/Reader"
    user = s3.user(DEV, "kim", doc(allow("sts:AssumeRole", role_arn)))

    def session() -> Caller:
        credentials = s3.call(user, "sts", "AssumeRole", RoleArn=role_arn, RoleSessionName="s")["Credentials"]
        return s3.session_caller(credentials)

    old = session()
    assert can_get(s3, old)
    s3.clock.advance(5)
    services = s3.services
    with services.store.transaction() as tx:
        call = CallContext(tx, prod, s3.clock, services.ids, services.sealer, "r", "iam", "Revoke", s3.clock.now())
        document = revoke_older_sessions(call, "Reader")
        with pytest.raises(NoSuchEntity):
            revoke_older_sessions(call, "NoSuchRole")
    assert json.loads(document)["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"].endswith("Z")
    assert not can_get(s3, old)
    new = session()
    assert can_get(s3, new)
    with s3.services.store.transaction(write=False) as tx:
        stored = tx.get(InlinePolicy, PROD, "role", "Reader", REVOKE_POLICY_NAME)
    assert stored is not None and stored.document == document


# -- every operation authorizes ----------------------------------------------------------------------------


def _params_for_every_operation(upload: str) -> dict[str, dict[str, Any]]:
    obj = {"Bucket": BUCKET, "Key": "report.csv"}
    bucket = {"Bucket": BUCKET}
    return {
        "ListBuckets": {},
        "CreateBucket": {"Bucket": "brand-new-bucket"},
        "HeadBucket": bucket,
        "DeleteBucket": bucket,
        "GetBucketLocation": bucket,
        "PutBucketPolicy": {**bucket, "Policy": bucket_policy(grant("*", "s3:GetObject", OBJECTS))},
        "GetBucketPolicy": bucket,
        "DeleteBucketPolicy": bucket,
        "PutBucketTagging": {**bucket, "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        "GetBucketTagging": bucket,
        "DeleteBucketTagging": bucket,
        "ListObjects": bucket,
        "ListObjectsV2": bucket,
        "ListObjectVersions": bucket,
        "ListMultipartUploads": bucket,
        "PutObject": {**obj, "Body": io.BytesIO(b"x")},
        "GetObject": obj,
        "HeadObject": obj,
        "GetObjectAttributes": {**obj, "ObjectAttributes": ["ETag"]},
        "GetObjectAcl": obj,
        "GetBucketAcl": bucket,
        "GetBucketVersioning": bucket,
        "GetBucketEncryption": bucket,
        "GetBucketOwnershipControls": bucket,
        "DeleteObject": obj,
        "DeleteObjects": {**bucket, "Delete": {"Objects": [{"Key": "report.csv"}]}},
        "CopyObject": {"Bucket": BUCKET, "Key": "copy", "CopySource": f"{BUCKET}/report.csv"},
        "PutObjectTagging": {**obj, "Tagging": {"TagSet": []}},
        "GetObjectTagging": obj,
        "DeleteObjectTagging": obj,
        "CreateMultipartUpload": obj,
        "UploadPart": {**obj, "UploadId": upload, "PartNumber": 1, "Body": io.BytesIO(b"x")},
        "CompleteMultipartUpload": {
            **obj,
            "UploadId": upload,
            "MultipartUpload": {"Parts": [{"PartNumber": 1, "ETag": '"x"'}]},
        },
        "AbortMultipartUpload": {**obj, "UploadId": upload},
        "ListParts": {**obj, "UploadId": upload},
        "GetPublicAccessBlock": bucket,
        "PutPublicAccessBlock": {**bucket, "PublicAccessBlockConfiguration": {"BlockPublicPolicy": False}},
        "DeletePublicAccessBlock": bucket,
    }


@pytest.mark.parametrize("account", [DEV, PROD])
def test_every_s3_operation_is_authorized_by_the_engine(s3: S3World, prod: Caller, account: str) -> None:
    upload = s3.s3(prod, "CreateMultipartUpload", Bucket=BUCKET, Key="report.csv")["UploadId"]
    nobody = s3.user(account, "nobody")
    table = _params_for_every_operation(upload)
    assert set(table) == {name for service, name in REGISTRY if service == "s3"}
    refused = {name: params for name, params in table.items() if name != "DeleteObjects"}
    for operation, params in refused.items():
        raises("AccessDenied", 403, s3.s3, nobody, operation, **params)
        with s3.services.store.transaction(write=False) as tx:
            event = max(tx.find(AuditEvent, principal_arn=nobody.arn), key=lambda e: int(e.request_id[4:]))
        assert (event.operation, event.decision) == (operation, "ImplicitDeny"), operation
    result = s3.s3(nobody, "DeleteObjects", **table["DeleteObjects"])
    assert result == {"Errors": [{"Key": "report.csv", "Code": "AccessDenied", "Message": "Access Denied"}]}
    assert s3.get(prod, BUCKET, "report.csv")[1] == b"q1,q2\n"
    assert len(s3.stored_blobs()) == 1  # only report.csv: the refused writes left no blobs behind


def test_writes_and_reads_reach_the_trail_through_the_audit_writer(
    store: Store, clock: FixedClock, tmp_path: Path
) -> None:
    """With the background writer on, events are stored in batches: a flush makes every call's event
    visible, the write's with its outcome."""
    blobs = BlobStore(tmp_path / "objects")
    services = Services(store, Sealer({"k": b"\x07" * 32}, "k"), clock, seeded(7), blobs=blobs, background_audit=True)
    s3 = S3World(services, clock, blobs)
    prod = s3.account(PROD)
    s3.bucket(prod, BUCKET)
    s3.put(prod, BUCKET, "report.csv", b"q1,q2\n")
    s3.get(prod, BUCKET, "report.csv")
    services.audit.flush()
    with store.transaction(write=False) as tx:
        mine = [e for e in tx.find(AuditEvent) if e.principal_arn == prod.arn]
    operations = sorted(e.operation for e in mine if e.service == "s3")
    assert operations == ["CreateBucket", "GetObject", "PutObject"]
    assert all(e.decision == "Allowed" for e in mine)


def test_a_put_authorized_on_a_bucket_read_ahead_is_checked_again_if_the_bucket_changed(
    s3: S3World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PutObject authorizes before its write transaction begins; inside it, a bucket that changed meanwhile
    (here: its policy now denies, or it is gone) is authorized again, or the put fails."""
    prod = s3.account(PROD)
    dev = s3.user(DEV, "writer", S3_ALL)
    s3.bucket(prod, BUCKET, policy=bucket_policy(grant({"AWS": DEV}, "s3:PutObject", OBJECTS)))
    s3.put(dev, BUCKET, "allowed.csv")
    with s3.services.store.transaction(write=False) as tx:
        stale = tx.get(Bucket, BUCKET)
    assert stale is not None
    monkeypatch.setattr(access, "get_ahead", lambda _tx, _kind, _name: stale)
    with s3.services.store.transaction() as tx:
        tx.put(replace(stale, policy=""))  # the grant is withdrawn after the read ahead
    raises("AccessDenied", 403, s3.put, dev, BUCKET, "late.csv")
    s3.s3(prod, "DeleteObject", Bucket=BUCKET, Key="allowed.csv")
    s3.s3(prod, "DeleteBucket", Bucket=BUCKET)
    raises("NoSuchBucket", 404, s3.put, prod, BUCKET, "gone.csv")


def test_a_bucket_changed_after_the_read_ahead_is_caught_by_its_generation(
    s3: S3World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read ahead is real here; the grant is withdrawn by a commit right after it. Inside the write the
    bucket table's generation has moved, so the bucket is read again and the put is refused. The control
    shows the refusal comes from that check: trusting the read ahead would have let the put through."""
    prod = s3.account(PROD)
    dev = s3.user(DEV, "writer", S3_ALL)
    s3.bucket(prod, BUCKET, policy=bucket_policy(grant({"AWS": DEV}, "s3:PutObject", OBJECTS)))
    s3.put(dev, BUCKET, "allowed.csv")
    real_get_ahead = access.get_ahead

    def then_withdraw(tx: Any, kind: Any, name: str) -> Any:
        found = real_get_ahead(tx, kind, name)
        with s3.services.store.transaction() as writer:
            writer.put(replace(found, policy=""))
        return found

    monkeypatch.setattr(access, "get_ahead", then_withdraw)
    raises("AccessDenied", 403, s3.put, dev, BUCKET, "late.csv")
    with s3.services.store.transaction() as writer:  # grant again for the control
        writer.put(
            replace(writer.get(Bucket, BUCKET), policy=bucket_policy(grant({"AWS": DEV}, "s3:PutObject", OBJECTS)))
        )
    monkeypatch.setattr(access, "unchanged_since_ahead", lambda *_args: True)
    s3.put(dev, BUCKET, "trusted.csv")  # the stale grant was trusted: the check above is what refused
