"""Shared helpers for the protocol tests: botocore's own serializers and parsers as the reference."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import botocore.parsers
import botocore.serialize
from botocore.awsrequest import AWSRequest

from rolegate.protocol import models

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("ROLEGATE_UPDATE_GOLDEN") == "1"
ENDPOINTS = {
    "iam": "https://iam.amazonaws.com/",
    "sts": "https://sts.us-east-1.amazonaws.com/",
    "organizations": "https://organizations.us-east-1.amazonaws.com/",
}


def operation(service: str, name: str) -> Any:
    found = models.operation_model(service, name)
    assert found is not None, f"{service} has no operation {name}"
    return found


def botocore_request(service: str, name: str, params: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """The headers and body bytes botocore's client would send (serializer, then AWSRequest.prepare)."""
    op = operation(service, name)
    protocol = op.metadata["protocol"]
    serialized = botocore.serialize.create_serializer(protocol).serialize_to_request(params, op)
    request = AWSRequest(
        method=serialized["method"], url=ENDPOINTS[service], data=serialized["body"], headers=serialized["headers"]
    )
    body = request.prepare().body
    if isinstance(body, str):
        body = body.encode("utf-8")
    return dict(serialized["headers"]), body or b""


def botocore_parse(
    protocol: str, op: Any, body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> Any:
    """What botocore's response parser makes of a body (ResponseMetadata dropped on success)."""
    parser = botocore.parsers.create_parser(protocol)
    response = {"body": body, "headers": headers or {}, "status_code": status}
    parsed = parser.parse(response, op.output_shape)
    if status < 300:
        parsed.pop("ResponseMetadata", None)
    return parsed


def golden(name: str, actual: str) -> None:
    """Compare text with tests/protocol/golden/<name>; ROLEGATE_UPDATE_GOLDEN=1 rewrites the file."""
    path = GOLDEN / name
    if UPDATE_GOLDEN or not path.exists():
        if not UPDATE_GOLDEN:
            raise AssertionError(f"golden file {path} is missing; run with ROLEGATE_UPDATE_GOLDEN=1 to create it")
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def pretty_json(data: bytes) -> str:
    return json.dumps(json.loads(data), indent=2, sort_keys=True) + "\n"
