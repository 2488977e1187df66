"""Which AWS service and protocol a request is for: X-Amz-Target (JSON services), else the query protocol
(IAM or STS, told apart by the SigV4 credential scope, or by the Action when unsigned)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rolegate.protocol import operation_model

JSON_TARGETS = {"AWSOrganizationsV20161128": "organizations"}
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([a-z0-9-]+)/")
_QUERY_SCOPE = re.compile(r"X-Amz-Credential=[^&]*?(?:%2F|/)\d{8}(?:%2F|/)[^&%/]+(?:%2F|/)([a-z0-9-]+)(?:%2F|/)")


@dataclass(frozen=True, slots=True)
class Route:
    service: str
    protocol: str  # "query" or "json"


def route(headers: dict[str, str], raw_query: str, action: str | None) -> Route:
    target = headers.get("x-amz-target", "")
    if target:
        return Route(JSON_TARGETS.get(target.partition(".")[0], "unknown"), "json")
    found = _SCOPE.search(headers.get("authorization", "")) or _QUERY_SCOPE.search(raw_query)
    if found and found.group(1) in ("iam", "sts"):
        return Route(found.group(1), "query")
    if action and operation_model("sts", action) is not None:
        return Route("sts", "query")
    return Route("iam", "query")
