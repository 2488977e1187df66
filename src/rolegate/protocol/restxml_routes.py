"""S3 request routing: method + path + query + headers -> the botocore operation, from its requestUri template.

Every S3 operation in the model is a route: `PUT /{Bucket}/{Key+}?tagging` matches PUT requests whose path
has a bucket segment and a non-empty key (greedy, slashes kept) and whose query has `tagging`. Several
operations share a template (PutObject, CopyObject, UploadPart, UploadPartCopy are all `PUT
/{Bucket}/{Key+}`); S3 tells them apart by their required query parameters and headers (`uploadId`,
`partNumber`, `x-amz-copy-source`), and so does this router:

1. keep the routes whose method, path and template query keys match;
2. keep those with the most template query keys (`?tagging` beats a bare `/{Bucket}`);
3. of those, keep the ones whose required querystring and header members are all present, preferring
   the most such members, then non-deprecated operations (GetBucketLifecycleConfiguration over
   GetBucketLifecycle), then the general endpoint over S3 Express's control endpoint (ListBuckets over
   ListDirectoryBuckets), then the name, so the choice is deterministic.

A template query key that matched while its operation's other required members are missing is that
operation's error (S3 names the missing header), not a silent fall back to a plainer operation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from rolegate.errors import AwsError
from rolegate.protocol.models import OperationModel, service_model
from rolegate.protocol.restxml_errors import METHOD_NOT_ALLOWED, InvalidRequest, MethodNotAllowed

SERVICE = "s3"
OTHER_ENDPOINT = frozenset({"ListDirectoryBuckets"})
_LABEL = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")


@dataclass(frozen=True)
class Route:
    """One operation's template, compiled once."""

    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    literals: tuple[tuple[str, str | None], ...]
    required: tuple[tuple[str, str], ...]
    rank: tuple[bool, bool, str]

    def matches(self, method: str, path: str, query: Mapping[str, list[str]]) -> re.Match[str] | None:
        if method != self.method:
            return None
        for key, value in self.literals:
            if key not in query or (value is not None and value not in query[key]):
                return None
        return self.pattern.fullmatch(path)

    def missing(self, query: Mapping[str, list[str]], headers: Mapping[str, str]) -> list[tuple[str, str]]:
        return [
            (location, name)
            for location, name in self.required
            if (name not in query if location == "querystring" else name not in headers)
        ]


def _compile_path(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    for label in _LABEL.finditer(template):
        parts.append(re.escape(template[position : label.start()]))
        parts.append(f"(?P<{label.group(1)}>{'.+' if label.group(2) else '[^/]+'})")
        position = label.end()
    parts.append(re.escape(template[position:]))
    pattern = "".join(parts)
    if template.endswith("}") and not template.endswith("+}"):
        pattern += "/?"  # S3 reads `/bucket/` as the bucket itself
    return re.compile(pattern, re.DOTALL)


def _literals(query: str) -> tuple[tuple[str, str | None], ...]:
    found: list[tuple[str, str | None]] = []
    for field in filter(None, query.split("&")):
        key, equals, value = field.partition("=")
        found.append((key, value if equals else None))
    return tuple(found)


def _required(operation: OperationModel) -> tuple[tuple[str, str], ...]:
    shape = operation.input_shape
    if shape is None:
        return ()
    found: list[tuple[str, str]] = []
    for name in shape.required_members:
        member = shape.members[name]
        location = member.serialization.get("location")
        if location in ("querystring", "header"):
            wire = str(member.serialization.get("name", name))
            found.append((location, wire.lower() if location == "header" else wire))
    return tuple(found)


@functools.cache
def routes() -> tuple[Route, ...]:
    model = service_model(SERVICE)
    table: list[Route] = []
    for name in sorted(model.operation_names):
        operation = model.operation_model(name)
        path, _, query = str(operation.http["requestUri"]).partition("?")
        rank = (bool(operation.deprecated), name in OTHER_ENDPOINT, name)
        method = str(operation.http.get("method", "POST")).upper()
        table.append(Route(operation, method, _compile_path(path), _literals(query), _required(operation), rank))
    return tuple(table)


@functools.cache
def routes_for(method: str) -> tuple[Route, ...]:
    """The routes of one HTTP method (a GET need not try the model's PUT and DELETE templates)."""
    return tuple(route for route in routes() if route.method == method)


def resource_type(path: str) -> str:
    """S3's ResourceType for MethodNotAllowed: SERVICE, BUCKET or OBJECT."""
    segments = path.strip("/").split("/", 1) if path.strip("/") else []
    return ("SERVICE", "BUCKET", "OBJECT")[min(len(segments), 2)]


def match_route(
    method: str, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str]
) -> tuple[OperationModel, dict[str, str]]:
    """The operation and its raw (still percent-encoded) URI labels; MethodNotAllowed when nothing fits."""
    method = method.upper()
    found = [
        (route, match) for route in routes_for(method) if (match := route.matches(method, path, query)) is not None
    ]
    if not found:
        raise _not_allowed(method, path)
    most = max(len(route.literals) for route, _ in found)
    found = [(route, match) for route, match in found if len(route.literals) == most]
    ready = [(route, match) for route, match in found if not route.missing(query, headers)]
    if not ready:
        if most == 0:
            raise _not_allowed(method, path)
        route = min(found, key=lambda item: item[0].rank)[0]
        raise _missing_error(*route.missing(query, headers)[0])
    route, match = min(ready, key=lambda item: (-len(item[0].required), item[0].rank))
    return route.operation, {name: value for name, value in match.groupdict().items() if value is not None}


def _not_allowed(method: str, path: str) -> AwsError:
    return MethodNotAllowed(METHOD_NOT_ALLOWED, Method=method, ResourceType=resource_type(path))


def _missing_error(location: str, name: str) -> AwsError:
    if location == "header":
        return InvalidRequest(f"Missing required header for this request: {name}")
    return InvalidRequest(f"Missing required parameter for this request: {name}")
