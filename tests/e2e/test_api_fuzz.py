"""Generated IAM, STS and Organizations calls against a live server: whatever arrives, the answer is AWS's.

Each example draws an operation rolegate implements and values for the members of its input shape in
botocore's model: either wild ones (arbitrary text, out-of-range numbers, malformed policy documents, nested
lists) or plausible ones (names of entities that exist, enum values, modest numbers) that get past the
validation and lookups into the operations themselves. boto3, with its own parameter validation
off, serializes (query or JSON protocol), signs and sends them as the management account's root user. The
server must answer every one that reaches it with a success or an AWS error below 500 that botocore can
parse, and its log must stay free of tracebacks.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import Shape
from e2e_support import ROOT_KEY_ID, ROOT_SECRET, LiveServer, live_server
from fuzz_support import shape_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegate.services import iam, organizations, sts
from rolegate.services.registry import REGISTRY

SERVICES = ("iam", "sts", "organizations")
OPERATIONS = sorted((service, name) for service, name in REGISTRY if service in SERVICES)
assert iam and sts and organizations and len({service for service, _ in OPERATIONS}) == 3  # registered
EXAMPLES = 400
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def _pool(shape_name: str, known: list[str]) -> list[str]:
    """The known values that fit what a string shape's name says it holds (an ARN, a document, a name)."""
    lowered = shape_name.lower()
    if "arn" in lowered:
        return [value for value in known if value.startswith("arn:")]
    if "document" in lowered or lowered == "policy":
        return [value for value in known if value.startswith("{")]
    if "id" in lowered and "account" in lowered:
        return [value for value in known if value.isdigit()]
    return [value for value in known if not value.startswith(("{", "arn:"))]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, list[str]]]:
    """The server, and values that name what exists in it (a user, a group, a role, a policy, the account)."""
    with live_server(tmp_path_factory.mktemp("api-fuzz") / "data") as server:
        account = server.management_account
        client = server.client("iam")
        trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": account}, "Action": "sts:AssumeRole"}],
            }
        )
        role = client.create_role(RoleName="fuzz-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        client.create_user(UserName="fuzz-user")
        client.create_group(GroupName="fuzz-group")
        policy = client.create_policy(PolicyName="fuzz-policy", PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
        key = client.create_access_key(UserName="fuzz-user")["AccessKey"]["AccessKeyId"]
        known = ["fuzz-role", "fuzz-user", "fuzz-group", "fuzz-policy", role, policy, key, account, ALLOW_ALL, trust]
        yield server, known
        log = server.log()
        assert "Traceback" not in log, log


def text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["", " ", "*", "/", "arn:aws:iam::", "{", '{"Version":', "null", "a" * 3000]),
        st.text(alphabet=string.printable, max_size=40),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
    )


def value_for(shape: Shape, known: list[str], wild: bool) -> st.SearchStrategy[Any]:
    """A value of the shape's type: with `wild`, often one its constraints refuse; otherwise names of what
    exists, enum values and modest numbers, which get further into the operations."""

    def strings(string_shape: Shape) -> st.SearchStrategy[str]:
        plausible = st.sampled_from(string_shape.enum or _pool(string_shape.name, known))
        return st.one_of(plausible, plausible, text()) if wild else plausible

    modest = st.sampled_from([1, 10, 900, 3600, 43_200, 1000])
    return shape_value(
        shape,
        strings=strings,
        numbers=st.one_of(st.integers(-3, 3), st.integers(-(2**40), 2**40), modest) if wild else modest,
        maps=st.dictionaries(text(), text(), max_size=3)
        if wild
        else st.dictionaries(st.sampled_from(known), st.sampled_from(known), max_size=2),
        required=True,
    )


SENT: list[str] = []  # requests that reached the wire, for the example being run
ANSWERED: list[str] = []  # operations the server answered, over all examples
_CLIENTS: dict[tuple[str, str], Any] = {}


def _client(server: LiveServer, service: str) -> Any:
    """One client per service, without boto3's parameter validation or retries (built once: creating clients
    costs more than the calls)."""
    found = _CLIENTS.get((server.endpoint, service))
    if found is None:
        found = boto3.client(
            service,
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id=ROOT_KEY_ID,
            aws_secret_access_key=ROOT_SECRET,
            config=Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"}),
        )
        found.meta.events.register("before-send", lambda request, **_: SENT.append(request.url))
        _CLIENTS[(server.endpoint, service)] = found
    return found


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_calls_with_arbitrary_parameters_get_aws_answers(world: tuple[LiveServer, list[str]], data: Any) -> None:
    server, known = world
    service, name = data.draw(st.sampled_from(OPERATIONS))
    client = _client(server, service)
    model = client.meta.service_model.operation_model(name)
    wild = data.draw(st.booleans())
    params = data.draw(value_for(model.input_shape, known, wild)) if model.input_shape is not None else {}
    SENT.clear()
    try:
        client._make_api_call(name, params)
        ANSWERED.append(name)
    except ClientError as error:
        ANSWERED.append(name)
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        code = error.response["Error"]["Code"]
        assert status < 500 and code not in ("InternalFailure", "InternalError", "ServiceUnavailable"), (
            f"{service} {name}: {status} {code} for {params!r}"
        )
    except Exception:
        if SENT:  # the server answered something botocore could not read
            raise
        # otherwise botocore could not put the values on the wire: nothing reached the server


def test_the_generated_calls_reached_the_server() -> None:
    """Runs after the fuzzing (file order): most examples were sent and answered, across most operations, so
    the property above was not checked on requests botocore never sent."""
    assert len(ANSWERED) >= EXAMPLES // 2, len(ANSWERED)
    assert len(set(ANSWERED)) >= len(OPERATIONS) // 2, sorted(set(ANSWERED))
