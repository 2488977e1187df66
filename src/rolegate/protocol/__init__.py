"""Wire codecs driven by botocore's service models: awsQuery (IAM, STS) and awsJson 1.1 (Organizations)."""

from rolegate.protocol.constraints import Violation, check_json_input, check_query_input, violations
from rolegate.protocol.errors import Response, as_aws_error, json_error_response, query_error_response
from rolegate.protocol.json import json_response, parse_json_request
from rolegate.protocol.models import (
    error_class,
    json_operation,
    model_error,
    operation_model,
    query_operation,
    service_model,
)
from rolegate.protocol.query import decode_form, parse_query, query_response

__all__ = [
    "Response",
    "Violation",
    "as_aws_error",
    "check_json_input",
    "check_query_input",
    "decode_form",
    "error_class",
    "json_error_response",
    "json_operation",
    "json_response",
    "model_error",
    "operation_model",
    "parse_json_request",
    "parse_query",
    "query_error_response",
    "query_operation",
    "query_response",
    "service_model",
    "violations",
]
