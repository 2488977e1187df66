"""Bad input and per-kind rules: every finding is pinned to its exact JSON path and AWS-worded message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rolegate.policy import PolicyError, PolicyKind, parse_policy, validate_policy
from rolegate.policy.parse import MAX_DEPTH, MAX_SOURCE_CHARS

Doc = dict[str, Any]
Found = list[tuple[str, str]]

SYNTAX = "Syntax errors in policy."
TOO_BIG = f"Policy document exceeds the maximum size of {MAX_SOURCE_CHARS} characters."
NOT_OBJECT = "Syntax errors in policy. (a policy document must be a JSON object)"
VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
SID_CHARSET = (
    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
)
SID_UNIQUE = "Statement IDs (SID) in a single policy must be unique."
TRUST_ONLY_STS = "AssumeRole policy may only specify STS AssumeRole actions."

ALL_KINDS = list(PolicyKind)
NO_PRINCIPAL_KINDS = [PolicyKind.IDENTITY, PolicyKind.BOUNDARY, PolicyKind.SESSION, PolicyKind.SCP]
PRINCIPAL_KINDS = [PolicyKind.RESOURCE, PolicyKind.TRUST, PolicyKind.RCP]


def found(errors: tuple[PolicyError, ...]) -> Found:
    return [(e.path, e.message) for e in errors]


def parse_errors(source: Any) -> Found:
    result = parse_policy(source)
    assert not result.ok
    return found(result.errors)


def valid_for(kind: PolicyKind, **extra: Any) -> Doc:
    """A minimal statement valid for `kind`, with `extra` fields merged in (None deletes a field)."""
    statement: Doc = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}
    if kind is PolicyKind.TRUST:
        statement = {"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole"}
    elif kind is PolicyKind.RESOURCE:
        statement["Principal"] = {"AWS": "arn:aws:iam::111111111111:user/alice"}
    elif kind is PolicyKind.RCP:
        statement["Principal"] = "*"
    statement.update(extra)
    return {"Version": "2012-10-17", "Statement": [{k: v for k, v in statement.items() if v is not None}]}


def validate(doc: Any, kind: PolicyKind) -> Found:
    return found(validate_policy(doc, kind))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_minimal_documents_are_valid(kind: PolicyKind) -> None:
    assert validate(valid_for(kind), kind) == []
    assert validate(json.dumps(valid_for(kind)), kind) == []


# ------------------------------------------------------------------------------------------------
# Bad input: never an exception, always a located error
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    ["", "   \n\t", b"", "not json", "{", '{"Statement": [}', "{'Statement': []}", '{"a": 1,}', "NaNa", "[1, 2"],
)
def test_garbage_and_empty_text_is_a_syntax_error(source: str | bytes) -> None:
    assert parse_errors(source) == [("", SYNTAX)]
    for kind in ALL_KINDS:
        assert validate(source, kind) == [("", SYNTAX)]


@pytest.mark.parametrize("source", ["[]", "null", "17", '"Statement"', "true", "[{}]"])
def test_a_document_that_is_not_an_object(source: str) -> None:
    assert parse_errors(source) == [("", NOT_OBJECT)]
    assert parse_errors(source.encode()) == [("", NOT_OBJECT)]


def test_deep_nesting_is_refused_before_json_recursion() -> None:
    deep_arrays = "[" * 10000 + "]" * 10000
    deep_objects = '{"a":' * 10000 + "1" + "}" * 10000
    for source in (deep_arrays, deep_objects, deep_arrays.encode(), '{"Statement": ' + deep_arrays + "}"):
        assert parse_errors(source) == [("", f"{SYNTAX} (nesting too deep)")]


def test_nesting_depth_limit_is_exact_and_ignores_brackets_in_strings() -> None:
    inside = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert parse_errors('{"Statement": ' + inside + "}") == [
        ("Statement[0]", f"{SYNTAX} (a statement must be a JSON object)")
    ]
    one_more = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_errors('{"Statement": ' + one_more + "}") == [("", f"{SYNTAX} (nesting too deep)")]
    brackets_in_text = valid_for(PolicyKind.IDENTITY, Sid=None, Resource="arn:aws:s3:::b/" + "[{" * 50 + '\\"')
    assert parse_policy(json.dumps(brackets_in_text)).ok


def test_a_200_kb_document_is_refused_whole() -> None:
    doc = valid_for(PolicyKind.RESOURCE, Sid="S" * 200_000)
    text = json.dumps(doc)
    assert len(text) > 200_000
    assert parse_errors(text) == [("", TOO_BIG)]
    assert parse_errors(text.encode()) == [("", TOO_BIG)]
    assert validate(text, PolicyKind.RESOURCE) == [("", TOO_BIG)]


def test_the_wire_maximum_is_exact() -> None:
    doc = valid_for(PolicyKind.RESOURCE)
    padding = MAX_SOURCE_CHARS - len(json.dumps(doc))
    at_limit = json.dumps(doc).replace("{", "{" + " " * padding, 1)
    assert len(at_limit) == MAX_SOURCE_CHARS
    assert parse_policy(at_limit).ok
    assert parse_errors(at_limit + " ") == [("", TOO_BIG)]


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ('{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": []}', "Version"),
        ('{"Statement": {"Effect": "Allow", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}}', "Effect"),
        (
            '{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", '
            '"Condition": {"Bool": {"aws:SecureTransport": "true", "aws:SecureTransport": "false"}}}}',
            "aws:SecureTransport",
        ),
    ],
)
def test_duplicate_keys_are_refused(source: str, field: str) -> None:
    assert parse_errors(source) == [("", f"{SYNTAX} (duplicate field {field})")]


@pytest.mark.parametrize(
    "source",
    [b'{"Statement": "\xff"}', b"\xfe\xff", b'{"Sid": "caf\xe9"}', b"\xed\xa0\x80", b"\x80"],
)
def test_non_utf8_bytes(source: bytes) -> None:
    assert parse_errors(source) == [("", "Policy document is not valid UTF-8.")]


def test_utf8_bytes_and_a_byte_order_mark_are_accepted() -> None:
    doc = valid_for(PolicyKind.RESOURCE, Sid="café ☕")
    text = json.dumps(doc, ensure_ascii=False)
    assert parse_policy(text.encode("utf-8")).ok
    assert parse_policy("\ufeff" + text).ok
    assert parse_policy(b"\xef\xbb\xbf" + text.encode("utf-8")).ok


def test_a_mapping_is_parsed_as_already_loaded_json() -> None:
    assert parse_policy(valid_for(PolicyKind.IDENTITY)).ok


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({}, [("Statement", "Missing required field Statement")]),
        ({"Version": "2012-10-17"}, [("Statement", "Missing required field Statement")]),
        (
            {"Statement": [], "Foo": 1},
            [("Foo", f"{SYNTAX} (unknown field Foo)")],
        ),
        ({"Id": 7, "Statement": []}, [("Id", f"{SYNTAX} (Id must be a string)")]),
        ({"Statement": [1]}, [("Statement[0]", f"{SYNTAX} (a statement must be a JSON object)")]),
        ({"Statement": "Allow"}, [("Statement", f"{SYNTAX} (a statement must be a JSON object)")]),
        (
            {"Statement": {"Effect": "Allow", "Action": 5, "Resource": "*"}},
            [("Statement.Action", f"{SYNTAX} (Action must be a string or a list of strings)")],
        ),
        (
            {"Statement": {"Effect": "Allow", "Action": ["s3:GetObject", 5], "Resource": "*"}},
            [("Statement.Action", f"{SYNTAX} (Action must be a string or a list of strings)")],
        ),
        (
            {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": {"arn": "x"}}},
            [("Statement.Resource", f"{SYNTAX} (Resource must be a string or a list of strings)")],
        ),
        (
            {"Statement": [{"Sid": 1, "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
            [("Statement[0].Sid", f"{SYNTAX} (Sid must be a string)")],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Resources": "*"}]},
            [("Statement[0].Resources", f"{SYNTAX} (unknown field Resources)")],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Resource": "*"}]},
            [("Statement[0]", "Policy statement must contain actions.")],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]},
            [("Statement[0].Action", "Policy statement must contain actions.")],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": []}]},
            [("Statement[0].Resource", "Policy statement must contain resources.")],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}]},
            [("Statement[0].NotAction", "Statement has both Action and NotAction.")],
        ),
        (
            {"Statement": [{"Action": "s3:*", "Resource": "*"}]},
            [("Statement[0].Effect", "Missing required field Effect")],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": []}]},
            [("Statement[0].Condition", f"{SYNTAX} (Condition must be an object)")],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": "true"}}]},
            [("Statement[0].Condition.Bool", f"{SYNTAX} (a condition operator takes an object of keys)")],
        ),
        (
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:X": {"a": 1}}}}
                ]
            },
            [
                (
                    "Statement[0].Condition.Bool.aws:X",
                    f"{SYNTAX} (condition values must be strings, numbers or booleans)",
                )
            ],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Principal": {}, "Action": "s3:*", "Resource": "*"}]},
            [("Statement[0].Principal", "Invalid principal in policy: {}")],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Principal": ["*"], "Action": "s3:*", "Resource": "*"}]},
            [("Statement[0].Principal", 'Invalid principal in policy: ["*"]')],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Principal": {"User": "x"}, "Action": "s3:*", "Resource": "*"}]},
            [("Statement[0].Principal.User", 'Invalid principal in policy: "User"')],
        ),
        (
            {"Statement": [{"Effect": "Allow", "Principal": {"AWS": []}, "Action": "s3:*", "Resource": "*"}]},
            [("Statement[0].Principal.AWS", 'Invalid principal in policy: "AWS":[]')],
        ),
    ],
)
def test_structural_errors(doc: Doc, expected: Found) -> None:
    assert parse_errors(doc) == expected
    assert parse_errors(json.dumps(doc)) == expected


def test_every_error_is_collected_in_document_order() -> None:
    doc = {
        "Version": "2012-10-18",
        "Statement": [
            {"Sid": "a-b", "Effect": "allow", "Principal": "*", "Action": "GetObject", "Resource": "bucket"},
            {"Sid": "a-b", "Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Numeric": {"a:b": 1}}},
        ],
    }
    assert validate(doc, PolicyKind.IDENTITY) == [
        ("Version", "The policy failed legacy parsing"),
        ("Statement[0].Effect", "Invalid effect: allow"),
        ("Statement[0].Sid", SID_CHARSET),
        ("Statement[0].Principal", "Has prohibited field Principal"),
        ("Statement[0].Action", VENDOR),
        ("Statement[0].Resource", 'Resource bucket must be in ARN format or "*".'),
        ("Statement[1].Sid", SID_CHARSET),
        ("Statement[1].Sid", SID_UNIQUE),
        ("Statement[1].Condition.Numeric", "Invalid Condition type : Numeric"),
    ]


# ------------------------------------------------------------------------------------------------
# Rules per kind
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", NO_PRINCIPAL_KINDS)
@pytest.mark.parametrize("field", ["Principal", "NotPrincipal"])
def test_principal_is_prohibited_outside_resource_policies(kind: PolicyKind, field: str) -> None:
    doc = valid_for(kind, **{field: {"AWS": "111111111111"}})
    assert validate(doc, kind) == [(f"Statement[0].{field}", f"Has prohibited field {field}")]


@pytest.mark.parametrize("kind", [PolicyKind.TRUST, PolicyKind.RCP])
def test_not_principal_is_prohibited_in_trust_and_rcp(kind: PolicyKind) -> None:
    doc = valid_for(kind, Principal=None, NotPrincipal={"AWS": "111111111111"})
    assert validate(doc, kind) == [("Statement[0].NotPrincipal", "Has prohibited field NotPrincipal")]


def test_not_principal_is_allowed_in_resource_policies() -> None:
    doc = valid_for(PolicyKind.RESOURCE, Effect="Deny", Principal=None, NotPrincipal={"AWS": "111111111111"})
    assert validate(doc, PolicyKind.RESOURCE) == []


@pytest.mark.parametrize("kind", PRINCIPAL_KINDS)
def test_principal_is_required_in_trust_resource_and_rcp(kind: PolicyKind) -> None:
    assert validate(valid_for(kind, Principal=None), kind) == [("Statement[0]", "Missing required field Principal")]


def test_rcp_principal_must_be_the_wildcard() -> None:
    doc = valid_for(PolicyKind.RCP, Principal={"AWS": "*"})
    assert validate(doc, PolicyKind.RCP) == [
        ("Statement[0].Principal", 'Resource control policies only support "Principal": "*".')
    ]


@pytest.mark.parametrize("field", ["Resource", "NotResource"])
def test_resource_is_prohibited_in_trust_policies(field: str) -> None:
    doc = valid_for(PolicyKind.TRUST, **{field: "arn:aws:iam::111111111111:role/R"})
    assert validate(doc, PolicyKind.TRUST) == [(f"Statement[0].{field}", f"Has prohibited field {field}")]


@pytest.mark.parametrize("kind", [k for k in ALL_KINDS if k is not PolicyKind.TRUST])
def test_resource_is_required_outside_trust_policies(kind: PolicyKind) -> None:
    assert validate(valid_for(kind, Resource=None), kind) == [
        ("Statement[0]", "Policy statement must contain resources.")
    ]


@pytest.mark.parametrize(
    "action",
    [
        "sts:AssumeRole",
        "sts:AssumeRoleWithSAML",
        "sts:AssumeRoleWithWebIdentity",
        "sts:TagSession",
        "sts:SetSourceIdentity",
        "sts:SetContext",
        "sts:*",
        "STS:assumerole",
        "*",
    ],
)
def test_trust_policies_accept_sts_assume_role_actions(action: str) -> None:
    assert validate(valid_for(PolicyKind.TRUST, Action=action), PolicyKind.TRUST) == []


@pytest.mark.parametrize("action", ["s3:GetObject", "sts:GetCallerIdentity", "iam:*", "sts:GetSessionToken"])
def test_trust_policies_refuse_other_actions(action: str) -> None:
    doc = valid_for(PolicyKind.TRUST, Action=["sts:AssumeRole", action])
    assert validate(doc, PolicyKind.TRUST) == [("Statement[0].Action", TRUST_ONLY_STS)]


@pytest.mark.parametrize("version", ["2012-10-17", "2008-10-17", None])
def test_known_versions_and_no_version_are_valid(version: str | None) -> None:
    doc = valid_for(PolicyKind.IDENTITY)
    if version is None:
        del doc["Version"]
    else:
        doc["Version"] = version
    assert validate(doc, PolicyKind.IDENTITY) == []


@pytest.mark.parametrize("version", ["2012-10-18", "2012-10-17 ", "", "latest", 2012, ["2012-10-17"]])
def test_other_versions_fail_legacy_parsing(version: Any) -> None:
    doc = {**valid_for(PolicyKind.IDENTITY), "Version": version}
    assert validate(doc, PolicyKind.IDENTITY) == [("Version", "The policy failed legacy parsing")]


@pytest.mark.parametrize("effect", ["allow", "ALLOW", "deny", "Permit", "", 1, None])
def test_effect_is_case_sensitive(effect: Any) -> None:
    doc = valid_for(PolicyKind.IDENTITY, Effect=effect)
    expected = "Missing required field Effect" if effect is None else f"Invalid effect: {effect}"
    assert validate(doc, PolicyKind.IDENTITY) == [("Statement[0].Effect", expected)]


@pytest.mark.parametrize("kind", [k for k in ALL_KINDS if k is not PolicyKind.RESOURCE])
@pytest.mark.parametrize("sid", ["my-sid", "Sid 1", "sid_1", "é"])
def test_sid_must_be_alphanumeric_in_iam_policies(kind: PolicyKind, sid: str) -> None:
    assert validate(valid_for(kind, Sid=sid), kind) == [("Statement[0].Sid", SID_CHARSET)]


@pytest.mark.parametrize("sid", ["my-sid", "Sid 1", "sid_1", "é", "AllowS3Read2024"])
def test_resource_policies_take_any_sid(sid: str) -> None:
    assert validate(valid_for(PolicyKind.RESOURCE, Sid=sid), PolicyKind.RESOURCE) == []


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_sids_must_be_unique_but_empty_sids_may_repeat(kind: PolicyKind) -> None:
    statement = valid_for(kind)["Statement"][0]
    doc = {"Statement": [{**statement, "Sid": "One"}, {**statement, "Sid": "Two"}, {**statement, "Sid": "One"}]}
    assert validate(doc, kind) == [("Statement[2].Sid", SID_UNIQUE)]
    empty = {"Statement": [{**statement, "Sid": ""}, {**statement, "Sid": ""}]}
    assert validate(empty, kind) == []


@pytest.mark.parametrize(
    "kind",
    [k for k in ALL_KINDS if k is not PolicyKind.RESOURCE],
)
def test_action_needs_a_vendor(kind: PolicyKind) -> None:
    action = "GetObject" if kind is not PolicyKind.TRUST else "AssumeRole"
    errors = validate(valid_for(kind, Action=action), kind)
    assert ("Statement[0].Action", VENDOR) in errors
    errors = validate(valid_for(kind, Action="s 3:GetObject"), kind)
    assert ("Statement[0].Action", "Vendor s 3 is not valid") in errors


@pytest.mark.parametrize("resource", ["bucket", "arn:aws:s3:bucket", "s3:::bucket/key", "**"])
def test_resources_must_be_arns(resource: str) -> None:
    doc = valid_for(PolicyKind.IDENTITY, Resource=["*", resource])
    assert validate(doc, PolicyKind.IDENTITY) == [
        ("Statement[0].Resource", f'Resource {resource} must be in ARN format or "*".')
    ]


SIZE_CASES = [
    (PolicyKind.IDENTITY, 6144, "Cannot exceed quota for PolicySize: 6144"),
    (PolicyKind.BOUNDARY, 6144, "Cannot exceed quota for PolicySize: 6144"),
    (PolicyKind.TRUST, 2048, "Cannot exceed quota for ACLSizePerRole: 2048"),
    (PolicyKind.SESSION, 2048, "Session policy exceeds the maximum size of 2048 characters."),
    (PolicyKind.RESOURCE, 20480, "Policies must be less than 20 KB."),
    (PolicyKind.SCP, 5120, "Policy content exceeds the maximum size of 5120 characters."),
    (PolicyKind.RCP, 5120, "Policy content exceeds the maximum size of 5120 characters."),
]


def sized(kind: PolicyKind, size: int) -> Doc:
    """A valid document of `kind` whose whitespace-free JSON is exactly `size` characters (padding the Sid)."""
    doc = valid_for(kind, Sid="")
    missing = size - len(json.dumps(doc, separators=(",", ":")))
    doc["Statement"][0]["Sid"] = "A" * missing
    assert len(json.dumps(doc, separators=(",", ":"))) == size
    return doc


@pytest.mark.parametrize(("kind", "limit", "message"), SIZE_CASES)
def test_size_limits_count_characters_without_whitespace(kind: PolicyKind, limit: int, message: str) -> None:
    at_limit = sized(kind, limit)
    spacious = json.dumps(at_limit, indent=8).replace('": ', '"  :\n\t ').replace('",', '" ,  \r\n ')
    assert len(spacious) > limit + 200
    assert validate(at_limit, kind) == []
    assert validate(spacious, kind) == []
    over = sized(kind, limit + 1)
    assert validate(over, kind) == [("", message)]
    assert validate(json.dumps(over, indent=2), kind) == [("", message)]


def test_a_trust_policy_of_exactly_2048_characters_passes_with_lots_of_whitespace() -> None:
    doc = sized(PolicyKind.TRUST, 2048)
    text = json.dumps(doc, indent=40)
    assert len(text) > 3000
    assert validate(text, PolicyKind.TRUST) == []
    over = json.dumps(sized(PolicyKind.TRUST, 2049), indent=40)
    assert validate(over, PolicyKind.TRUST) == [("", "Cannot exceed quota for ACLSizePerRole: 2048")]


@pytest.mark.parametrize(
    ("kind", "principal_type", "value"),
    [
        (PolicyKind.TRUST, "AWS", "arn:aws:iam::111111111111:user/*"),
        (PolicyKind.TRUST, "AWS", "arn:aws:iam::111111111111:role/Dev?"),
        (PolicyKind.TRUST, "AWS", "arn:aws:iam::11111111111:root"),
        (PolicyKind.TRUST, "AWS", "arn:aws:iam::111111111111:group/Admins"),
        (PolicyKind.TRUST, "AWS", "alice"),
        (PolicyKind.TRUST, "Service", "*"),
        (PolicyKind.TRUST, "Service", "Lambda.amazonaws.com"),
        (PolicyKind.TRUST, "Federated", "*"),
        (PolicyKind.RESOURCE, "AWS", "arn:aws:iam::111111111111:user/*"),
        (PolicyKind.RESOURCE, "AWS", "1111111111111"),
        (PolicyKind.RESOURCE, "CanonicalUser", "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2bX"),
    ],
)
def test_invalid_principals(kind: PolicyKind, principal_type: str, value: str) -> None:
    doc = valid_for(kind, Principal={principal_type: [value]})
    assert validate(doc, kind) == [
        (f"Statement[0].Principal.{principal_type}", f'Invalid principal in policy: "{principal_type}":"{value}"')
    ]


@pytest.mark.parametrize(
    ("kind", "principal"),
    [
        (PolicyKind.TRUST, "*"),
        (PolicyKind.TRUST, {"AWS": "*"}),
        (PolicyKind.TRUST, {"AWS": ["111111111111", "arn:aws:iam::222222222222:root"]}),
        (PolicyKind.TRUST, {"AWS": "arn:aws:iam::111111111111:role/path/Dev"}),
        (PolicyKind.TRUST, {"AWS": "arn:aws:sts::111111111111:assumed-role/Dev/alice"}),
        (PolicyKind.TRUST, {"AWS": "AIDACKCEVSQ6C2EXAMPLE"}),
        (PolicyKind.TRUST, {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]}),
        (PolicyKind.TRUST, {"Federated": "arn:aws:iam::111111111111:saml-provider/Corp"}),
        (PolicyKind.RESOURCE, {"Service": "*"}),
        (PolicyKind.RESOURCE, {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}),
    ],
)
def test_valid_principals(kind: PolicyKind, principal: Any) -> None:
    assert validate(valid_for(kind, Principal=principal), kind) == []


@pytest.mark.parametrize("operator", ["StringEqualz", "stringequals", "ForSomeValues:StringEquals", "NullIfExists"])
def test_unknown_condition_operator(operator: str) -> None:
    doc = valid_for(PolicyKind.IDENTITY, Condition={operator: {"aws:SourceIp": "x"}})
    assert validate(doc, PolicyKind.IDENTITY) == [
        (f"Statement[0].Condition.{operator}", f"Invalid Condition type : {operator}")
    ]


@pytest.mark.parametrize(
    ("operator", "values"),
    [
        ("NumericLessThan", ["abc"]),
        ("NumericEquals", ["10", "ten"]),
        ("NumericGreaterThanIfExists", ["NaN"]),
        ("ForAnyValue:NumericEquals", [True]),
        ("DateLessThan", ["yesterday"]),
        ("IpAddress", ["300.1.1.1"]),
        ("Bool", ["yes"]),
        ("BinaryEquals", ["not base64!"]),
    ],
)
def test_condition_values_of_the_wrong_type(operator: str, values: list[Any]) -> None:
    doc = valid_for(PolicyKind.IDENTITY, Condition={operator: {"aws:MultiFactorAuthAge": values}})
    assert validate(doc, PolicyKind.IDENTITY) == [
        (f"Statement[0].Condition.{operator}.aws:MultiFactorAuthAge", f"Invalid value for {operator}: {values}")
    ]


def test_numeric_condition_values_may_be_json_numbers_or_numeric_strings() -> None:
    doc = valid_for(PolicyKind.IDENTITY, Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": [3600, "7200", 1.5]}})
    assert validate(doc, PolicyKind.IDENTITY) == []


@pytest.mark.parametrize("key", ["SourceIp", ":SourceIp", "aws:"])
def test_condition_keys_need_a_vendor(key: str) -> None:
    doc = valid_for(PolicyKind.IDENTITY, Condition={"StringEquals": {key: "x"}})
    assert validate(doc, PolicyKind.IDENTITY) == [(f"Statement[0].Condition.StringEquals.{key}", VENDOR)]


def test_a_single_statement_object_is_located_as_statement() -> None:
    doc = {"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}}
    assert validate(doc, PolicyKind.IDENTITY) == [("Statement.Principal", "Has prohibited field Principal")]
