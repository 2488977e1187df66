"""Generated S3 requests against a live server: whatever arrives, the answer is S3's, never a server failure.

Two generators. The first draws an operation rolegate implements and values for every member of its input
shape in botocore's model (strings with awkward characters, negative and huge numbers, nested lists and
structures), serializes them with botocore's own rest-xml serializer, signs them as the root user and sends
them over HTTP: the requests are well signed, so they reach the operations' code with values no SDK would
validate away. The second sends mangled requests: odd methods, paths, queries, headers and bodies, unsigned
or with broken Authorization headers (those that do not present themselves as S3 may be answered by IAM and
STS, which share the port). Either way the server must answer below 500 (501 NotImplemented is S3's own
answer to features it does not offer) with an AWS error document when it refuses, and its log must stay
free of tracebacks. Header values HTTP itself forbids (control characters) are left out: the HTTP parser
refuses those before any AWS code runs.
"""

from __future__ import annotations

import string
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import botocore.handlers
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest, prepare_request_dict
from botocore.model import OperationModel, Shape
from botocore.serialize import create_serializer
from e2e_support import LiveServer, live_server
from fuzz_support import shape_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from s3_e2e_support import port_of, s3_client, send_raw, send_signed, signed_request

from rolegate.services import s3 as s3_operations
from rolegate.services.registry import REGISTRY

S3_MODEL = botocore.session.get_session().get_service_model("s3")
OPERATIONS = sorted(name for service, name in REGISTRY if service == "s3")  # registered by `s3_operations`
assert s3_operations.objects is not None and OPERATIONS
BUCKET = "fuzz-bucket"
KEYS = ["existing.txt", "dir/nested.bin", "absent"]
# Text that tends to break parsers and path handling, beside arbitrary text.
AWKWARD = ["", " ", "/", "//", "..", "%", "%2F", "?", "&", "=", "*", "\\", "<x>", "&amp;", "\u00e9", "\U0001f600"]
EXAMPLES = 300


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("fuzz") / "data") as running:
        s3 = s3_client(running)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="existing.txt", Body=b"hello", Tagging="a=1")
        s3.put_object(Bucket=BUCKET, Key="dir/nested.bin", Body=bytes(range(256)))
        yield running
        log = running.output.read_text(errors="replace")
        assert "Traceback" not in log, log


def text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(AWKWARD),
        st.text(alphabet=string.printable.translate({ord(c): None for c in "\r\n\x0b\x0c"}), max_size=40),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
        st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=20),
    )


def value_for(shape: Shape) -> st.SearchStrategy[Any]:
    """A value of the shape's type, not necessarily one its constraints allow."""
    return shape_value(
        shape,
        strings=lambda string_shape: st.sampled_from(string_shape.enum) | text() if string_shape.enum else text(),
        numbers=st.one_of(st.integers(-3, 3), st.integers(-(2**40), 2**40), st.sampled_from([0, 1000, 10_001])),
        maps=st.dictionaries(text(), text(), max_size=3),
        required=False,
    )


@st.composite
def operation_request(draw: st.DrawFn) -> tuple[OperationModel, dict[str, Any]]:
    model = S3_MODEL.operation_model(draw(st.sampled_from(OPERATIONS)))
    params: dict[str, Any] = draw(value_for(model.input_shape)) if model.input_shape is not None else {}
    members = model.input_shape.members if model.input_shape is not None else {}
    if "Bucket" in members:
        names = st.text(alphabet=string.ascii_lowercase + string.digits + ".-_", min_size=1, max_size=70)
        params["Bucket"] = draw(st.sampled_from([BUCKET, BUCKET, BUCKET, "no-such-fuzz-bucket"]) | names)
    if "Key" in members:
        params["Key"] = draw(st.sampled_from(KEYS) | text().filter(bool))
    if "CopySource" in members:
        params["CopySource"] = draw(st.sampled_from([f"{BUCKET}/existing.txt", f"/{BUCKET}/dir/nested.bin"]) | text())
    return model, params


def valid_field_value(value: str) -> bool:
    """RFC 9110 field-value characters: no control character but horizontal tab."""
    return all(char == "\t" or not (ord(char) < 0x20 or ord(char) == 0x7F) for char in value)


def assert_s3_answer(status: int, body: bytes, what: str, *, query_protocol: bool = False) -> None:
    """Below 500 (or S3's 501), with an error document naming a code other than InternalError. With
    `query_protocol`, a request that does not present itself as S3 may be answered by IAM/STS, which share the
    port, with their own error document."""
    assert status < 500 or status == 501, f"{status} for {what}: {body[:500]!r}"
    if status >= 300 and body:
        root = ET.fromstring(body)
        if query_protocol and root.tag.endswith("ErrorResponse"):
            code = root.findtext("{*}Error/{*}Code")
        else:
            assert root.tag == "Error", body
            code = root.findtext("Code")
        assert code and code not in ("InternalError", "InternalFailure"), f"{code} for {what}"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=operation_request())
def test_signed_requests_with_arbitrary_parameters_get_s3_answers(
    server: LiveServer, request: tuple[OperationModel, dict[str, Any]]
) -> None:
    model, params = request
    try:
        botocore.handlers.validate_bucket_name(params)  # SDKs refuse a bucket name that would not fit in a path
        serialized = create_serializer("rest-xml", include_validation=False).serialize_to_request(params, model)
        prepare_request_dict(serialized, endpoint_url=server.endpoint)
    except Exception:  # values botocore itself cannot put on the wire never reach a server
        return
    url = serialized["url"]
    body = serialized["body"] if isinstance(serialized["body"], bytes) else str(serialized["body"] or "").encode()
    headers = {name: str(value) for name, value in serialized["headers"].items()}
    if not all(value.isascii() and valid_field_value(value) for value in headers.values()):
        return  # not HTTP: clients refuse to send such header values, and the HTTP parser refuses them
    path = url.split("://", 1)[1].split("/", 1)[1] if url.count("/") >= 3 else ""
    headers = {name: value for name, value in headers.items() if name.lower() != "content-length"}
    if body or model.http["method"] in ("PUT", "POST"):
        headers["Content-Length"] = str(len(body))  # the body's own length: HTTP framing is not under test
    signed = signed_request(server, model.http["method"], f"/{path}", body=body, headers=headers)
    status, _, answer = send_signed(server, signed)
    assert_s3_answer(status, answer, f"{model.name} {params!r}")


HEADER_NAMES = [
    "authorization",
    "x-amz-date",
    "x-amz-content-sha256",
    "content-length",
    "content-md5",
    "x-amz-checksum-crc32",
    "x-amz-sdk-checksum-algorithm",
    "x-amz-trailer",
    "content-encoding",
    "x-amz-decoded-content-length",
    "range",
    "if-match",
    "x-amz-copy-source",
    "x-amz-tagging",
    "x-amz-security-token",
    "x-amz-meta-x",
    "host",
    "expect",
]


@st.composite
def mangled_request(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes]:
    method = draw(st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"]))
    segments = draw(
        st.lists(st.sampled_from([BUCKET, "existing.txt", "x", "%00", "%zz", "..", "", "a%2Fb"]), max_size=4)
    )
    query = draw(
        st.lists(
            st.sampled_from(
                [
                    "uploads",
                    "uploadId=1",
                    "partNumber=0",
                    "tagging",
                    "policy",
                    "list-type=2",
                    "max-keys=-1",
                    "X-Amz-Credential=a%2Fb",
                    "X-Amz-Signature=00",
                    "AWSAccessKeyId=AKIA",
                    "Signature=x",
                    "Expires=1",
                    "attributes",
                    "delete",
                    "location",
                    "prefix=%ff",
                    "continuation-token=%%",
                    "x=&&",
                ]
            ),
            max_size=3,
        )
    )
    target = "/" + "/".join(segments) + ("?" + "&".join(query) if query else "")
    printable = st.text(alphabet=string.printable.replace("\r", "").replace("\n", ""), max_size=60)
    headers = draw(st.dictionaries(st.sampled_from(HEADER_NAMES), printable, max_size=5))
    body = draw(st.binary(max_size=128))
    return method, target, headers, body


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=mangled_request())
def test_mangled_requests_get_s3_answers(server: LiveServer, request: tuple[str, str, dict[str, str], bytes]) -> None:
    method, target, headers, body = request
    headers = {
        name: value
        for name, value in headers.items()
        if name not in ("content-length", "host") and valid_field_value(value)  # see the signed test
    }
    try:
        status, _, answer = send_raw(port_of(server), method, target, headers, body)
    except (ConnectionError, OSError) as error:  # the server may close on a request HTTP itself forbids
        pytest.fail(f"connection failed for {request!r}: {error}")
    assert_s3_answer(status, answer, repr(request), query_protocol=True)


def test_the_fuzzing_requests_reach_the_operations(server: LiveServer) -> None:
    """The generators are not vacuous: a plain request built the same way succeeds."""
    s3_client(server).put_object(Bucket=BUCKET, Key="sanity.txt", Body=b"hello")  # the fuzzing may delete others
    model = S3_MODEL.operation_model("GetObject")
    serialized = create_serializer("rest-xml", include_validation=False).serialize_to_request(
        {"Bucket": BUCKET, "Key": "sanity.txt"}, model
    )
    prepare_request_dict(serialized, endpoint_url=server.endpoint)
    path = serialized["url"].split("://", 1)[1].split("/", 1)[1]
    signed: AWSRequest = signed_request(server, "GET", f"/{path}")
    status, _, answer = send_signed(server, signed)
    assert (status, answer) == (200, b"hello")
