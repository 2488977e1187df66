"""botocore service models: load once, find operations, read modeled errors, format and parse timestamps.

botocore ships no type hints, so its objects are typed `Any` here (as `Shape`, `OperationModel`,
`ServiceModel`); every other protocol module goes through these aliases instead of importing botocore.
"""

from __future__ import annotations

import calendar
import functools
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeAlias

import botocore.loaders  # type: ignore[import-untyped]  # botocore ships no type hints
import botocore.model  # type: ignore[import-untyped]  # botocore ships no type hints

from rolegate.errors import AwsError, InvalidAction, aws_error

ServiceModel: TypeAlias = Any
OperationModel: TypeAlias = Any
Shape: TypeAlias = Any

SERVICES = ("iam", "sts", "organizations", "s3")

MissingAction = aws_error("MissingAction", 400)
UnknownOperationException = aws_error("UnknownOperationException", 400)


@functools.cache
def _loader() -> Any:
    return botocore.loaders.create_loader()


@functools.cache
def service_model(service: str) -> ServiceModel:
    """The botocore model for a service name ("iam", "sts", "organizations", "s3"), loaded once."""
    if service not in SERVICES:
        raise KeyError(f"unknown service {service!r}")
    data = _loader().load_service_model(service, "service-2")
    return botocore.model.ServiceModel(data, service_name=service)


@functools.cache
def _operations(service: str) -> frozenset[str]:
    return frozenset(service_model(service).operation_names)


def operation_model(service: str, name: str) -> OperationModel | None:
    """The operation's model, or None when the service has no operation of that exact name."""
    if name not in _operations(service):
        return None
    return service_model(service).operation_model(name)


def query_operation(service: str, params: Mapping[str, str]) -> OperationModel:
    """The operation an awsQuery request names in its Action (and optional Version) parameter."""
    action = params.get("Action")
    if not action:
        raise MissingAction("Missing Action")
    version = params.get("Version")
    api_version = service_model(service).api_version
    found = operation_model(service, action)
    if found is None or (version is not None and version != api_version):
        raise InvalidAction(f"Could not find operation {action} for version {version or api_version}")
    return found


def json_operation(service: str, target: str | None) -> OperationModel:
    """The operation an awsJson request names in X-Amz-Target (`<targetPrefix>.<Operation>`)."""
    prefix = service_model(service).metadata.get("targetPrefix", "")
    head, dot, name = (target or "").partition(".")
    found = operation_model(service, name) if dot and head == prefix else None
    if found is None:
        raise UnknownOperationException("")
    return found


def model_error(service: str, code: str) -> tuple[int, bool] | None:
    """(HTTP status, sender fault) of an error code the service models; None when it models no such code.

    Codes come from the shape's `error.code` (IAM's NoSuchEntityException has code NoSuchEntity) or,
    when the shape declares none, its name. Unmodeled statuses follow the shape's `fault` trait:
    500 for server faults, 400 otherwise; unmodeled sender fault means "status below 500, no fault".
    """
    return _model_errors(service).get(code)


@functools.cache
def _model_errors(service: str) -> dict[str, tuple[int, bool]]:
    table: dict[str, tuple[int, bool]] = {}
    for shape in service_model(service).error_shapes:
        error = shape.metadata.get("error") or {}
        fault = bool(shape.metadata.get("fault"))
        status = int(error.get("httpStatusCode", 500 if fault else 400))
        sender = bool(error.get("senderFault", status < 500 and not fault))
        table[error.get("code", shape.name)] = (status, sender)
    return table


def error_class(service: str, code: str) -> type[AwsError]:
    """An AwsError subclass for a modeled code, with the model's status and fault (KeyError if unmodeled)."""
    found = model_error(service, code)
    if found is None:
        raise KeyError(f"{service} models no error {code!r}")
    return _error_class(code, *found)


@functools.cache
def _error_class(code: str, status: int, sender_fault: bool) -> type[AwsError]:
    return aws_error(code, status, sender_fault)


def member_name(shape: Shape, default: str) -> str:
    """The wire name of a member or list/map element: its locationName, else the given default."""
    return str(shape.serialization.get("name", default))


INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
"""The value range of the model's integer types, for every protocol."""


def float_text(value: float) -> str:
    """A float as AWS writes it in XML and headers: NaN, Infinity and -Infinity spelled out."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_iso8601(value: datetime) -> str:
    """`2026-11-22T13:59:26Z`, or with milliseconds (`…26.359Z`) when the instant has any."""
    value = as_utc(value)
    text = f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    millis = value.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def format_epoch(value: datetime) -> float:
    """Epoch seconds with millisecond precision, as the awsJson protocol writes timestamps."""
    value = as_utc(value)
    return calendar.timegm(value.utctimetuple()) + (value.microsecond // 1000) / 1000


def parse_iso8601(text: str) -> datetime:
    """ISO 8601 (`Z` or an offset; naive taken as UTC) to an aware UTC datetime; ValueError otherwise."""
    if not text or not text[0].isdigit():
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    return as_utc(datetime.fromisoformat(text))


def parse_epoch(value: float) -> datetime:
    """Epoch seconds to an aware UTC datetime; ValueError (not OverflowError) when out of range."""
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"timestamp out of range: {value!r}") from exc
