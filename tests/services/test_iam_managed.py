"""Managed policies through the service path: create, read, versions, delete, list, tags, AWS managed policies,
and authorization on the policy ARN (edits apply to the next call)."""

from __future__ import annotations

import json
from typing import Any

import botocore.handlers
import botocore.parsers
import pytest
from services_support import DEV, NOW, PROD, World, allow, doc

from rolegate.errors import AccessDenied
from rolegate.protocol.models import operation_model
from rolegate.protocol.query import serialize_query_result
from rolegate.services.context import Caller
from rolegate.services.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
)
from rolegate.store.records import ManagedPolicy, Role

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
POLICY = doc(allow("s3:GetObject", "arn:aws:s3:::bucket/*"))


def _arn(name: str, path: str = "/", account: str = DEV) -> str:
    return f"arn:aws:iam::{account}:policy{path}{name}"


def _create(world: World, caller: Caller, name: str = "reader", document: str = POLICY, **extra: Any) -> str:
    result = world.call(caller, "iam", "CreatePolicy", PolicyName=name, PolicyDocument=document, **extra)
    return str(result["Policy"]["Arn"])


def _wire(operation: str, result: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """The XML body rolegate sends, and what boto3 makes of it (json_decode_policies included)."""
    model = operation_model("iam", operation)
    assert model is not None
    body = serialize_query_result(model, result, "req-1")
    parser = botocore.parsers.create_parser("query")
    parsed = parser.parse({"body": body, "headers": {}, "status_code": 200}, model.output_shape)
    botocore.handlers.json_decode_policies(parsed, model)
    return body, parsed


def test_create_policy_returns_the_policy_with_version_v1(world: World) -> None:
    root = world.account(DEV)
    result = world.call(
        root, "iam", "CreatePolicy", PolicyName="reader", PolicyDocument=POLICY, Path="/team/", Description="d"
    )
    policy = result["Policy"]
    assert policy["Arn"] == _arn("reader", "/team/")
    assert policy["PolicyId"].startswith("ANPA") and len(policy["PolicyId"]) == 21
    assert (policy["PolicyName"], policy["Path"], policy["DefaultVersionId"]) == ("reader", "/team/", "v1")
    assert (policy["AttachmentCount"], policy["PermissionsBoundaryUsageCount"], policy["IsAttachable"]) == (0, 0, True)
    assert policy["CreateDate"] == policy["UpdateDate"] == NOW
    fetched = world.call(root, "iam", "GetPolicy", PolicyArn=policy["Arn"])["Policy"]
    assert fetched == {**policy, "Description": "d"}
    version = world.call(root, "iam", "GetPolicyVersion", PolicyArn=policy["Arn"], VersionId="v1")["PolicyVersion"]
    assert version == {"VersionId": "v1", "IsDefaultVersion": True, "CreateDate": NOW, "Document": POLICY}


def test_policy_documents_are_url_encoded_on_the_wire(world: World) -> None:
    root = world.account(DEV)
    document = json.dumps({"Version": "2012-10-17", "Statement": [allow("s3:GetObject", "arn:aws:s3:::a b/%")]})
    arn = _create(world, root, document=document)
    result = world.call(root, "iam", "GetPolicyVersion", PolicyArn=arn, VersionId="v1")
    body, parsed = _wire("GetPolicyVersion", result)
    assert b"<Document>%7B%22Version%22%3A%20%222012-10-17%22" in body
    assert parsed["PolicyVersion"]["Document"] == json.loads(document)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "Syntax errors in policy."),
        (doc({"Effect": "Allow", "Action": "s3:*"}), "Policy statement must contain resources."),
        (doc({**allow("s3:*"), "Principal": "*"}), "Has prohibited field Principal"),
    ],
)
def test_create_policy_rejects_malformed_documents(world: World, document: str, message: str) -> None:
    root = world.account(DEV)
    with pytest.raises(MalformedPolicyDocument) as error:
        world.call(root, "iam", "CreatePolicy", PolicyName="p", PolicyDocument=document)
    assert error.value.message == message


def test_create_policy_size_is_counted_without_whitespace(world: World) -> None:
    root = world.account(DEV)
    resources = [f"arn:aws:s3:::bucket-{n:04d}/*" for n in range(250)]
    spacious = json.dumps({"Version": "2012-10-17", "Statement": [allow("s3:GetObject", resources[:150])]}, indent=8)
    assert len(spacious) > 6144
    _create(world, root, "spacious", spacious)
    too_big = doc(allow("s3:GetObject", resources))
    with pytest.raises(LimitExceeded) as error:
        world.call(root, "iam", "CreatePolicy", PolicyName="big", PolicyDocument=too_big)
    assert error.value.message == "Cannot exceed quota for PolicySize: 6144"


def test_policy_names_are_unique_per_account_regardless_of_case_and_path(world: World) -> None:
    root = world.account(DEV)
    _create(world, root, "Reader")
    with pytest.raises(EntityAlreadyExists) as error:
        world.call(root, "iam", "CreatePolicy", PolicyName="reader", PolicyDocument=POLICY, Path="/other/")
    assert error.value.message == "A policy called reader already exists. Duplicate names are not allowed."
    prod = world.account(PROD)
    assert _create(world, prod, "Reader") == _arn("Reader", account=PROD)


def test_customer_managed_policy_quota(world: World) -> None:
    root = world.account(DEV)
    with world.services.store.transaction() as tx:
        for n in range(1500):
            tx.insert(ManagedPolicy(_arn(f"p{n}"), DEV, f"p{n}", f"ANPA{n:017d}", "/", "v1", NOW, NOW))
    with pytest.raises(LimitExceeded) as error:
        world.call(root, "iam", "CreatePolicy", PolicyName="one-more", PolicyDocument=POLICY)
    assert error.value.message == "Cannot exceed quota for PoliciesPerAccount: 1500"


def test_get_policy_errors(world: World) -> None:
    root = world.account(DEV)
    with pytest.raises(NoSuchEntity) as missing:
        world.call(root, "iam", "GetPolicy", PolicyArn=_arn("nope"))
    assert missing.value.message == f"Policy {_arn('nope')} was not found."
    with pytest.raises(InvalidInput) as invalid:
        world.call(root, "iam", "GetPolicy", PolicyArn="arn:aws:iam::111111111111:role/not-a-policy")
    assert invalid.value.message == "ARN arn:aws:iam::111111111111:role/not-a-policy is not valid."
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "GetPolicy", PolicyArn="arn:aws:iam::aws:policy/NoSuchAwsPolicy")


def test_another_accounts_policy_is_out_of_reach(world: World) -> None:
    prod = world.account(PROD)
    arn = _create(world, prod, "secret")
    root = world.account(DEV)
    with pytest.raises(AccessDenied):
        world.call(root, "iam", "GetPolicy", PolicyArn=arn)


def test_aws_managed_policies_are_readable_and_read_only(world: World) -> None:
    root = world.account(DEV)
    policy = world.call(root, "iam", "GetPolicy", PolicyArn=READ_ONLY)["Policy"]
    assert policy["PolicyName"] == "ReadOnlyAccess" and policy["IsAttachable"] is True
    assert policy["DefaultVersionId"].startswith("v")
    version_id = policy["DefaultVersionId"]
    version = world.call(root, "iam", "GetPolicyVersion", PolicyArn=READ_ONLY, VersionId=version_id)["PolicyVersion"]
    assert version["IsDefaultVersion"] is True and "s3:Get*" in version["Document"]
    versions = world.call(root, "iam", "ListPolicyVersions", PolicyArn=READ_ONLY)["Versions"]
    assert [v["VersionId"] for v in versions] == [version_id]
    with pytest.raises(NoSuchEntity) as error:
        world.call(root, "iam", "GetPolicyVersion", PolicyArn=READ_ONLY, VersionId="v1")
    assert error.value.message == f"Policy {READ_ONLY} version v1 does not exist or is not attachable."
    for operation, extra in (
        ("DeletePolicy", {}),
        ("CreatePolicyVersion", {"PolicyDocument": POLICY}),
        ("SetDefaultPolicyVersion", {"VersionId": version_id}),
        ("TagPolicy", {"Tags": [{"Key": "k", "Value": "v"}]}),
    ):
        with pytest.raises(AccessDenied) as denied:
            world.call(root, "iam", operation, PolicyArn=READ_ONLY, **extra)
        assert denied.value.message == (
            f"User: arn:aws:iam::{DEV}:root is not authorized to perform: iam:{operation} on resource: {READ_ONLY}"
        )


def test_service_linked_role_policies_are_not_attachable(world: World) -> None:
    root = world.account(DEV)
    arn = "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"
    assert world.call(root, "iam", "GetPolicy", PolicyArn=arn)["Policy"]["IsAttachable"] is False


def test_policy_versions_lifecycle(world: World) -> None:
    root = world.account(DEV)
    arn = _create(world, root)
    world.clock.advance(60)
    v2 = world.call(root, "iam", "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=doc(allow("s3:*")))
    assert v2["PolicyVersion"] == {"VersionId": "v2", "IsDefaultVersion": False, "CreateDate": world.clock.now()}
    v3 = world.call(root, "iam", "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=POLICY, SetAsDefault=True)
    assert v3["PolicyVersion"]["IsDefaultVersion"] is True
    policy = world.call(root, "iam", "GetPolicy", PolicyArn=arn)["Policy"]
    assert (policy["DefaultVersionId"], policy["UpdateDate"]) == ("v3", world.clock.now())
    listed = world.call(root, "iam", "ListPolicyVersions", PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in listed] == [("v3", True), ("v2", False), ("v1", False)]
    assert all("Document" not in v for v in listed)
    world.call(root, "iam", "SetDefaultPolicyVersion", PolicyArn=arn, VersionId="v2")
    assert world.call(root, "iam", "GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    with pytest.raises(DeleteConflict) as conflict:
        world.call(root, "iam", "DeletePolicyVersion", PolicyArn=arn, VersionId="v2")
    assert conflict.value.message == "Cannot delete the default version of a policy."
    world.call(root, "iam", "DeletePolicyVersion", PolicyArn=arn, VersionId="v3")
    with pytest.raises(NoSuchEntity) as missing:
        world.call(root, "iam", "SetDefaultPolicyVersion", PolicyArn=arn, VersionId="v3")
    assert missing.value.message == f"Policy {arn} version v3 does not exist or is not attachable."
    v4 = world.call(root, "iam", "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=POLICY)
    assert v4["PolicyVersion"]["VersionId"] == "v4"  # version ids are never reused


def test_a_policy_keeps_at_most_five_versions(world: World) -> None:
    root = world.account(DEV)
    arn = _create(world, root)
    for _ in range(4):
        world.call(root, "iam", "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=POLICY)
    with pytest.raises(LimitExceeded) as error:
        world.call(root, "iam", "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=POLICY)
    assert error.value.message == (
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version."
    )
    world.call(root, "iam", "DeletePolicyVersion", PolicyArn=arn, VersionId="v2")
    world.call(root, "iam", "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=POLICY)


def test_create_policy_version_validates_the_document(world: World) -> None:
    root = world.account(DEV)
    arn = _create(world, root)
    with pytest.raises(MalformedPolicyDocument) as error:
        world.call(root, "iam", "CreatePolicyVersion", PolicyArn=arn, PolicyDocument='{"Statement": []')
    assert error.value.message == "Syntax errors in policy."


def test_delete_policy_conflicts_then_success(world: World) -> None:
    root = world.account(DEV)
    arn = _create(world, root)
    world.user(DEV, "alice")
    world.attach(DEV, "user", "alice", arn)
    with pytest.raises(DeleteConflict) as attached:
        world.call(root, "iam", "DeletePolicy", PolicyArn=arn)
    assert attached.value.message == "Cannot delete a policy attached to entities."
    world.call(root, "iam", "DetachUserPolicy", UserName="alice", PolicyArn=arn)
    world.call(root, "iam", "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=POLICY)
    with pytest.raises(DeleteConflict) as versions:
        world.call(root, "iam", "DeletePolicy", PolicyArn=arn)
    assert versions.value.message == (
        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. "
        "The default version is deleted with the policy."
    )
    world.call(root, "iam", "DeletePolicyVersion", PolicyArn=arn, VersionId="v2")
    world.call(root, "iam", "DeletePolicy", PolicyArn=arn)
    with pytest.raises(NoSuchEntity):
        world.call(root, "iam", "GetPolicy", PolicyArn=arn)
    assert _create(world, root) == arn  # the name is free again


def test_a_policy_in_use_as_a_boundary_cannot_be_deleted(world: World) -> None:
    root = world.account(DEV)
    arn = _create(world, root)
    world.role(DEV, "bounded", doc(), permissions_boundary=arn)
    policy = world.call(root, "iam", "GetPolicy", PolicyArn=arn)["Policy"]
    assert (policy["AttachmentCount"], policy["PermissionsBoundaryUsageCount"]) == (0, 1)
    with pytest.raises(DeleteConflict):
        world.call(root, "iam", "DeletePolicy", PolicyArn=arn)


def test_attachment_count_counts_users_groups_and_roles_of_this_account(world: World) -> None:
    root = world.account(DEV)
    arn = _create(world, root)
    world.user(DEV, "alice", groups=("devs",))
    world.role(DEV, "r", doc())
    for kind, owner in (("user", "alice"), ("group", "devs"), ("role", "r")):
        world.attach(DEV, kind, owner, arn)
        world.attach(DEV, kind, owner, READ_ONLY)
    world.account(PROD)
    world.user(PROD, "other")
    world.attach(PROD, "user", "other", READ_ONLY)
    assert world.call(root, "iam", "GetPolicy", PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    assert world.call(root, "iam", "GetPolicy", PolicyArn=READ_ONLY)["Policy"]["AttachmentCount"] == 3


def test_list_policies_scopes_filters_and_pages(world: World) -> None:
    root = world.account(DEV)
    first = _create(world, root, "alpha", Path="/team/")
    second = _create(world, root, "beta")
    _create(world, root, "gamma")
    world.role(DEV, "r", doc(), permissions_boundary=second)
    world.attach(DEV, "role", "r", first)
    world.attach(DEV, "role", "r", READ_ONLY)

    def names(**params: Any) -> list[str]:
        return [p["PolicyName"] for p in world.call(root, "iam", "ListPolicies", **params)["Policies"]]

    assert names(Scope="Local") == ["alpha", "beta", "gamma"]
    assert names(Scope="Local", PathPrefix="/team/") == ["alpha"]
    assert names(OnlyAttached=True) == ["alpha", "beta", "ReadOnlyAccess"]
    assert names(OnlyAttached=True, PolicyUsageFilter="PermissionsPolicy") == ["alpha", "ReadOnlyAccess"]
    assert names(OnlyAttached=True, PolicyUsageFilter="PermissionsBoundary") == ["beta"]
    assert names(Scope="AWS", OnlyAttached=True) == ["ReadOnlyAccess"]
    assert "AdministratorAccess" in names(Scope="AWS", MaxItems=1000)
    listed = world.call(root, "iam", "ListPolicies", Scope="Local")["Policies"]
    assert all("Description" not in p and "Tags" not in p for p in listed)
    page = world.call(root, "iam", "ListPolicies", Scope="Local", MaxItems=2)
    assert page["IsTruncated"] is True
    rest = world.call(root, "iam", "ListPolicies", Scope="Local", MaxItems=2, Marker=page["Marker"])
    assert [p["PolicyName"] for p in rest["Policies"]] == ["gamma"] and rest["IsTruncated"] is False
    everything = world.call(root, "iam", "ListPolicies", MaxItems=1000)
    assert everything["IsTruncated"] is True  # the AWS catalog alone has more than 1000 policies


def test_policy_tags(world: World) -> None:
    root = world.account(DEV)
    arn = _create(world, root, Tags=[{"Key": "team", "Value": "a"}])
    world.call(
        root, "iam", "TagPolicy", PolicyArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "TEAM", "Value": "b"}]
    )
    tags = world.call(root, "iam", "ListPolicyTags", PolicyArn=arn)["Tags"]
    assert tags == [{"Key": "env", "Value": "dev"}, {"Key": "TEAM", "Value": "b"}]
    assert world.call(root, "iam", "GetPolicy", PolicyArn=arn)["Policy"]["Tags"] == tags
    world.call(root, "iam", "UntagPolicy", PolicyArn=arn, TagKeys=["team"])
    assert world.call(root, "iam", "ListPolicyTags", PolicyArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(InvalidInput):
        world.call(root, "iam", "TagPolicy", PolicyArn=arn, Tags=[{"Key": "aws:reserved", "Value": "x"}])
    assert world.call(root, "iam", "ListPolicyTags", PolicyArn=READ_ONLY)["Tags"] == []


def test_policy_operations_are_authorized_on_the_policy_arn(world: World) -> None:
    root = world.account(DEV)
    arn = _create(world, root, "reader")
    other = _create(world, root, "other")
    alice = world.user(DEV, "alice", doc(allow(["iam:GetPolicy", "iam:GetPolicyVersion"], arn)))
    assert world.call(alice, "iam", "GetPolicy", PolicyArn=arn)["Policy"]["Arn"] == arn
    with pytest.raises(AccessDenied) as denied:
        world.call(alice, "iam", "GetPolicy", PolicyArn=other)
    assert denied.value.message == (
        f"User: arn:aws:iam::{DEV}:user/alice is not authorized to perform: iam:GetPolicy on resource: {other} "
        "because no identity-based policy allows the iam:GetPolicy action"
    )
    with pytest.raises(AccessDenied):
        world.call(alice, "iam", "DeletePolicy", PolicyArn=arn)
    with pytest.raises(AccessDenied):
        world.call(alice, "iam", "GetPolicy", PolicyArn=READ_ONLY)
    bob = world.user(DEV, "bob", doc(allow("iam:GetPolicy", "arn:aws:iam::aws:policy/*")))
    assert world.call(bob, "iam", "GetPolicy", PolicyArn=READ_ONLY)["Policy"]["PolicyName"] == "ReadOnlyAccess"
    with pytest.raises(AccessDenied):
        world.call(alice, "iam", "CreatePolicy", PolicyName="mine", PolicyDocument=POLICY)


def test_a_new_default_version_applies_to_the_next_call(world: World) -> None:
    root = world.account(DEV)
    arn = _create(world, root, document=doc(allow(["iam:GetPolicy", "iam:ListPolicies"])))
    alice = world.user(DEV, "alice")
    world.attach(DEV, "user", "alice", arn)
    world.call(alice, "iam", "GetPolicy", PolicyArn=arn)
    world.call(root, "iam", "CreatePolicyVersion", PolicyArn=arn, PolicyDocument=doc(allow("iam:ListPolicies")))
    world.call(alice, "iam", "GetPolicy", PolicyArn=arn)  # v2 is not the default yet
    world.call(root, "iam", "SetDefaultPolicyVersion", PolicyArn=arn, VersionId="v2")
    with pytest.raises(AccessDenied):
        world.call(alice, "iam", "GetPolicy", PolicyArn=arn)
    world.call(alice, "iam", "ListPolicies", Scope="Local")


def test_permissions_boundary_must_name_a_policy_of_this_account(world: World) -> None:
    prod = world.account(PROD)
    foreign = _create(world, prod, "foreign")
    root = world.account(DEV)
    with pytest.raises(NoSuchEntity) as error:
        world.call(
            root, "iam", "CreateRole", RoleName="r", AssumeRolePolicyDocument=_trust(), PermissionsBoundary=foreign
        )
    assert error.value.message == f"Policy {foreign} does not exist or is not attachable."
    world.call(
        root, "iam", "CreateRole", RoleName="r", AssumeRolePolicyDocument=_trust(), PermissionsBoundary=READ_ONLY
    )
    with world.services.store.transaction() as tx:
        role = tx.get(Role, DEV, "r")
        assert role is not None and role.permissions_boundary == READ_ONLY


def _trust() -> str:
    return doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}, "Action": "sts:AssumeRole"})
