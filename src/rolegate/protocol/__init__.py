"""Wire codecs driven by botocore's service models: awsQuery (IAM, STS), awsJson 1.1 (Organizations), rest-xml (S3)."""

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
from rolegate.protocol.restxml import (
    parse_copy_source,
    parse_s3_request,
    s3_error_response,
    s3_response,
    split_bucket_host,
)

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
    "parse_copy_source",
    "parse_json_request",
    "parse_query",
    "parse_s3_request",
    "query_error_response",
    "query_operation",
    "query_response",
    "s3_error_response",
    "s3_response",
    "service_model",
    "split_bucket_host",
    "violations",
]
