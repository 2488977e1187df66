"""Error bodies: botocore's parsers must read our code, message and request id; statuses come from the model."""

from __future__ import annotations

import json

import botocore.parsers
import pytest
from botocore.errorfactory import ClientExceptionsFactory
from protocol_support import golden, operation

from rolegate.errors import AccessDenied, AwsError, InternalFailure, ValidationError
from rolegate.protocol import error_class, json_error_response, model_error, query_error_response, service_model
from rolegate.protocol.errors import INTERNAL_FAILURE_MESSAGE, as_aws_error
from rolegate.protocol.query import serialize_query_error

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
REQUEST_ID = "c6104cbe-af31-11e0-8154-cbc7ccf896c7"


def _parse_error(protocol: str, status: int, headers: list[tuple[str, str]], body: bytes) -> dict[str, object]:
    parser = botocore.parsers.create_parser(protocol)
    lowered = {k.lower(): v for k, v in headers}
    parsed: dict[str, object] = parser.parse({"body": body, "headers": lowered, "status_code": status}, None)
    return parsed


def test_query_error_as_botocore_reads_it() -> None:
    no_such_entity = error_class("iam", "NoSuchEntity")
    status, headers, body = query_error_response(
        no_such_entity("The role with name missing cannot be found."), REQUEST_ID, IAM_NS
    )
    assert status == 404
    assert dict(headers) == {"Content-Type": "text/xml", "x-amzn-RequestId": REQUEST_ID}
    parsed = _parse_error("query", status, headers, body)
    assert parsed["Error"] == {
        "Type": "Sender",
        "Code": "NoSuchEntity",
        "Message": "The role with name missing cannot be found.",
    }
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID  # type: ignore[index]
    golden("iam-error-NoSuchEntity.xml", body.decode("utf-8") + "\n")


def test_server_faults_are_receiver_errors() -> None:
    service_failure = error_class("iam", "ServiceFailure")
    status, headers, body = query_error_response(service_failure("try again"), REQUEST_ID, IAM_NS)
    assert status == 500
    assert _parse_error("query", status, headers, body)["Error"] == {
        "Type": "Receiver",
        "Code": "ServiceFailure",
        "Message": "try again",
    }


def test_special_characters_in_messages_are_escaped() -> None:
    message = 'User: arn:aws:iam::1:user/a<b> is not authorized to perform: iam:GetRole on resource: "x" & y'
    status, headers, body = query_error_response(AccessDenied(message), REQUEST_ID, IAM_NS)
    assert status == 403
    assert _parse_error("query", status, headers, body)["Error"]["Message"] == message  # type: ignore[index]


@pytest.mark.parametrize(
    "exc", [RuntimeError("/srv/secret/path leaked"), KeyError("db password"), InternalFailure("trace")]
)
def test_unexpected_exceptions_never_leak_their_text(exc: BaseException) -> None:
    for status, headers, body in (
        query_error_response(exc, REQUEST_ID, IAM_NS),
        json_error_response(exc, REQUEST_ID),
    ):
        assert status == 500
        assert b"secret" not in body and b"password" not in body and b"trace" not in body
        protocol = "query" if dict(headers)["Content-Type"] == "text/xml" else "json"
        error = _parse_error(protocol, status, headers, body)["Error"]
        assert error["Code"] == "InternalFailure"  # type: ignore[index]
        assert error["Message"] == INTERNAL_FAILURE_MESSAGE  # type: ignore[index]


def test_aws_errors_pass_through_unchanged() -> None:
    error = ValidationError("1 validation error detected: x")
    assert as_aws_error(error) is error


def test_json_error_as_botocore_reads_it() -> None:
    not_in_use = error_class("organizations", "AWSOrganizationsNotInUseException")
    error = not_in_use("Your account is not a member of an organization.")
    status, headers, body = json_error_response(error, REQUEST_ID)
    assert status == 400
    assert dict(headers) == {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": REQUEST_ID}
    assert json.loads(body) == {"__type": "AWSOrganizationsNotInUseException", "Message": error.message}
    parsed = _parse_error("json", status, headers, body)
    assert parsed["Error"] == {"Code": "AWSOrganizationsNotInUseException", "Message": error.message}
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID  # type: ignore[index]


def test_json_error_extra_fields_reach_the_modeled_exception() -> None:
    invalid_input = error_class("organizations", "InvalidInputException")
    status, headers, body = json_error_response(invalid_input("bad", Reason="INVALID_PATTERN"), REQUEST_ID)
    shape = service_model("organizations").shape_for("InvalidInputException")
    parser = botocore.parsers.create_parser("json")
    modeled = parser.parse({"body": body, "headers": dict(headers), "status_code": status}, shape)
    assert modeled == {"Message": "bad", "Reason": "INVALID_PATTERN"}


@pytest.mark.parametrize("service", ["iam", "sts", "organizations"])
def test_every_modeled_error_maps_to_its_botocore_exception_class(service: str) -> None:
    model = service_model(service)
    exceptions = ClientExceptionsFactory().create_client_exceptions(model)
    protocol = "query" if model.protocol == "query" else "json"
    for shape in model.error_shapes:
        code = shape.metadata.get("error", {}).get("code", shape.name)
        cls = error_class(service, code)
        if protocol == "query":
            status, headers, body = query_error_response(cls("m"), REQUEST_ID, model.metadata.get("xmlNamespace"))
        else:
            status, headers, body = json_error_response(cls("m"), REQUEST_ID)
        parsed_code = _parse_error(protocol, status, headers, body)["Error"]["Code"]  # type: ignore[index]
        assert exceptions.from_code(parsed_code).__name__ == shape.name
        assert (status, cls.sender_fault) == model_error(service, code)


def test_model_statuses() -> None:
    assert model_error("iam", "NoSuchEntity") == (404, True)
    assert model_error("iam", "EntityAlreadyExists") == (409, True)
    assert model_error("iam", "ServiceFailure") == (500, False)
    assert model_error("sts", "RegionDisabledException") == (403, True)
    assert model_error("sts", "ExpiredTokenException") == (400, True)
    assert model_error("organizations", "AccessDeniedException") == (400, True)
    assert model_error("iam", "NoSuchEntityException") is None
    with pytest.raises(KeyError):
        error_class("iam", "Nope")


def test_serialize_query_error_matches_the_response_body() -> None:
    error: AwsError = AccessDenied("no")
    _, _, body = query_error_response(error, "r", IAM_NS)
    assert serialize_query_error(error, "r", IAM_NS) == body
    assert operation("iam", "GetRole") is not None


def test_json_extras_cannot_shadow_code_or_message() -> None:
    error = AccessDenied("real", Reason="R", Nested={"x": 1}, Message="fake", __type="Fake")
    _, _, body = json_error_response(error, REQUEST_ID)
    assert json.loads(body) == {"__type": "AccessDenied", "Message": "real", "Reason": "R"}
