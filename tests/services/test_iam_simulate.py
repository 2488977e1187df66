"""The policy simulator: its decisions equal what enforcement decides for the same principal and inputs
(identity, explicit deny, boundary, groups, roles, SCPs, trust policies), plus its result details and the
context-key operations."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from services_support import DEV, MGMT, PROD, World, allow, doc

from rolegate.errors import AccessDenied, AwsError
from rolegate.services.context import Caller
from rolegate.services.iam.errors import InvalidInput, NoSuchEntity
from rolegate.store.records import Account, Organization, OrgPolicy, OrgPolicyAttachment, User

ROLE_ARN = f"arn:aws:iam::{DEV}:role/worker"
ALICE = f"arn:aws:iam::{DEV}:user/alice"
SCP = "SERVICE_CONTROL_POLICY"


def _deny(action: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def _simulate(world: World, caller: Caller, source: str, actions: list[str], **params: Any) -> list[dict[str, Any]]:
    result = world.call(caller, "iam", "SimulatePrincipalPolicy", PolicySourceArn=source, ActionNames=actions, **params)
    assert result["IsTruncated"] is False
    return list(result["EvaluationResults"])


def _decision(world: World, caller: Caller, source: str, action: str, resource: str = "*", **params: Any) -> str:
    results = _simulate(world, caller, source, [action], ResourceArns=[resource], **params)
    return str(results[0]["EvalDecision"])


def _enforced(world: World, caller: Caller, operation: str, **params: Any) -> str:
    """What enforcement decides: allowed, or the kind of AccessDenied (errors after authorization count as allowed)."""
    try:
        world.call(caller, "iam" if operation != "AssumeRole" else "sts", operation, **params)
    except AccessDenied as denied:
        return "explicitDeny" if "explicit deny" in denied.message else "implicitDeny"
    except AwsError:
        return "allowed"
    return "allowed"


def _policy(world: World, root: Caller, name: str, document: str) -> str:
    return str(world.call(root, "iam", "CreatePolicy", PolicyName=name, PolicyDocument=document)["Policy"]["Arn"])


def test_user_decisions_agree_with_enforcement(world: World) -> None:
    root = world.account(DEV)
    target = _policy(world, root, "target", doc(allow("s3:GetObject")))
    other = _policy(world, root, "other", doc(allow("s3:GetObject")))
    alice = world.user(DEV, "alice", doc(allow(["iam:ListPolicies", "iam:GetPolicy"]), _deny("iam:GetPolicy", other)))
    cases = [
        ("ListPolicies", "*", {}, "allowed"),
        ("GetPolicy", target, {"PolicyArn": target}, "allowed"),
        ("GetPolicy", other, {"PolicyArn": other}, "explicitDeny"),
        ("DeletePolicy", target, {"PolicyArn": target}, "implicitDeny"),
    ]
    for operation, resource, params, decision in cases:
        assert _decision(world, root, ALICE, f"iam:{operation}", resource) == decision, operation
        assert _enforced(world, alice, operation, **params) == decision, operation


def test_group_policies_and_boundaries_agree_with_enforcement(world: World) -> None:
    root = world.account(DEV)
    boundary = _policy(world, root, "boundary", doc(allow(["iam:ListPolicies", "iam:GetPolicy"])))
    target = _policy(world, root, "target", doc(allow("s3:GetObject")))
    alice = world.user(DEV, "alice", groups=("devs",))
    world.inline(DEV, "group", "devs", "all", doc(allow("iam:*")))
    with world.services.store.transaction() as tx:
        user = tx.get(User, DEV, "alice")
        assert user is not None
        tx.put(replace(user, permissions_boundary=boundary))
    results = _simulate(world, root, ALICE, ["iam:ListPolicies", "iam:DeletePolicy"])
    assert [r["EvalDecision"] for r in results] == ["allowed", "implicitDeny"]
    assert [r["PermissionsBoundaryDecisionDetail"] for r in results] == [
        {"AllowedByPermissionsBoundary": True},
        {"AllowedByPermissionsBoundary": False},
    ]
    assert results[0]["MatchedStatements"] == [
        {
            "SourcePolicyId": "all",
            "SourcePolicyType": "group",
            "StartPosition": {"Line": 1, "Column": 41},
            "EndPosition": {"Line": 1, "Column": 95},
        }
    ]
    assert _enforced(world, alice, "ListPolicies") == "allowed"
    assert _enforced(world, alice, "DeletePolicy", PolicyArn=target) == "implicitDeny"
    # a boundary given in the request replaces the stored one, as in AWS
    wider = doc(allow("iam:*"))
    assert _decision(world, root, ALICE, "iam:DeletePolicy", PermissionsBoundaryPolicyInputList=[wider]) == "allowed"
    exclusion = [{"PolicyType": "permission-boundary"}]
    assert _decision(world, root, ALICE, "iam:DeletePolicy", PolicyExclusionList=exclusion) == "allowed"


def test_role_decisions_agree_with_its_sessions(world: World) -> None:
    root = world.account(DEV)
    trust = doc({"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "sts:AssumeRole"})
    world.role(
        DEV,
        "worker",
        trust,
        doc(allow("iam:ListPolicies"), _deny("iam:ListPolicies", Condition={"Bool": {"aws:SecureTransport": "true"}})),
    )
    lister = _policy(world, root, "reader", doc(allow("iam:GetPolicy")))
    world.call(root, "iam", "AttachRolePolicy", RoleName="worker", PolicyArn=lister)
    alice = world.user(DEV, "alice", doc(allow("sts:AssumeRole", ROLE_ARN)))
    creds = world.call(alice, "sts", "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="s")["Credentials"]
    session = world.session_caller(creds)
    context = [{"ContextKeyName": "aws:SecureTransport", "ContextKeyValues": ["false"], "ContextKeyType": "boolean"}]
    for operation, resource, params in (
        ("ListPolicies", "*", {}),
        ("GetPolicy", lister, {"PolicyArn": lister}),
        ("DeletePolicy", lister, {"PolicyArn": lister}),
    ):
        simulated = _decision(world, root, ROLE_ARN, f"iam:{operation}", resource, ContextEntries=context)
        assert simulated == _enforced(world, session, operation, **params), operation
    results = _simulate(world, root, ROLE_ARN, ["iam:GetPolicy"], ResourceArns=[lister])
    assert results[0]["MatchedStatements"][0]["SourcePolicyId"] == "reader"
    assert results[0]["MatchedStatements"][0]["SourcePolicyType"] == "user-managed"
    # the SecureTransport deny is evaluated only when the key is known
    missing = _simulate(world, root, ROLE_ARN, ["iam:ListPolicies"])[0]
    assert (missing["EvalDecision"], missing["MissingContextValues"]) == ("allowed", ["aws:SecureTransport"])


def test_trust_policy_as_resource_policy_agrees_with_assume_role(world: World) -> None:
    root = world.account(DEV)
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": [ALICE, f"arn:aws:iam::{DEV}:user/mallory"]},
            "Action": "sts:AssumeRole",
        },
        {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{DEV}:user/mallory"}, "Action": "sts:AssumeRole"},
    )
    world.role(DEV, "worker", trust)
    grant = doc(allow("sts:AssumeRole", ROLE_ARN))
    callers = {name: world.user(DEV, name, grant) for name in ("alice", "carol", "mallory")}
    expected = {"alice": "allowed", "carol": "implicitDeny", "mallory": "explicitDeny"}
    for name, caller in callers.items():
        source = f"arn:aws:iam::{DEV}:user/{name}"
        given = _simulate(world, root, source, ["sts:AssumeRole"], ResourceArns=[ROLE_ARN], ResourcePolicy=trust)
        stored = _simulate(world, root, source, ["sts:AssumeRole"], ResourceArns=[ROLE_ARN])
        enforced = _enforced(world, caller, "AssumeRole", RoleArn=ROLE_ARN, RoleSessionName="s")
        assert given[0]["EvalDecision"] == stored[0]["EvalDecision"] == enforced == expected[name], name
        assert given[0]["EvalDecisionDetails"]["trust"] == expected[name]
    mallory = _simulate(
        world,
        root,
        f"arn:aws:iam::{DEV}:user/mallory",
        ["sts:AssumeRole"],
        ResourceArns=[ROLE_ARN],
        ResourcePolicy=trust,
    )
    assert [(s["SourcePolicyId"], s["SourcePolicyType"]) for s in mallory[0]["MatchedStatements"]] == [
        ("ResourcePolicy", "resource")
    ]
    stored_alice = _simulate(world, root, ALICE, ["sts:AssumeRole"], ResourceArns=[ROLE_ARN])
    assert [s["SourcePolicyId"] for s in stored_alice[0]["MatchedStatements"]] == ["AssumeRolePolicyDocument"]


def test_service_control_policies_agree_with_enforcement(world: World) -> None:
    root = world.account(DEV)
    target = _policy(world, root, "target", doc(allow("s3:GetObject")))
    alice = world.user(DEV, "alice", doc(allow("iam:*")))
    with world.services.store.transaction() as tx:
        tx.insert(Organization("o-example", MGMT, "m@example.com", "r-root", enabled_policy_types=(SCP,)))
        account = tx.get(Account, DEV)
        assert account is not None
        tx.put(replace(account, parent_id="r-root"))
        tx.insert(OrgPolicy("p-full", SCP, "FullAWSAccess", "", doc(allow("*"))))
        tx.insert(OrgPolicy("p-deny", SCP, "DenyGetPolicy", "", doc(_deny("iam:GetPolicy"))))
        for policy, target_id in (("p-full", "r-root"), ("p-full", DEV), ("p-deny", DEV)):
            tx.insert(OrgPolicyAttachment(policy, target_id))
    results = _simulate(world, root, ALICE, ["iam:ListPolicies", "iam:GetPolicy"])
    assert [r["EvalDecision"] for r in results] == ["allowed", "explicitDeny"]
    assert [r["OrganizationsDecisionDetail"]["AllowedByOrganizations"] for r in results] == [True, False]
    assert results[1]["MatchedStatements"][0]["SourcePolicyId"] == "DenyGetPolicy"
    assert _enforced(world, alice, "ListPolicies") == "allowed"
    assert _enforced(world, alice, "GetPolicy", PolicyArn=target) == "explicitDeny"


def test_every_action_and_resource_pair_is_evaluated(world: World) -> None:
    root = world.account(DEV)
    world.user(DEV, "alice", doc(allow("s3:GetObject", "arn:aws:s3:::bucket/*")))
    results = _simulate(
        world,
        root,
        ALICE,
        ["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::bucket/a", "arn:aws:s3:::other/b"],
    )
    assert [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"]) for r in results] == [
        ("s3:GetObject", "arn:aws:s3:::bucket/a", "allowed"),
        ("s3:GetObject", "arn:aws:s3:::other/b", "implicitDeny"),
        ("s3:PutObject", "arn:aws:s3:::bucket/a", "implicitDeny"),
        ("s3:PutObject", "arn:aws:s3:::other/b", "implicitDeny"),
    ]
    star = _simulate(world, root, ALICE, ["s3:GetObject"])[0]
    assert star["EvalResourceName"] == "*" and "EvalDecisionDetails" not in star
    page = world.call(
        root, "iam", "SimulatePrincipalPolicy", PolicySourceArn=ALICE, ActionNames=["s3:A", "s3:B", "s3:C"], MaxItems=2
    )
    assert [r["EvalActionName"] for r in page["EvaluationResults"]] == ["s3:A", "s3:B"] and page["IsTruncated"]
    rest = world.call(
        root,
        "iam",
        "SimulatePrincipalPolicy",
        PolicySourceArn=ALICE,
        ActionNames=["s3:A", "s3:B", "s3:C"],
        Marker=page["Marker"],
    )
    assert [r["EvalActionName"] for r in rest["EvaluationResults"]] == ["s3:C"]


def test_matched_statements_name_the_policy_and_its_position(world: World) -> None:
    root = world.account(DEV)
    world.user(DEV, "alice")
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "A", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
                {"Sid": "B", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
            ],
        },
        indent=2,
    )
    results = _simulate(world, root, ALICE, ["s3:ListBucket", "s3:DeleteBucket"], PolicyInputList=[document])
    assert results[0]["MatchedStatements"] == [
        {
            "SourcePolicyId": "PolicyInputList.1",
            "SourcePolicyType": "none",
            "StartPosition": {"Line": 4, "Column": 5},
            "EndPosition": {"Line": 9, "Column": 5},
        }
    ]
    assert results[1]["EvalDecision"] == "explicitDeny"
    assert results[1]["MatchedStatements"][0]["StartPosition"] == {"Line": 10, "Column": 5}
    assert results[1]["MatchedStatements"][0]["EndPosition"] == {"Line": 15, "Column": 5}


def test_context_entries_and_missing_context_values(world: World) -> None:
    root = world.account(DEV)
    conditions = {
        "IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
        "ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]},
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
        "NumericLessThan": {"s3:max-keys": "10"},
        "StringEquals": {"aws:username": "alice"},
    }
    world.user(DEV, "alice", doc(allow("s3:ListBucket", "*", Condition=conditions)))
    entries = [
        {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["203.0.113.9"], "ContextKeyType": "ip"},
        {"ContextKeyName": "aws:TagKeys", "ContextKeyValues": ["env", "team"], "ContextKeyType": "stringList"},
        {"ContextKeyName": "aws:MultiFactorAuthPresent", "ContextKeyValues": ["TRUE"], "ContextKeyType": "boolean"},
        {"ContextKeyName": "s3:max-keys", "ContextKeyValues": ["5"], "ContextKeyType": "numeric"},
    ]
    full = _simulate(world, root, ALICE, ["s3:ListBucket"], ContextEntries=entries)[0]
    assert (full["EvalDecision"], full["MissingContextValues"]) == ("allowed", [])
    partial = _simulate(world, root, ALICE, ["s3:ListBucket"], ContextEntries=entries[:2])[0]
    assert partial["EvalDecision"] == "implicitDeny"
    assert partial["MissingContextValues"] == ["aws:MultiFactorAuthPresent", "s3:max-keys"]
    wrong_ip = [{**entries[0], "ContextKeyValues": ["198.51.100.1"]}, *entries[1:]]
    assert (
        _simulate(world, root, ALICE, ["s3:ListBucket"], ContextEntries=wrong_ip)[0]["EvalDecision"] == "implicitDeny"
    )
    as_bob = _simulate(
        world, root, ALICE, ["s3:ListBucket"], ContextEntries=entries, CallerArn=f"arn:aws:iam::{DEV}:user/bob"
    )
    assert as_bob[0]["EvalDecision"] == "implicitDeny"  # aws:username follows the simulated caller


def test_simulate_custom_policy(world: World) -> None:
    root = world.account(DEV)
    identity = doc(allow(["s3:GetObject", "s3:PutObject"]))
    result = world.call(
        root, "iam", "SimulateCustomPolicy", PolicyInputList=[identity], ActionNames=["s3:GetObject", "s3:DeleteObject"]
    )
    assert [r["EvalDecision"] for r in result["EvaluationResults"]] == ["allowed", "implicitDeny"]
    boundary = doc(allow("s3:GetObject"))
    scps = [
        {"ServiceControlPolicyInputList": [doc(allow("*"))]},
        {"ServiceControlPolicyInputList": [doc(allow("*")), doc(_deny("s3:GetObject"))]},
    ]
    bounded = world.call(
        root,
        "iam",
        "SimulateCustomPolicy",
        PolicyInputList=[identity],
        PermissionsBoundaryPolicyInputList=[boundary],
        ActionNames=["s3:GetObject", "s3:PutObject"],
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in bounded] == ["allowed", "implicitDeny"]
    with_scps = world.call(
        root,
        "iam",
        "SimulateCustomPolicy",
        PolicyInputList=[identity],
        OrderedOrganizationPolicyInputList=scps,
        ActionNames=["s3:GetObject", "s3:PutObject"],
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in with_scps] == ["explicitDeny", "allowed"]
    source = with_scps[0]["MatchedStatements"][0]["SourcePolicyId"]
    assert source == "OrderedOrganizationPolicyInputList.2.ServiceControlPolicyInputList.2"


def test_cross_account_resource_policy(world: World) -> None:
    root = world.account(DEV)
    bucket_policy = doc(
        {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*"}
    )
    common: dict[str, Any] = {
        "ActionNames": ["s3:GetObject"],
        "ResourceArns": ["arn:aws:s3:::shared/k"],
        "ResourcePolicy": bucket_policy,
        "ResourceOwner": f"arn:aws:iam::{PROD}:root",
        "CallerArn": ALICE,
    }
    granted = world.call(root, "iam", "SimulateCustomPolicy", PolicyInputList=[doc(allow("s3:*"))], **common)
    result = granted["EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed"
    assert result["EvalDecisionDetails"] == {"resource": "allowed", "identity": "allowed"}
    identity_only = world.call(
        root, "iam", "SimulateCustomPolicy", PolicyInputList=[doc(allow("s3:ListBucket"))], **common
    )
    assert identity_only["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    same_account = {**common, "ResourceOwner": f"arn:aws:iam::{DEV}:root"}
    resource_only = world.call(
        root, "iam", "SimulateCustomPolicy", PolicyInputList=[doc(allow("s3:ListBucket"))], **same_account
    )
    assert resource_only["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_invalid_inputs(world: World) -> None:
    root = world.account(DEV)
    world.user(DEV, "alice")
    with pytest.raises(InvalidInput) as syntax:
        world.call(root, "iam", "SimulateCustomPolicy", PolicyInputList=["{oops"], ActionNames=["s3:GetObject"])
    assert syntax.value.message == "Syntax errors in policy."
    with pytest.raises(InvalidInput) as principal:
        world.call(
            root,
            "iam",
            "SimulatePrincipalPolicy",
            PolicySourceArn=ALICE,
            ActionNames=["s3:GetObject"],
            PolicyInputList=[doc({**allow("s3:*"), "Principal": "*"})],
        )
    assert principal.value.message == "Has prohibited field Principal"
    with pytest.raises(InvalidInput) as resource_policy:
        world.call(
            root,
            "iam",
            "SimulateCustomPolicy",
            PolicyInputList=[doc(allow("s3:*"))],
            ActionNames=["s3:GetObject"],
            ResourcePolicy=doc(allow("s3:*")),
        )
    assert resource_policy.value.message == "Missing required field Principal"
    with pytest.raises(NoSuchEntity) as missing:
        world.call(
            root,
            "iam",
            "SimulatePrincipalPolicy",
            PolicySourceArn=f"arn:aws:iam::{DEV}:role/ghost",
            ActionNames=["s3:A"],
        )
    assert missing.value.message == "The role with name ghost cannot be found."
    with pytest.raises(InvalidInput) as bad_arn:
        world.call(
            root, "iam", "SimulatePrincipalPolicy", PolicySourceArn=f"arn:aws:iam::{DEV}:policy/p", ActionNames=["s3:A"]
        )
    assert bad_arn.value.message == f"ARN arn:aws:iam::{DEV}:policy/p is not valid."


def test_policy_exclusion_list(world: World) -> None:
    root = world.account(DEV)
    world.user(DEV, "alice", doc(allow("s3:GetObject")))
    arn = _policy(world, root, "managed", doc(allow("s3:PutObject")))
    world.attach(DEV, "user", "alice", arn)
    exclusions = [
        {"PolicyType": "user-managed", "PolicyArn": arn},
        {
            "PolicyType": "inline",
            "InlinePolicyIdentifier": {"PolicyName": "inline0", "AttachmentType": "user", "AttachmentName": "ALICE"},
        },
    ]
    before = _simulate(world, root, ALICE, ["s3:GetObject", "s3:PutObject"])
    after = _simulate(world, root, ALICE, ["s3:GetObject", "s3:PutObject"], PolicyExclusionList=exclusions)
    assert [r["EvalDecision"] for r in before] == ["allowed", "allowed"]
    assert [r["EvalDecision"] for r in after] == ["implicitDeny", "implicitDeny"]


def test_simulation_is_authorized_on_the_source_and_records_no_decision(world: World) -> None:
    world.account(DEV)
    world.user(DEV, "alice")
    auditor = world.user(
        DEV, "auditor", doc(allow("iam:SimulatePrincipalPolicy", ALICE), allow("iam:SimulateCustomPolicy"))
    )
    world.call(auditor, "iam", "SimulatePrincipalPolicy", PolicySourceArn=ALICE, ActionNames=["s3:GetObject"])
    with pytest.raises(AccessDenied) as denied:
        world.call(
            auditor,
            "iam",
            "SimulatePrincipalPolicy",
            PolicySourceArn=f"arn:aws:iam::{DEV}:user/auditor",
            ActionNames=["s3:A"],
        )
    assert "iam:SimulatePrincipalPolicy on resource: arn:aws:iam::111111111111:user/auditor" in denied.value.message
    result = world.call(
        auditor, "iam", "SimulateCustomPolicy", PolicyInputList=[doc(allow("s3:*"))], ActionNames=["s3:GetObject"]
    )
    assert result["EvaluationResults"][0]["EvalDecision"] == "allowed"
    with pytest.raises(AccessDenied):
        world.call(auditor, "iam", "GetContextKeysForCustomPolicy", PolicyInputList=[doc(allow("s3:*"))])


def test_context_keys_of_policies(world: World) -> None:
    root = world.account(DEV)
    first = doc(
        allow(
            "s3:GetObject",
            "*",
            Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "StringLike": {"s3:prefix": "a*"}},
        )
    )
    second = doc(
        allow(
            "s3:PutObject",
            "*",
            Condition={"NotIpAddress": {"AWS:SOURCEIP": "10.1.0.0/16"}, "Bool": {"aws:SecureTransport": "true"}},
        )
    )
    custom = world.call(root, "iam", "GetContextKeysForCustomPolicy", PolicyInputList=[first, second])
    assert custom == {"ContextKeyNames": ["aws:SecureTransport", "aws:SourceIp", "s3:prefix"]}
    world.user(DEV, "alice", first, groups=("devs",))
    world.inline(
        DEV, "group", "devs", "g", doc(allow("s3:*", "*", Condition={"StringEquals": {"aws:PrincipalTag/team": "x"}}))
    )
    extra = doc(allow("ec2:*", "*", Condition={"StringEquals": {"ec2:Region": "eu-west-1"}}))
    principal = world.call(
        root, "iam", "GetContextKeysForPrincipalPolicy", PolicySourceArn=ALICE, PolicyInputList=[extra]
    )
    assert principal == {"ContextKeyNames": ["aws:PrincipalTag/team", "aws:SourceIp", "ec2:Region", "s3:prefix"]}
    with pytest.raises(InvalidInput):
        world.call(root, "iam", "GetContextKeysForCustomPolicy", PolicyInputList=["not json"])
