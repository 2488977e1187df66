"""Inline policies of users, groups and roles: put/get/list/delete, IAM's wording, the aggregate size quotas,
service-linked roles, and edits taking effect on the next call of a live session."""

from __future__ import annotations

import json
from typing import Any

import botocore.handlers
import botocore.parsers
import pytest
from services_support import DEV, World, allow, doc

from rolegate.errors import AccessDenied
from rolegate.protocol.models import operation_model
from rolegate.protocol.query import serialize_query_result
from rolegate.services.context import Caller
from rolegate.services.iam.errors import LimitExceeded, MalformedPolicyDocument, NoSuchEntity, UnmodifiableEntity
from rolegate.store.records import Group

ROLE_TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}, "Action": "sts:AssumeRole"})
KINDS = [("User", "UserName", "user"), ("Group", "GroupName", "group"), ("Role", "RoleName", "role")]
POLICY = doc(allow("s3:GetObject", "arn:aws:s3:::bucket/*"))


def _owner(world: World, kind: str, name: str = "owner") -> None:
    if kind == "User":
        world.user(DEV, name)
    elif kind == "Group":
        with world.services.store.transaction() as tx:
            tx.insert(Group(DEV, name, world.services.ids.unique_id("AGPA"), "/", world.clock.now()))
    else:
        world.role(DEV, name, ROLE_TRUST)


def _padded(size: int) -> str:
    """A valid identity policy of exactly `size` characters without whitespace."""
    base = doc(allow("s3:GetObject", "arn:aws:s3:::b/"))
    compact = len(json.dumps(json.loads(base), separators=(",", ":")))
    return doc(allow("s3:GetObject", "arn:aws:s3:::b/" + "x" * (size - compact)))


@pytest.mark.parametrize(("kind", "param", "_lower"), KINDS)
def test_put_get_list_delete(world: World, kind: str, param: str, _lower: str) -> None:
    root = world.account(DEV)
    _owner(world, kind, "Owner")
    world.call(root, "iam", f"Put{kind}Policy", **{param: "owner"}, PolicyName="b", PolicyDocument=POLICY)
    world.call(root, "iam", f"Put{kind}Policy", **{param: "Owner"}, PolicyName="a", PolicyDocument=POLICY)
    got = world.call(root, "iam", f"Get{kind}Policy", **{param: "owner"}, PolicyName="b")
    assert got == {param: "Owner", "PolicyName": "b", "PolicyDocument": POLICY}
    listed = world.call(root, "iam", f"List{kind}Policies", **{param: "Owner"})
    assert listed == {"PolicyNames": ["a", "b"], "IsTruncated": False}
    page = world.call(root, "iam", f"List{kind}Policies", **{param: "Owner"}, MaxItems=1)
    assert page["PolicyNames"] == ["a"] and page["IsTruncated"] is True
    rest = world.call(root, "iam", f"List{kind}Policies", **{param: "Owner"}, MaxItems=1, Marker=page["Marker"])
    assert rest["PolicyNames"] == ["b"]
    replaced = doc(allow("s3:*"))
    world.call(root, "iam", f"Put{kind}Policy", **{param: "Owner"}, PolicyName="b", PolicyDocument=replaced)
    assert world.call(root, "iam", f"Get{kind}Policy", **{param: "Owner"}, PolicyName="b")["PolicyDocument"] == replaced
    world.call(root, "iam", f"Delete{kind}Policy", **{param: "Owner"}, PolicyName="b")
    assert world.call(root, "iam", f"List{kind}Policies", **{param: "Owner"})["PolicyNames"] == ["a"]


@pytest.mark.parametrize(("kind", "param", "lower"), KINDS)
def test_missing_policy_and_missing_owner(world: World, kind: str, param: str, lower: str) -> None:
    root = world.account(DEV)
    _owner(world, kind)
    for operation in (f"Get{kind}Policy", f"Delete{kind}Policy"):
        with pytest.raises(NoSuchEntity) as missing:
            world.call(root, "iam", operation, **{param: "owner"}, PolicyName="nope")
        assert missing.value.message == f"The {lower} policy with name nope cannot be found."
    with pytest.raises(NoSuchEntity) as no_owner:
        world.call(root, "iam", f"Put{kind}Policy", **{param: "ghost"}, PolicyName="p", PolicyDocument=POLICY)
    assert no_owner.value.message == f"The {lower} with name ghost cannot be found."
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", f"List{kind}Policies", **{param: "ghost"})


@pytest.mark.parametrize(("kind", "param", "_lower"), KINDS)
def test_documents_are_validated_as_identity_policies(world: World, kind: str, param: str, _lower: str) -> None:
    root = world.account(DEV)
    _owner(world, kind)
    cases = [
        ("[1, 2", "Syntax errors in policy."),
        (doc({"Effect": "Allow", "Action": "s3:*"}), "Policy statement must contain resources."),
        (doc({**allow("s3:*"), "Principal": {"AWS": "*"}}), "Has prohibited field Principal"),
        (doc(allow("s3GetObject")), "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ]
    for document, message in cases:
        with pytest.raises(MalformedPolicyDocument) as error:
            world.call(root, "iam", f"Put{kind}Policy", **{param: "owner"}, PolicyName="p", PolicyDocument=document)
        assert error.value.message == message


@pytest.mark.parametrize(
    ("kind", "param", "lower", "quota"), [(*k, q) for k, q in zip(KINDS, (2048, 5120, 10240), strict=True)]
)
def test_aggregate_inline_size_quota(world: World, kind: str, param: str, lower: str, quota: int) -> None:
    root = world.account(DEV)
    _owner(world, kind)
    half = quota // 2
    put: dict[str, Any] = {param: "owner"}
    world.call(root, "iam", f"Put{kind}Policy", **put, PolicyName="one", PolicyDocument=_padded(half))
    world.call(root, "iam", f"Put{kind}Policy", **put, PolicyName="two", PolicyDocument=_padded(quota - half))
    # replacing a policy counts its new size only, and whitespace never counts
    spacious = json.dumps(json.loads(_padded(quota - half)), indent=12)
    world.call(root, "iam", f"Put{kind}Policy", **put, PolicyName="two", PolicyDocument=spacious)
    with pytest.raises(LimitExceeded) as error:
        world.call(root, "iam", f"Put{kind}Policy", **put, PolicyName="two", PolicyDocument=_padded(quota - half + 1))
    assert error.value.message == f"Maximum policy size of {quota} bytes exceeded for {lower} owner"
    with pytest.raises(LimitExceeded):
        world.call(root, "iam", f"Put{kind}Policy", **put, PolicyName="three", PolicyDocument=_padded(100))


def test_a_single_role_policy_may_exceed_the_managed_policy_size(world: World) -> None:
    root = world.account(DEV)
    world.role(DEV, "big", ROLE_TRUST)
    world.call(root, "iam", "PutRolePolicy", RoleName="big", PolicyName="p", PolicyDocument=_padded(9000))


def test_service_linked_roles_are_protected(world: World) -> None:
    root = world.account(DEV)
    world.role(DEV, "AWSServiceRoleForX", ROLE_TRUST, POLICY, path="/aws-service-role/x.amazonaws.com/")
    message = (
        "Cannot perform the operation on the protected role 'AWSServiceRoleForX' - this role is only modifiable by AWS"
    )
    with pytest.raises(UnmodifiableEntity) as put:
        world.call(root, "iam", "PutRolePolicy", RoleName="AWSServiceRoleForX", PolicyName="p", PolicyDocument=POLICY)
    assert put.value.message == message
    with pytest.raises(UnmodifiableEntity):
        world.call(root, "iam", "DeleteRolePolicy", RoleName="AWSServiceRoleForX", PolicyName="inline0")
    got = world.call(root, "iam", "GetRolePolicy", RoleName="AWSServiceRoleForX", PolicyName="inline0")
    assert got["PolicyDocument"] == POLICY


def test_get_role_policy_document_is_url_encoded_on_the_wire(world: World) -> None:
    root = world.account(DEV)
    world.role(DEV, "r", ROLE_TRUST)
    world.call(root, "iam", "PutRolePolicy", RoleName="r", PolicyName="p", PolicyDocument=POLICY)
    result = world.call(root, "iam", "GetRolePolicy", RoleName="r", PolicyName="p")
    model = operation_model("iam", "GetRolePolicy")
    assert model is not None
    body = serialize_query_result(model, result, "req-1")
    assert b"<PolicyDocument>%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22" in body
    parsed = botocore.parsers.create_parser("query").parse(
        {"body": body, "headers": {}, "status_code": 200}, model.output_shape
    )
    botocore.handlers.json_decode_policies(parsed, model)
    assert parsed["PolicyDocument"] == json.loads(POLICY)


def _session(world: World, root: Caller, *policies: str) -> Caller:
    world.role(DEV, "worker", ROLE_TRUST, *policies)
    alice = world.user(DEV, "alice", doc(allow("sts:AssumeRole", f"arn:aws:iam::{DEV}:role/worker")))
    credentials = world.call(alice, "sts", "AssumeRole", RoleArn=f"arn:aws:iam::{DEV}:role/worker", RoleSessionName="s")
    return world.session_caller(credentials["Credentials"])


def test_deleting_a_role_policy_denies_the_sessions_next_call(world: World) -> None:
    root = world.account(DEV)
    session = _session(world, root, doc(allow("iam:ListPolicies")))
    world.call(session, "iam", "ListPolicies", Scope="Local")
    world.call(root, "iam", "DeleteRolePolicy", RoleName="worker", PolicyName="inline0")
    with pytest.raises(AccessDenied) as denied:
        world.call(session, "iam", "ListPolicies", Scope="Local")
    assert denied.value.message == (
        f"User: arn:aws:sts::{DEV}:assumed-role/worker/s is not authorized to perform: iam:ListPolicies on resource: * "
        "because no identity-based policy allows the iam:ListPolicies action"
    )
    world.call(root, "iam", "PutRolePolicy", RoleName="worker", PolicyName="back", PolicyDocument=doc(allow("iam:*")))
    world.call(session, "iam", "ListPolicies", Scope="Local")


def test_revoke_older_sessions_is_an_ordinary_inline_policy(world: World) -> None:
    root = world.account(DEV)
    session = _session(world, root, doc(allow("iam:ListPolicies")))
    world.clock.advance(5)
    revoke = doc(
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": world.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")}},
        }
    )
    world.call(
        root, "iam", "PutRolePolicy", RoleName="worker", PolicyName="AWSRevokeOlderSessions", PolicyDocument=revoke
    )
    with pytest.raises(AccessDenied) as denied:
        world.call(session, "iam", "ListPolicies")
    assert denied.value.message.endswith("with an explicit deny in an identity-based policy")
    assert world.call(root, "iam", "ListRolePolicies", RoleName="worker")["PolicyNames"] == [
        "AWSRevokeOlderSessions",
        "inline0",
    ]


def test_group_policies_apply_to_members_on_their_next_call(world: World) -> None:
    root = world.account(DEV)
    alice = world.user(DEV, "alice", groups=("devs",))
    with pytest.raises(AccessDenied):
        world.call(alice, "iam", "ListPolicies")
    world.call(
        root, "iam", "PutGroupPolicy", GroupName="devs", PolicyName="p", PolicyDocument=doc(allow("iam:ListPolicies"))
    )
    world.call(alice, "iam", "ListPolicies", Scope="Local")


def test_inline_operations_are_authorized_on_the_owner(world: World) -> None:
    world.account(DEV)
    world.role(DEV, "mine", ROLE_TRUST)
    world.role(DEV, "theirs", ROLE_TRUST)
    alice = world.user(DEV, "alice", doc(allow("iam:PutRolePolicy", f"arn:aws:iam::{DEV}:role/mine")))
    world.call(alice, "iam", "PutRolePolicy", RoleName="mine", PolicyName="p", PolicyDocument=POLICY)
    with pytest.raises(AccessDenied) as denied:
        world.call(alice, "iam", "PutRolePolicy", RoleName="theirs", PolicyName="p", PolicyDocument=POLICY)
    assert f"on resource: arn:aws:iam::{DEV}:role/theirs" in denied.value.message
