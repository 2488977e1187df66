"""Constraint violations in AWS's wording, from the model's own limits; golden messages for key cases."""

from __future__ import annotations

from typing import Any

import pytest
from protocol_support import golden, operation
from test_json_codec import REQUESTS as JSON_REQUESTS
from test_query_requests import CASES as QUERY_CASES

from rolegate.errors import AwsError, ValidationError
from rolegate.protocol import check_json_input, check_query_input, service_model, violations
from rolegate.protocol.constraints import compile_pattern, java_length

TRUST = '{"Version":"2012-10-17","Statement":[]}'
ROLE_ARN = "arn:aws:iam::111122223333:role/deploy"

MESSAGE_CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("role name too long", "iam", "CreateRole", {"RoleName": "r" * 65, "AssumeRolePolicyDocument": TRUST}),
    ("bad path", "iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": TRUST, "Path": "no-slashes"}),
    (
        "max session duration below 3600",
        "iam",
        "CreateRole",
        {"RoleName": "r", "AssumeRolePolicyDocument": TRUST, "MaxSessionDuration": 3599},
    ),
    ("missing role name", "iam", "CreateRole", {"AssumeRolePolicyDocument": TRUST}),
    ("missing everything", "iam", "PutRolePolicy", {}),
    ("enum", "iam", "UpdateAccessKey", {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "Status": "Bogus"}),
    ("sensitive value withheld", "iam", "CreateLoginProfile", {"UserName": "alice", "Password": "p" * 129}),
    (
        "several at once",
        "sts",
        "AssumeRole",
        {
            "RoleArn": ROLE_ARN,
            "RoleSessionName": "has space and is much too long for a role session name, really it is",
            "DurationSeconds": 50000,
            "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, {"arn": "short"}],
            "Tags": [{"Key": "ok", "Value": "fine"}, {"Key": "bad#key", "Value": "v"}, {"Key": "k"}],
            "TransitiveTagKeys": [f"k{i}" for i in range(51)],
            "TokenCode": "12a",
        },
    ),
]


def _message(service: str, name: str, params: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        check_query_input(operation(service, name), params)
    return f"{caught.value.code}: {caught.value.message}"


def test_golden_validation_messages() -> None:
    text = "".join(f"## {title}\n{_message(svc, name, params)}\n\n" for title, svc, name, params in MESSAGE_CASES)
    golden("validation-messages.txt", text)


def test_single_violation_form() -> None:
    message = _message("iam", "CreateRole", MESSAGE_CASES[0][3])
    assert message == (
        "ValidationError: 1 validation error detected: Value '" + "r" * 65 + "' at 'roleName' failed to satisfy "
        "constraint: Member must have length less than or equal to 64"
    )


def test_missing_required_member_is_not_null_violation() -> None:
    assert _message("iam", "CreateRole", MESSAGE_CASES[3][3]) == (
        "ValidationError: 1 validation error detected: Value null at 'roleName' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_nested_paths_and_count() -> None:
    found = violations(operation("sts", "AssumeRole"), MESSAGE_CASES[7][3])
    paths = [v.path for v in found]
    assert "policyArns.2.member.arn" in paths
    assert "tags.2.member.key" in paths
    assert "tags.3.member.value" in paths
    assert "transitiveTagKeys" in paths
    message = _message("sts", "AssumeRole", MESSAGE_CASES[7][3])
    assert message.startswith(f"ValidationError: {len(found)} validation errors detected: ")
    assert message.count("; ") == len(found) - 1


@pytest.mark.parametrize(
    ("service", "name", "params"), QUERY_CASES, ids=[f"{c[0]}.{c[1]}.{i}" for i, c in enumerate(QUERY_CASES)]
)
def test_valid_query_inputs_have_no_violations(service: str, name: str, params: dict[str, Any]) -> None:
    assert violations(operation(service, name), params) == []
    check_query_input(operation(service, name), params)


@pytest.mark.parametrize(("name", "params"), JSON_REQUESTS, ids=[f"{r[0]}.{i}" for i, r in enumerate(JSON_REQUESTS)])
def test_valid_json_inputs_have_no_violations(name: str, params: dict[str, Any]) -> None:
    check_json_input(operation("organizations", name), params)


class TestOrganizations:
    def _error(self, name: str, params: dict[str, Any]) -> AwsError:
        with pytest.raises(AwsError) as caught:
            check_json_input(operation("organizations", name), params)
        return caught.value

    def test_pattern_violation_is_invalid_input_with_reason(self) -> None:
        error = self._error("DescribeAccount", {"AccountId": "12345"})
        assert (error.code, error.http_status) == ("InvalidInputException", 400)
        assert error.message == "You provided a value that does not match the required pattern."
        assert error.extra == {"Reason": "INVALID_PATTERN"}

    def test_missing_required_is_input_required(self) -> None:
        error = self._error("MoveAccount", {"AccountId": "111122223333"})
        assert error.extra == {"Reason": "INPUT_REQUIRED"}

    def test_range_and_list_members(self) -> None:
        assert self._error("ListAccounts", {"MaxResults": 21}).extra == {"Reason": "MAX_VALUE_EXCEEDED"}
        tags = {"ParentId": "r-ab12", "Name": "n", "Tags": [{"Key": "", "Value": "v"}]}
        assert self._error("CreateOrganizationalUnit", tags).extra == {"Reason": "INVALID_LIST_MEMBER"}


class TestPatterns:
    def test_every_model_pattern_translates(self) -> None:
        for service in ("iam", "sts", "organizations", "s3"):
            model = service_model(service)
            for name in model.shape_names:
                pattern = model.shape_for(name).metadata.get("pattern")
                if pattern is not None:
                    assert compile_pattern(pattern) is not None, (service, name, pattern)

    def test_java_semantics(self) -> None:
        word = compile_pattern(r"[\w+=,.@-]+")
        assert word is not None
        assert word.fullmatch("a_b+c=d,e.f@g-h")
        assert not word.fullmatch("é")  # Java's \w is ASCII-only
        assert not word.fullmatch("ab\n")  # the whole value must match
        tag = compile_pattern(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*")
        assert tag is not None
        assert tag.fullmatch("Ünïcødé 値 ٣ ⅷ\u00a0")
        assert not tag.fullmatch("tab\there") and not tag.fullmatch("#") and not tag.fullmatch("😀")

    def test_length_counts_utf16_code_units(self) -> None:
        assert java_length("abc") == 3
        assert java_length("😀") == 2
        op = operation("iam", "TagRole")
        value_max = service_model("iam").shape_for("tagValueType").metadata["max"]
        ok = {"RoleName": "r", "Tags": [{"Key": "k", "Value": "é" * value_max}]}
        assert violations(op, ok) == []
        too_long = {"RoleName": "r", "Tags": [{"Key": "k", "Value": "\U00010400" * (value_max // 2 + 1)}]}
        assert [v.constraint for v in violations(op, too_long)] == [
            f"Member must have length less than or equal to {value_max}"
        ]
