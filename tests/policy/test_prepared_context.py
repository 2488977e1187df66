"""The engine's shortcuts for servers: a context built from prebuilt pieces equals the plain one (also with its
keys merged only when read), and the action index behind `candidates` picks exactly the statements a full
scan would, however its caches churn."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from rolegate.policy import Principal, PrincipalKind, build_context, compile_policy, parse_policy, principal_from_arn
from rolegate.policy import compile as compile_module
from rolegate.policy.context import ContextValue, KeysOnRead, context_from_base, principal_keys, to_strings

PRINCIPALS = [
    principal_from_arn("arn:aws:iam::111111111111:user/team/alice", unique_id="AIDAEXAMPLE"),
    principal_from_arn(
        "arn:aws:sts::111111111111:assumed-role/Dev/s",
        entity_arn="arn:aws:iam::111111111111:role/Dev",
        unique_id="AROA1",
    ),
    principal_from_arn("arn:aws:sts::111111111111:federated-user/bob"),
    principal_from_arn("arn:aws:iam::111111111111:root"),
    Principal(PrincipalKind.ANONYMOUS),
    Principal(PrincipalKind.SERVICE, service="lambda.amazonaws.com"),
]
TAGS: list[dict[str, str]] = [{}, {"Team": "data", "cost-center": "7"}]
KEY_SETS: list[dict[str, ContextValue]] = [
    {},
    {"aws:SourceIp": "10.0.0.1", "s3:prefix": ["a", "b"], "aws:SecureTransport": True, "n": 3},
    {"AWS:PrincipalTag/team": "override", "aws:username": "other", "aws:ResourceAccount": "222222222222"},
]


@pytest.mark.parametrize(
    ("principal", "tags", "keys", "resource_account"),
    list(itertools.product(PRINCIPALS, TAGS, KEY_SETS, ["", "333333333333"])),
)
def test_prebuilt_pieces_give_the_plain_context(
    principal: Principal, tags: dict[str, str], keys: dict[str, ContextValue], resource_account: str
) -> None:
    resource = "arn:aws:s3:::bucket/key"
    request: dict[str, ContextValue] = {"aws:CurrentTime": "2026-01-01T00:00:00Z", "aws:ViaAWSService": False}
    with_request = build_context(
        principal, "s3:GetObject", resource, resource_account=resource_account, keys={**request, **keys}, tags=tags
    )
    prepared = {name.lower(): to_strings(value) for name, value in request.items()}
    derived = principal_keys(principal, tags)
    built = build_context(
        principal,
        "s3:GetObject",
        resource,
        resource_account=resource_account,
        keys=keys,
        derived=derived,
        prepared=prepared,
    )
    assert built == with_request
    assert dict(built.keys) == dict(with_request.keys)
    assert derived == principal_keys(principal, tags)  # the shared pieces are copied, never changed


def policy(statements: list[dict[str, Any]]) -> Any:
    parsed = parse_policy({"Version": "2012-10-17", "Statement": statements})
    assert parsed.ok and parsed.policy is not None
    return compile_policy(parsed.policy, "p")


STATEMENTS: list[dict[str, Any]] = [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"},
    {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "arn:aws:s3:::logs-*/*"},
    {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"},
    {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"},
    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::home/${aws:username}/*"},
    {"Effect": "Allow", "Action": "iam:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    {"Effect": "Allow", "Action": "s3:getobject", "Resource": ["arn:aws:s3:::bucket/a*", "arn:aws:s3:::x"]},
]
ACTIONS = ["s3:getobject", "s3:putobject", "s3:listbucket", "iam:createuser", "sts:assumerole"]
RESOURCES = [
    "arn:aws:s3:::bucket/key",
    "arn:aws:s3:::bucket/abc",
    "arn:aws:s3:::logs-1/x",
    "arn:aws:s3:::secret/s",
    "arn:aws:s3:::home/alice/f",
    "arn:aws:s3:::x",
    "*",
]


@pytest.mark.parametrize("cache_size", [1, 3, 4096])
def test_candidates_are_the_statements_a_full_scan_finds(monkeypatch: pytest.MonkeyPatch, cache_size: int) -> None:
    monkeypatch.setattr(compile_module, "CANDIDATE_CACHE_SIZE", cache_size)
    monkeypatch.setattr(compile_module, "ACTION_CACHE_SIZE", cache_size)
    compiled = compile_module.CompiledPolicy(policy(STATEMENTS).policy, "p")  # a fresh instance: empty caches
    for _ in range(2):
        for action, resource in itertools.product(ACTIONS, RESOURCES):
            expected = tuple(
                s for s in compiled.statements if s.action_matches(action) and s.fixed_resource_matches(resource)
            )
            assert compiled.candidates(action, resource) == expected, (action, resource)


def test_only_statements_with_nothing_left_to_check_are_unconditional() -> None:
    compiled = policy(
        [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::home/${aws:username}/*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"Bool": {"aws:X": "true"}}},
        ]
    )
    assert [s.unconditional for s in compiled.statements] == [True, False, False]
    trust = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
        }
    )
    assert trust.policy is not None
    assert not compile_policy(trust.policy, "trust").statements[0].unconditional


@pytest.mark.parametrize("keys", KEY_SETS)
def test_keys_merged_on_read_are_the_keys_context_from_base_holds(keys: dict[str, ContextValue]) -> None:
    base = {"aws:principaltype": ("User",), "aws:sourceip": ("192.0.2.1",), "aws:username": ("alice",)}
    calls: list[int] = []

    def make_base() -> dict[str, tuple[str, ...]]:
        calls.append(1)
        return base

    given = dict(keys)
    lazy = KeysOnRead(make_base, given)
    given["aws:late"] = "added after the decision"  # copied at once: changes afterwards do not count
    assert calls == []
    plain = context_from_base(PRINCIPALS[0], "s3:GetObject", "arn:aws:s3:::b/k", "111111111111", base, keys).keys
    assert list(lazy.items()) == list(plain.items())
    assert lazy == plain and plain == lazy and dict(lazy) == plain
    assert repr(lazy) == repr(plain)
    assert lazy.get("aws:username") == plain.get("aws:username") and lazy.get("aws:nothing") is None
    assert "aws:sourceip" in lazy and "aws:late" not in lazy
    assert len(lazy) == len(plain)
    assert calls == [1]  # merged once, then kept
