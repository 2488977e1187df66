"""Property tests of the policy engine (Hypothesis).

a. render(parse(doc)) == doc for valid documents, from JSON values, JSON text and UTF-8 bytes.
b. Adding a Deny that matches the request to any gate in force makes the decision ExplicitDeny.
c. The compiled wildcard matchers agree with slow reference globs (whole string and per ARN segment).
d. Parsing, validating and loading requests never raise, whatever the input.
e. The fast decision agrees with the lazy per-statement analysis behind its explanation.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import json
import string
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from rolegate.policy import (
    CompiledPolicy,
    Decision,
    Gate,
    PolicyKind,
    PolicySet,
    RequestContext,
    Result,
    StatementRef,
    authorize,
    load_request,
    parse_policy,
    render_json,
    render_policy,
    render_text,
    validate_policy,
)
from rolegate.policy.conditions import CompiledClause, is_true, scalar_text
from rolegate.policy.document import ConditionClause
from rolegate.policy.gates import GateAnalysis
from rolegate.policy.match import PrincipalMatch, analyse, applies
from rolegate.policy.validate import SIZE_LIMITS
from rolegate.policy.wildcard import compile_pattern, reference_match

Doc = dict[str, Any]
Draw = Callable[..., Any]

SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
FAST = settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------------------
# a. render(parse(doc)) == doc
# ---------------------------------------------------------------------------------------------------------

ACCOUNT = "111111111111"
OTHER_ACCOUNT = "222222222222"
MANAGEMENT = "999999999999"

KEY_NAMES = st.from_regex(r"(aws|sts|s3|ec2|saml):[A-Za-z][A-Za-z0-9/_-]{0,12}", fullmatch=True)
ACTIONS = st.from_regex(r"[a-z0-9*?-]{1,6}:[A-Za-z*?]{1,10}", fullmatch=True) | st.just("*")
TRUST_ACTIONS = st.sampled_from(
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
    ]
)
ARNS = st.from_regex(
    r"arn:aws:(s3|iam|ec2|sqs|\*):[a-z0-9*?-]{0,9}:(\d{12}|\*)?:[A-Za-z0-9/*?:_.${}-]{0,20}", fullmatch=True
)
RESOURCES = ARNS | st.just("*")
AWS_PRINCIPALS = st.sampled_from(
    [
        ACCOUNT,
        f"arn:aws:iam::{ACCOUNT}:root",
        f"arn:aws:iam::{ACCOUNT}:user/alice",
        f"arn:aws:iam::{ACCOUNT}:user/path/to/bob",
        f"arn:aws:iam::{OTHER_ACCOUNT}:role/Dev",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/session-1",
        f"arn:aws:sts::{ACCOUNT}:federated-user/carol",
        "AIDAEXAMPLEUSER000001",
        "*",
    ]
)
SERVICES = st.sampled_from(["lambda.amazonaws.com", "ec2.amazonaws.com", "s3.amazonaws.com"])
FEDERATED = st.sampled_from(
    ["accounts.google.com", "cognito-identity.amazonaws.com", f"arn:aws:iam::{ACCOUNT}:saml-provider/Corp"]
)
CANONICAL = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


def _one_or_many(values: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[Any]:
    return values | st.lists(values, min_size=1, max_size=max_size)


def _principal(kind: PolicyKind) -> st.SearchStrategy[Any]:
    types: dict[str, st.SearchStrategy[Any]] = {"AWS": AWS_PRINCIPALS, "Service": SERVICES, "Federated": FEDERATED}
    if kind is PolicyKind.RESOURCE:
        types["CanonicalUser"] = CANONICAL
    entries = st.dictionaries(st.sampled_from(sorted(types)), st.none(), min_size=1, max_size=3).flatmap(
        lambda chosen: st.fixed_dictionaries({name: _one_or_many(types[name]) for name in chosen})
    )
    return st.just("*") | entries


def _network(address: ipaddress.IPv4Address | ipaddress.IPv6Address, bits: int) -> str:
    return str(ipaddress.ip_network(f"{address}/{min(bits, address.max_prefixlen)}", strict=False))


STRING_VALUES = st.text(max_size=10) | st.integers(-1000, 1000) | st.booleans()
NUMERIC_VALUES = st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False, width=32)
DATE_VALUES = (
    st.integers(0, 4_000_000_000)
    | st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)).map(lambda d: d.isoformat())
    | st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
        lambda d: d.isoformat()
    )
    | st.dates(min_value=datetime(1971, 1, 1).date()).map(lambda d: d.isoformat())
)
BOOL_VALUES = st.booleans() | st.sampled_from(["true", "false", "True", "FALSE"])
IP_VALUES = st.builds(_network, st.ip_addresses(), st.integers(0, 128)) | st.ip_addresses().map(str)
BINARY_VALUES = st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode("ascii"))

OPERATOR_FAMILIES: dict[str, tuple[list[str], st.SearchStrategy[Any]]] = {
    "string": (
        [
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
        ],
        STRING_VALUES,
    ),
    "numeric": (
        [
            "NumericEquals",
            "NumericNotEquals",
            "NumericLessThan",
            "NumericLessThanEquals",
            "NumericGreaterThan",
            "NumericGreaterThanEquals",
        ],
        NUMERIC_VALUES,
    ),
    "date": (
        [
            "DateEquals",
            "DateNotEquals",
            "DateLessThan",
            "DateLessThanEquals",
            "DateGreaterThan",
            "DateGreaterThanEquals",
        ],
        DATE_VALUES,
    ),
    "bool": (["Bool"], BOOL_VALUES),
    "ip": (["IpAddress", "NotIpAddress"], IP_VALUES),
    "arn": (["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"], ARNS),
    "binary": (["BinaryEquals"], BINARY_VALUES),
}


@st.composite
def _operator_block(draw: Draw) -> tuple[str, dict[str, Any]]:
    family = draw(st.sampled_from([*sorted(OPERATOR_FAMILIES), "null"]))
    if family == "null":
        name, values = "Null", BOOL_VALUES
    else:
        names, values = OPERATOR_FAMILIES[family]
        name = draw(st.sampled_from(names))
        name = draw(st.sampled_from(["", "ForAnyValue:", "ForAllValues:"])) + name
        name += draw(st.sampled_from(["", "IfExists"]))
    block = draw(st.dictionaries(KEY_NAMES, _one_or_many(values), min_size=0, max_size=2))
    return name, block


@st.composite
def _conditions(draw: Draw) -> dict[str, Any]:
    blocks = draw(st.lists(_operator_block(), min_size=1, max_size=3, unique_by=lambda b: b[0]))
    return dict(blocks)


@st.composite
def _statement(draw: Draw, kind: PolicyKind, sid: str | None) -> Doc:
    out: Doc = {}
    if sid is not None:
        out["Sid"] = sid
    out["Effect"] = draw(st.sampled_from(["Allow", "Deny"]))
    if kind in (PolicyKind.RESOURCE, PolicyKind.TRUST):
        name = "NotPrincipal" if kind is PolicyKind.RESOURCE and draw(st.booleans()) else "Principal"
        out[name] = draw(_principal(kind))
    actions = TRUST_ACTIONS if kind is PolicyKind.TRUST else ACTIONS
    out[draw(st.sampled_from(["Action", "NotAction"]))] = draw(_one_or_many(actions))
    if kind is not PolicyKind.TRUST:
        out[draw(st.sampled_from(["Resource", "NotResource"]))] = draw(_one_or_many(RESOURCES))
    if draw(st.booleans()):
        out["Condition"] = draw(_conditions())
    return out


@st.composite
def valid_documents(draw: Draw) -> tuple[PolicyKind, Doc]:
    """A document valid for its kind (identity, resource or trust) in every IAM form the parser keeps."""
    kind = draw(st.sampled_from([PolicyKind.IDENTITY, PolicyKind.RESOURCE, PolicyKind.TRUST]))
    doc: Doc = {}
    version = draw(st.sampled_from(["2012-10-17", "2008-10-17", None]))
    if version is not None:
        doc["Version"] = version
    if draw(st.booleans()):
        doc["Id"] = draw(st.text(max_size=12))
    count = draw(st.integers(0, 3))
    sid_chars = string.ascii_letters + string.digits
    statements = []
    for index in range(count):
        sid = None
        if draw(st.booleans()):
            sid = draw(st.text(alphabet=sid_chars, max_size=6)) + (f"S{index}" if draw(st.booleans()) else "")
            assume(not sid or sid not in {s.get("Sid") for s in statements})
        statements.append(draw(_statement(kind, sid)))
    as_object = len(statements) == 1 and draw(st.booleans())
    doc["Statement"] = statements[0] if as_object else statements
    compact = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    assume(len(compact) <= SIZE_LIMITS[kind][0])
    return kind, doc


@SETTINGS
@given(valid_documents())
def test_render_inverts_parse(kind_and_doc: tuple[PolicyKind, Doc]) -> None:
    kind, doc = kind_and_doc
    sources: list[Any] = [
        doc,
        json.dumps(doc),
        json.dumps(doc, indent=4, ensure_ascii=False),
        json.dumps(doc, ensure_ascii=False).encode("utf-8"),
    ]
    for source in sources:
        parsed = parse_policy(source)
        assert parsed.ok, parsed.errors
        assert parsed.policy is not None
        assert render_policy(parsed.policy) == doc
        assert json.dumps(render_policy(parsed.policy), sort_keys=True) == json.dumps(doc, sort_keys=True)
    assert validate_policy(doc, kind) == ()


_ALLOW_ALL = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}


@pytest.mark.parametrize(
    "doc",
    [
        {"Statement": {**_ALLOW_ALL, "Condition": {}}},
        {"Statement": {**_ALLOW_ALL, "Condition": None}},
        {"Statement": {**_ALLOW_ALL, "Sid": None}},
        {"Version": None, "Statement": _ALLOW_ALL},
        {"Id": None, "Statement": _ALLOW_ALL},
    ],
    ids=["empty-condition", "null-condition", "null-sid", "null-version", "null-id"],
)
def test_a_document_that_parses_renders_back_unchanged(doc: Doc) -> None:
    """Either fix is fine: reject the document, or keep the field through rendering."""
    parsed = parse_policy(doc)
    assert not parsed.ok or (parsed.policy is not None and render_policy(parsed.policy) == doc)


# ---------------------------------------------------------------------------------------------------------
# Requests in the JSON request format, shared by properties b and e
# ---------------------------------------------------------------------------------------------------------

PRINCIPALS: dict[str, Callable[[str], dict[str, Any]]] = {
    "user": lambda a: {"arn": f"arn:aws:iam::{a}:user/alice", "id": "AIDAEXAMPLEUSER000001"},
    "session": lambda a: {
        "arn": f"arn:aws:sts::{a}:assumed-role/Dev/session-1",
        "roleArn": f"arn:aws:iam::{a}:role/Dev",
        "id": "AROAEXAMPLEROLE000001",
    },
    "federated_user": lambda a: {
        "arn": f"arn:aws:sts::{a}:federated-user/carol",
        "userArn": f"arn:aws:iam::{a}:user/alice",
    },
    "root": lambda a: {"arn": f"arn:aws:iam::{a}:root"},
    "service": lambda _: {"service": "lambda.amazonaws.com"},
    "web_identity": lambda _: {"federated": "accounts.google.com"},
    "anonymous": lambda _: {"anonymous": True},
}
ORG_BOUND = frozenset({"user", "session", "federated_user", "root"})
REQUEST_ACTIONS = {
    "s3:GetObject": "arn:aws:s3:::bucket/reports/1.csv",
    "s3:PutObject": "arn:aws:s3:::bucket/alice/notes.txt",
    "iam:ListUsers": "*",
    "ec2:RunInstances": f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc",
    "sts:AssumeRole": f"arn:aws:iam::{ACCOUNT}:role/Target",
}
CONTEXT_KEYS: dict[str, Any] = {
    "aws:SourceIp": "203.0.113.7",
    "aws:MultiFactorAuthPresent": True,
    "sts:ExternalId": "ext-1",
    "aws:RequestedRegion": "us-east-1",
    "aws:TagKeys": ["team", "env"],
}
POOL_ACTIONS = [
    *REQUEST_ACTIONS,
    "s3:*",
    "s3:Get*",
    "S3:getobject",
    "iam:List?sers",
    "sts:*",
    "ec2:*",
    "*",
]
POOL_RESOURCES = [
    *dict.fromkeys(REQUEST_ACTIONS.values()),
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/${aws:username}/*",
    "arn:aws:s3:::other-bucket/*",
    "arn:aws:iam::*:role/*",
    "arn:aws:ec2:*:*:instance/*",
    "arn:aws:*:*:*:*",
]
POOL_CONDITIONS: list[dict[str, Any]] = [
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"NotIpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}},
    {"StringEquals": {"sts:ExternalId": "ext-1"}},
    {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}},
    {"StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"}},
    {"Null": {"aws:MultiFactorAuthPresent": "false"}},
    {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:*"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}},
    {"StringEquals": {"aws:PrincipalTag/team": "${aws:PrincipalTag/team}"}},
]
POOL_PRINCIPALS: list[Any] = [
    "*",
    {"AWS": "*"},
    {"AWS": ACCOUNT},
    {"AWS": OTHER_ACCOUNT},
    {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"},
    {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:user/alice"},
    {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Dev"},
    {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/session-1"},
    {"AWS": f"arn:aws:sts::{ACCOUNT}:federated-user/carol"},
    {"AWS": "AROAEXAMPLEROLE000001"},
    {"Service": "lambda.amazonaws.com"},
    {"Federated": "accounts.google.com"},
]


def _caller_principals(caller: dict[str, Any]) -> list[Any]:
    """Principal elements that name this caller in each way a resource policy can (evaluation.md §2)."""
    names: list[Any] = []
    if "arn" in caller:
        account = caller["arn"].split(":")[4]
        names += [{"AWS": caller["arn"]}, {"AWS": account}, {"AWS": f"arn:aws:iam::{account}:root"}]
        names += [{"AWS": caller[k]} for k in ("roleArn", "userArn") if k in caller]
    if "service" in caller:
        names.append({"Service": caller["service"]})
    if "federated" in caller:
        names.append({"Federated": caller["federated"]})
    return names


@st.composite
def _pool_statement(draw: Draw, kind: PolicyKind, request: Doc) -> Doc:
    """A statement for `kind`, often (not always) naming the request's action, resource and caller."""
    out: Doc = {"Effect": "Deny" if draw(st.integers(0, 5)) == 0 else "Allow"}
    if draw(st.booleans()):
        out["Sid"] = draw(st.sampled_from(["A", "B", "C", "D"])) + str(draw(st.integers(0, 999)))
    if kind in (PolicyKind.RESOURCE, PolicyKind.TRUST):
        principals = POOL_PRINCIPALS + _caller_principals(request["principal"]) * 3
        if kind is PolicyKind.RESOURCE and draw(st.integers(0, 9)) == 0:
            out["NotPrincipal"] = draw(st.sampled_from(principals[2:]))
        else:
            out["Principal"] = draw(st.sampled_from(principals))
    elif kind is PolicyKind.RCP:
        out["Principal"] = "*"
    action, resource = request["action"], request["resource"]
    if kind is PolicyKind.TRUST:
        out["Action"] = draw(st.sampled_from(["sts:AssumeRole", "sts:AssumeRole", "sts:*", "sts:TagSession", "*"]))
    else:
        matching = [action, action.lower(), action.split(":")[0] + ":*", "*"]
        actions = matching if draw(st.booleans()) else POOL_ACTIONS
        name = "NotAction" if draw(st.integers(0, 5)) == 0 else "Action"
        out[name] = draw(st.lists(st.sampled_from(actions), min_size=1, max_size=2, unique=True))
        resources = [resource, "*"] if draw(st.booleans()) else POOL_RESOURCES
        name = "NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"
        out[name] = draw(st.sampled_from(resources))
    if draw(st.integers(0, 3)) == 0:
        out["Condition"] = draw(st.sampled_from(POOL_CONDITIONS))
    return out


def _unique_sids(statements: list[Doc]) -> list[Doc]:
    seen: set[str] = set()
    for statement in statements:
        if statement.get("Sid") in seen:
            del statement["Sid"]
        elif "Sid" in statement:
            seen.add(statement["Sid"])
    return statements


@st.composite
def _pool_policy(draw: Draw, kind: PolicyKind, policy_id: str, request: Doc, full_access: bool = False) -> Doc:
    statements = draw(st.lists(_pool_statement(kind, request), min_size=1, max_size=3))
    if full_access:
        allow_all: Doc = {"Effect": "Allow", "Action": "*", "Resource": "*"}
        if kind is PolicyKind.RCP:
            allow_all["Principal"] = "*"
        statements.insert(0, allow_all)
    return {"id": policy_id, "document": {"Version": "2012-10-17", "Statement": _unique_sids(statements)}}


@st.composite
def _levels(draw: Draw, kind: PolicyKind, prefix: str, request: Doc) -> list[list[Doc]]:
    levels = []
    for level in range(draw(st.integers(1, 2))):
        full = draw(st.integers(0, 9)) > 0
        levels.append([draw(_pool_policy(kind, f"{prefix}{level}", request, full_access=full))])
    return levels


PRINCIPAL_WEIGHTS = ["user"] * 3 + ["session"] * 3 + ["federated_user"] * 2 + sorted(set(PRINCIPALS) - ORG_BOUND)
PRINCIPAL_WEIGHTS += ["root"]


@st.composite
def requests(draw: Draw) -> Doc:
    """A request in the format of docs/request-format.md, every policy valid for its gate."""
    kind = draw(st.sampled_from(PRINCIPAL_WEIGHTS))
    principal_account = draw(st.sampled_from([ACCOUNT, ACCOUNT, ACCOUNT, OTHER_ACCOUNT, MANAGEMENT]))
    action = draw(st.sampled_from(sorted(REQUEST_ACTIONS)))
    request: Doc = {
        "principal": PRINCIPALS[kind](principal_account),
        "action": action,
        "resource": REQUEST_ACTIONS[action],
        "resourceAccount": draw(st.sampled_from([principal_account] * 3 + [ACCOUNT, MANAGEMENT])),
        "context": {k: v for k, v in CONTEXT_KEYS.items() if draw(st.booleans())},
    }
    if kind in ("user", "session") and draw(st.booleans()):
        request["principal"]["tags"] = {"team": draw(st.sampled_from(["blue", "red"]))}
    if draw(st.booleans()):
        request["organization"] = {"managementAccount": MANAGEMENT}
    policies: Doc = {}
    if draw(st.integers(0, 4)) > 0:
        count = draw(st.integers(1, 2))
        policies["identity"] = [draw(_pool_policy(PolicyKind.IDENTITY, f"identity-{i}", request)) for i in range(count)]
    if action.startswith("sts:"):
        if draw(st.integers(0, 5)) > 0:
            policies["trust"] = draw(_pool_policy(PolicyKind.TRUST, "trust", request))
    elif draw(st.booleans()):
        policies["resource"] = draw(_pool_policy(PolicyKind.RESOURCE, "resource", request))
    if draw(st.integers(0, 2)) == 0:
        full = draw(st.booleans())
        policies["boundary"] = draw(_pool_policy(PolicyKind.BOUNDARY, "boundary", request, full_access=full))
    if draw(st.integers(0, 2)) == 0:
        full = draw(st.booleans())
        policies["session"] = [draw(_pool_policy(PolicyKind.SESSION, "session-0", request, full_access=full))]
    if draw(st.integers(0, 2)) == 0:
        policies["scps"] = draw(_levels(PolicyKind.SCP, "scp-", request))
    if draw(st.integers(0, 2)) == 0:
        policies["rcps"] = draw(_levels(PolicyKind.RCP, "rcp-", request))
    request["policies"] = policies
    return request


def _decide(request: Doc) -> tuple[Decision, RequestContext, PolicySet]:
    loaded = load_request(request)
    assert not loaded.errors, [str(e) for e in loaded.errors]
    assert loaded.context is not None
    assert loaded.policies is not None
    return authorize(loaded.context, loaded.policies), loaded.context, loaded.policies


def _principal_kind(request: Doc) -> str:
    principal = request["principal"]
    for kind in ("anonymous", "service"):
        if kind in principal:
            return kind
    if "federated" in principal:
        return "web_identity"
    resource = principal["arn"].split(":", 5)[5]
    if resource == "root":
        return "root"
    if resource.startswith("assumed-role/"):
        return "session"
    return "federated_user" if resource.startswith("federated-user/") else "user"


# ---------------------------------------------------------------------------------------------------------
# b. A matching Deny anywhere in force gives ExplicitDeny
# ---------------------------------------------------------------------------------------------------------

GATE_ORDER = [Gate.RCP, Gate.SCP, Gate.RESOURCE, Gate.TRUST, Gate.IDENTITY, Gate.BOUNDARY, Gate.SESSION]


def _rank(gate: Gate) -> int:
    return 2 if gate is Gate.TRUST else GATE_ORDER.index(gate)


@st.composite
def _matching_deny(draw: Draw, request: Doc, gate: str) -> Doc:
    """A Deny statement whose Principal, Action, Resource and Condition all match the request."""
    action: str = request["action"]
    vendor, name = action.split(":")
    resource: str = request["resource"]
    deny: Doc = {"Sid": "AddedDeny", "Effect": "Deny"}
    if gate in ("resource", "trust", "rcps"):
        deny["Principal"] = "*" if gate == "rcps" else draw(st.sampled_from(["*", {"AWS": "*"}]))
    cut = draw(st.integers(0, len(name) - 1))
    actions = [action, action.lower(), action.upper(), f"{vendor}:*", "*", f"{vendor}:{name[:cut]}*"]
    actions.append(f"{vendor}:{name[:cut]}?{name[cut + 1 :]}")
    if gate == "trust":  # trust policies take STS actions without partial wildcards (validate.py TRUST_ACTIONS)
        actions = [a for a in actions if a.lower().startswith("sts:") and "?" not in a and a[-1] != "*"]
        actions += ["sts:*", "*"]
    if draw(st.integers(0, 4)) == 0:
        deny["NotAction"] = draw(st.sampled_from(["iam:CreateUser", "kms:*", "s3:Delete*"]))
    else:
        deny["Action"] = draw(_one_or_many(st.sampled_from(actions)))
    if gate != "trust":
        arn_head, _, arn_tail = resource.rpartition(":")
        resources = ["*"]
        if resource != "*":
            keep = draw(st.integers(0, len(arn_tail)))
            resources += [resource, f"{arn_head}:{arn_tail[:keep]}*", "arn:aws:*:*:*:*"]
        if draw(st.integers(0, 4)) == 0:
            deny["NotResource"] = draw(st.sampled_from(["arn:aws:s3:::elsewhere/*", "arn:aws:sqs:*:*:queue"]))
        else:
            deny["Resource"] = draw(_one_or_many(st.sampled_from(resources)))
    true_conditions = [
        {"Null": {"aws:NoSuchKey": "true"}},
        {"StringNotEquals": {"aws:NoSuchKey": "x"}},
        {"BoolIfExists": {"aws:NoSuchKey": "true"}},
        {"ForAllValues:StringEquals": {"aws:NoSuchKey": ["x"]}},
        {"StringLike": {"aws:ResourceAccount": "*"}},
    ]
    if draw(st.booleans()):
        deny["Condition"] = draw(st.sampled_from(true_conditions))
    return deny


def _gates_in_force(request: Doc) -> list[str]:
    """Gates whose Deny statements count for this request (written from request-format.md, not the engine)."""
    management = request.get("organization", {}).get("managementAccount", "")
    principal_account = request["principal"]["arn"].split(":")[4] if "arn" in request["principal"] else ""
    gates = ["identity", "boundary", "session", "trust" if request["action"].startswith("sts:") else "resource"]
    if _principal_kind(request) in ORG_BOUND and principal_account != management:
        gates.append("scps")
    if request["resourceAccount"] != management:
        gates.append("rcps")
    return gates


@SETTINGS
@given(st.data())
def test_a_matching_deny_always_wins(data: st.DataObject) -> None:
    request = data.draw(requests(), label="request")
    before, _, _ = _decide(request)
    gate = data.draw(st.sampled_from(_gates_in_force(request)), label="gate")
    deny = data.draw(_matching_deny(request, gate), label="deny")
    changed = copy.deepcopy(request)
    policies = changed["policies"]
    kind = {
        "identity": PolicyKind.IDENTITY,
        "boundary": PolicyKind.BOUNDARY,
        "session": PolicyKind.SESSION,
        "resource": PolicyKind.RESOURCE,
        "trust": PolicyKind.TRUST,
        "scps": PolicyKind.SCP,
        "rcps": PolicyKind.RCP,
    }[gate]
    if gate in ("boundary", "resource", "trust"):
        entry = policies.setdefault(gate, {"id": f"added-{gate}", "document": {"Statement": []}})
        targets = [entry]
    elif gate in ("identity", "session"):
        entries = policies.setdefault(gate, [])
        if not entries or data.draw(st.booleans(), label="new policy"):
            entries.append({"id": f"added-{gate}", "document": {"Statement": []}})
        targets = entries
    else:
        levels = policies.setdefault(gate, [])
        if not levels or data.draw(st.booleans(), label="new level"):
            levels.append([data.draw(_pool_policy(kind, f"added-{gate}", request, full_access=True), label="level")])
        targets = data.draw(st.sampled_from(levels), label="level")
    target = data.draw(st.sampled_from(targets), label="policy")
    target["document"]["Statement"].append(deny)
    assert validate_policy(target["document"], kind) == ()

    after, _, _ = _decide(changed)
    event(f"before: {before.result.value} {before.reason}; deny added to {gate}")

    assert after.result is Result.EXPLICIT_DENY, (before.to_json(), after.to_json(), gate, deny)
    assert not after.allowed
    # Deny statements only add up: the first gate holding one is the earlier of the old and the new one.
    added_gate = Gate.TRUST if gate == "trust" else Gate(gate.rstrip("s"))
    expected_rank = _rank(added_gate)
    if before.result is Result.EXPLICIT_DENY:
        expected_rank = min(expected_rank, _rank(before.gate))
    assert _rank(after.gate) == expected_rank
    if after.gate is added_gate:
        assert any(ref.sid == "AddedDeny" and ref.policy == target["id"] for ref in after.statements)
    else:
        assert after.statements == before.statements


# ---------------------------------------------------------------------------------------------------------
# c. Wildcard matchers vs slow reference globs
# ---------------------------------------------------------------------------------------------------------

ALPHABET = "ab:/*?A"
VALUE_ALPHABET = "ab:/A\n"


def _instantiate(pattern: str, draw: Draw) -> str:
    """A value built from a pattern by expanding its wildcards, so that matches are common."""
    out = []
    for char in pattern:
        if char == "*":
            out.append(draw(st.text(alphabet=VALUE_ALPHABET, max_size=4)))
        elif char == "?":
            out.append(draw(st.sampled_from(VALUE_ALPHABET)))
        else:
            out.append(char)
    return "".join(out)


SEGMENT = st.text(alphabet=ALPHABET.replace(":", ""), max_size=3)
PLAIN_PATTERNS = st.text(alphabet=ALPHABET, max_size=10)
ARN_PATTERNS = st.builds(
    lambda parts, tail: "arn:" + ":".join([*parts, tail]),
    st.lists(SEGMENT, min_size=0, max_size=5),
    st.text(alphabet=ALPHABET, max_size=6),
)


@st.composite
def pattern_and_value(draw: Draw) -> tuple[str, str]:
    pattern = draw(PLAIN_PATTERNS | ARN_PATTERNS)
    if draw(st.booleans()):
        value = _instantiate(pattern, draw)
        if draw(st.booleans()) and value:
            position = draw(st.integers(0, len(value) - 1))
            value = value[:position] + draw(st.sampled_from(VALUE_ALPHABET)) + value[position + 1 :]
    else:
        value = draw(st.text(alphabet=VALUE_ALPHABET, max_size=12) | ARN_PATTERNS.map(_strip))
    return pattern, value


def _strip(pattern: str) -> str:
    return pattern.replace("*", "").replace("?", "b")


def segment_reference(pattern: str, value: str) -> bool:
    """ARN matching written independently of wildcard.py, per evaluation.md §4.

    A pattern that starts with `arn:` is matched colon segment by colon segment. With the full six segments the
    resource segment (the sixth) keeps its own colons and its wildcards may match colons; the first five never do.
    A shorter ARN pattern has no resource segment: the value must have the same number of segments.
    Anything else is a plain whole-string glob.
    """
    if not pattern.startswith("arn:"):
        return reference_match(pattern, value)
    pattern_parts = pattern.split(":", 5)
    value_parts = value.split(":", 5) if len(pattern_parts) == 6 else value.split(":")
    if len(value_parts) != len(pattern_parts):
        return False
    return all(reference_match(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


@FAST
@given(pattern_and_value())
def test_compiled_glob_matches_reference(pair: tuple[str, str]) -> None:
    pattern, value = pair
    event(f"matches: {reference_match(pattern, value)}")
    assert compile_pattern(pattern)(value) is reference_match(pattern, value)
    lowered = value.lower()
    assert compile_pattern(pattern, ignore_case=True)(lowered) is reference_match(pattern.lower(), lowered)


@FAST
@given(pattern_and_value())
def test_compiled_arn_glob_matches_segment_reference(pair: tuple[str, str]) -> None:
    pattern, value = pair
    expected = segment_reference(pattern, value)
    event(f"arn pattern: {pattern.startswith('arn:')}, matches: {expected}")
    assert compile_pattern(pattern, per_arn_segment=True)(value) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        (
            "arn:aws:svc:*:111122223333:finance/*",
            "arn:aws:svc:us-east-2:999999999999:store/abc:111122223333:finance/x",
            False,
        ),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a:b/c", True),
        ("arn:aws:*:*:*:*", "arn:aws:s3:::b", True),
        ("arn:aws:s3:*", "arn:aws:s3:::b", False),
        ("arn:aws:iam::*:role/*", "arn:aws:iam::111111111111:role/a/b", True),
        ("arn:aws:iam::1111?1111111:role/x", "arn:aws:iam::1111:1111111:role/x", False),
    ],
)
def test_segment_reference_examples(pattern: str, value: str, expected: bool) -> None:
    """The evaluation.md §4 example and a few edges; pins both the reference and the engine."""
    assert segment_reference(pattern, value) is expected
    assert compile_pattern(pattern, per_arn_segment=True)(value) is expected


# ---------------------------------------------------------------------------------------------------------
# d. Never raise
# ---------------------------------------------------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=16)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25,
)
STATEMENT_KEYS = st.sampled_from(
    ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"]
)
OPERATOR_NAMES = st.sampled_from(
    [
        "StringEquals",
        "NumericLessThan",
        "DateGreaterThan",
        "Bool",
        "IpAddress",
        "ArnLike",
        "Null",
        "BinaryEquals",
        "ForAnyValue:StringLike",
        "ForAllValues:ArnNotLikeIfExists",
        "Foo:Bar",
        "StringEqualsIfExists",
    ]
) | st.text(max_size=12)
LOOSE_SCALARS = JSON_SCALARS | st.sampled_from(
    ["Allow", "Deny", "*", "s3:GetObject", "arn:aws:s3:::b/*", "${aws:username}", "10.0.0.0/8", "2020-01-01", "1e9"]
)
LOOSE_VALUES = LOOSE_SCALARS | st.lists(LOOSE_SCALARS, max_size=3) | JSON_VALUES
CONDITIONS = st.dictionaries(
    OPERATOR_NAMES, st.dictionaries(KEY_NAMES | st.text(max_size=6), LOOSE_VALUES, max_size=3) | JSON_VALUES, max_size=3
)
PRINCIPAL_VALUES = st.sampled_from(["*", "", "AWS"]) | st.dictionaries(
    st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser", "Other"]),
    LOOSE_VALUES | AWS_PRINCIPALS,
    max_size=3,
)
LOOSE_STATEMENTS = st.dictionaries(
    STATEMENT_KEYS,
    LOOSE_VALUES | CONDITIONS | PRINCIPAL_VALUES,
    max_size=9,
)
POLICY_SHAPED = st.fixed_dictionaries(
    {},
    optional={
        "Version": st.sampled_from(["2012-10-17", "2008-10-17", "2012-10-18"]) | JSON_VALUES,
        "Id": LOOSE_VALUES,
        "Statement": LOOSE_STATEMENTS | st.lists(LOOSE_STATEMENTS | JSON_VALUES, max_size=3) | JSON_VALUES,
        "Extra": JSON_VALUES,
    },
)


def _never_raises(source: Any) -> None:
    parsed = parse_policy(source)
    assert parsed.ok == (parsed.policy is not None and not parsed.errors)
    for kind in PolicyKind:
        errors = validate_policy(source, kind)
        assert isinstance(errors, tuple)
        assert all(isinstance(e.path, str) and e.message for e in errors)
        if not parsed.ok:
            assert errors, "a document that does not parse cannot be valid"


@FAST
@given(JSON_VALUES | POLICY_SHAPED)
def test_parse_and_validate_never_raise_on_json(value: Any) -> None:
    text = json.dumps(value)
    _never_raises(text)
    _never_raises(text.encode("utf-8"))
    if isinstance(value, dict):
        _never_raises(value)


@FAST
@given(st.text(max_size=60) | st.text(alphabet='{}[]":,\\ tnrue0123456789.-eE', max_size=60))
def test_parse_and_validate_never_raise_on_text(text: str) -> None:
    _never_raises(text)
    _never_raises(text.encode("utf-8"))


@FAST
@given(st.binary(max_size=80))
def test_parse_and_validate_never_raise_on_bytes(raw: bytes) -> None:
    _never_raises(raw)


@pytest.mark.parametrize("value", [None, [1], 7])
def test_parse_never_raises_on_a_loaded_non_object(value: Any) -> None:
    assert not parse_policy(value).ok


def test_validate_never_raises_on_a_huge_integer() -> None:
    doc = {
        "Statement": {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"NumericEquals": {"a:b": 10**5000}},
        }
    }
    assert validate_policy(doc, PolicyKind.IDENTITY)


REQUEST_SHAPED = st.fixed_dictionaries(
    {},
    optional={
        "principal": st.fixed_dictionaries(
            {},
            optional={
                "arn": st.sampled_from(
                    [f"arn:aws:iam::{ACCOUNT}:user/a", f"arn:aws:sts::{ACCOUNT}:assumed-role/R/s", "arn:x", "arn:::::"]
                )
                | JSON_VALUES,
                "roleArn": LOOSE_VALUES,
                "userArn": LOOSE_VALUES,
                "id": LOOSE_VALUES,
                "service": LOOSE_VALUES,
                "federated": LOOSE_VALUES,
                "anonymous": st.booleans() | JSON_VALUES,
                "tags": st.dictionaries(st.text(max_size=5), LOOSE_SCALARS, max_size=2) | JSON_VALUES,
                "sessionTags": st.dictionaries(st.text(max_size=5), LOOSE_SCALARS, max_size=2) | JSON_VALUES,
            },
        )
        | JSON_VALUES,
        "action": st.sampled_from(["s3:GetObject", "sts:AssumeRole", "nope"]) | JSON_VALUES,
        "resource": st.sampled_from(["*", "arn:aws:s3:::b/k", "arn:aws:iam::1:role/x"]) | JSON_VALUES,
        "resourceAccount": st.sampled_from([ACCOUNT, ""]) | JSON_VALUES,
        "context": st.dictionaries(KEY_NAMES, LOOSE_VALUES, max_size=3) | JSON_VALUES,
        "organization": st.fixed_dictionaries({}, optional={"managementAccount": LOOSE_VALUES}) | JSON_VALUES,
        "policies": st.dictionaries(
            st.sampled_from(["identity", "resource", "trust", "boundary", "session", "scps", "rcps", "other"]),
            st.fixed_dictionaries({"id": LOOSE_VALUES, "document": POLICY_SHAPED | JSON_VALUES | st.text(max_size=30)})
            | st.lists(
                st.fixed_dictionaries({"id": st.text(max_size=4), "document": POLICY_SHAPED}) | JSON_VALUES,
                max_size=2,
            )
            | st.lists(st.lists(st.fixed_dictionaries({"id": st.just("p"), "document": POLICY_SHAPED})), max_size=2)
            | JSON_VALUES,
            max_size=4,
        )
        | JSON_VALUES,
    },
)


@FAST
@given(JSON_VALUES | REQUEST_SHAPED)
def test_load_request_never_raises(value: Any) -> None:
    loaded = load_request(value)
    if loaded.errors:
        assert loaded.context is None
        assert loaded.policies is None
        return
    assert loaded.context is not None
    assert loaded.policies is not None
    decision = authorize(loaded.context, loaded.policies)
    assert render_text(decision)
    assert json.loads(render_json(decision))["decision"] == decision.result.value


# ---------------------------------------------------------------------------------------------------------
# e. Fast decision == lazy analysis
# ---------------------------------------------------------------------------------------------------------


def _applying(gate: GateAnalysis, effect: str, level: int | None = None) -> set[StatementRef]:
    return {
        m.ref
        for p in gate.policies
        if level is None or p.level == level
        for m in p.statements
        if m.applies and m.effect == effect
    }


def _principal_matches(gate: GateAnalysis, kinds: set[PrincipalMatch]) -> set[StatementRef]:
    return {
        m.ref for p in gate.policies for m in p.statements if m.applies and m.effect == "Allow" and m.principal in kinds
    }


@SETTINGS
@given(requests())
def test_decision_agrees_with_analysis(request: Doc) -> None:
    decision, ctx, policies = _decide(request)
    event(f"{decision.result.value} {decision.gate.value} {decision.reason}")
    analysis = {g.gate: g for g in decision.analysis}
    in_force = [g for g in decision.analysis if g.in_force]
    named = set(decision.statements)
    assert len(named) == len(decision.statements)

    if decision.result is Result.EXPLICIT_DENY:
        gate = analysis[decision.gate]
        assert gate.in_force
        assert named == _applying(gate, "Deny")
        assert named
        for earlier in in_force:
            if _rank(earlier.gate) < _rank(decision.gate):
                assert not _applying(earlier, "Deny"), earlier.gate
        return

    for gate in in_force:
        assert not _applying(gate, "Deny"), gate.gate
    resource = analysis.get(policies.resource_gate)
    resource_allows = _applying(resource, "Allow") if resource else set()
    identity_allows = _applying(analysis[Gate.IDENTITY], "Allow")
    direct = _principal_matches(resource, {PrincipalMatch.DIRECT}) if resource else set()
    entity = _principal_matches(resource, {PrincipalMatch.ENTITY}) if resource else set()
    reason = decision.reason

    if decision.result is Result.IMPLICIT_DENY:
        assert named == set()
        if reason in ("no_allow_at_every_scp_level", "no_allow_at_every_rcp_level"):
            gate = analysis[decision.gate]
            assert any(not _applying(gate, "Allow", p.level) for p in gate.policies)
        elif reason in (
            "trust_policy_does_not_allow",
            "no_resource_policy_allow",
            "cross_account_resource_side_does_not_allow",
        ):
            assert not resource_allows
        elif reason == "no_identity_policy_allow":
            assert not identity_allows
            assert not direct
            assert not entity
        elif reason == "cross_account_identity_side_does_not_allow":
            assert resource_allows
            assert not identity_allows
        elif reason in ("permissions_boundary_does_not_allow", "session_policy_does_not_allow"):
            assert not analysis[decision.gate].allows
        else:
            assert reason in ("root_cannot_assume_role", "federated_user_without_session_policy"), reason
        return

    assert decision.result is Result.ALLOWED
    if reason == "allowed_by_identity_policy":
        assert named == identity_allows
    elif reason == "allowed_cross_account":
        assert identity_allows
        assert resource_allows
        assert named == identity_allows | resource_allows
    elif reason == "allowed_by_resource_policy_naming_caller":
        assert named == direct
    elif reason == "allowed_by_resource_policy_naming_entity":
        assert named == entity
    elif reason == "allowed_by_resource_policy":
        assert named
        assert named <= resource_allows
    else:
        assert reason == "root_user", reason
        assert named == set()
    if reason in ("allowed_by_identity_policy", "allowed_cross_account", "allowed_by_resource_policy_naming_entity"):
        # Grants that pass through the caller's side are limited by its boundary and session policies.
        if Gate.BOUNDARY in analysis:
            assert analysis[Gate.BOUNDARY].allows
        if Gate.SESSION in analysis and ctx.principal.is_session:
            assert analysis[Gate.SESSION].allows


@st.composite
def _clause_and_keys(draw: Draw) -> tuple[CompiledClause, dict[str, tuple[str, ...]]]:
    name, block = draw(_operator_block())
    assume(block)
    key, values = next(iter(block.items()))
    single = not isinstance(values, list)
    clause = ConditionClause(name, key, (values,) if single else tuple(values), single)
    family = next((f for f, (names, _) in OPERATOR_FAMILIES.items() if any(n in name for n in names)), "bool")
    context_values = OPERATOR_FAMILIES.get(family, (None, BOOL_VALUES))[1] | STRING_VALUES
    keys: dict[str, tuple[str, ...]] = {"aws:username": ("alice",)}
    if draw(st.integers(0, 3)) > 0:
        if draw(st.booleans()) and not single:
            picked = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2))  # often a hit
        else:
            picked = draw(st.lists(context_values, min_size=0, max_size=3))
        keys[key.lower()] = tuple(scalar_text(v) for v in picked)
    return CompiledClause(clause, variables_enabled=True), keys


@FAST
@given(_clause_and_keys())
def test_condition_fast_check_agrees_with_evaluate(pair: tuple[CompiledClause, dict[str, tuple[str, ...]]]) -> None:
    """The specialised yes/no path of a clause (used by decisions) == the reasoned path (used by explanations)."""
    clause, keys = pair
    result, reason = clause.evaluate(keys)
    event(
        f"{'qualified' if clause.name.qualifier.value else 'plain'} {clause.clause.operator.split(':')[-1]}: {result}"
    )
    assert clause.check(keys) is result
    assert is_true(reason) is result


@SETTINGS
@given(requests())
def test_fast_statement_check_agrees_with_analysis(request: Doc) -> None:
    """Statement by statement: candidates + applies (the decision's path) == analyse (the explanation's path)."""
    _, ctx, policies = _decide(request)
    has_boundary = policies.boundary is not None
    groups: list[tuple[bool, tuple[CompiledPolicy, ...]]] = [
        (False, policies.identity),
        (True, (policies.resource,) if policies.resource else ()),
        (False, (policies.boundary,) if policies.boundary else ()),
        (False, policies.session),
        (False, tuple(p for level in policies.scps for p in level)),
        (False, tuple(p for level in policies.rcps for p in level)),
    ]
    checked = 0
    for check_principal, compiled in groups:
        for policy in compiled:
            candidates = policy.candidates(ctx.action_lower, ctx.resource)
            for stmt in policy.statements:
                fast = applies(stmt, ctx, has_boundary, check_principal) if stmt in candidates else None
                lazy = analyse(stmt, ctx, has_boundary, check_principal)
                assert (fast is not None) == lazy.applies, (stmt.ref, lazy)
                assert lazy.principal is (fast or PrincipalMatch.NONE)
                checked += 1
    assert checked == sum(len(p.statements) for _, compiled in groups for p in compiled)
