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

Step 1 runs against an index built once: per method, the routes are bucketed by their first template
query key (or none) and, inside a bucket, grouped by path template. A request only tries the buckets of
the query keys it carries, and each distinct path pattern once, instead of every route of the model.
Steps 2 and 3 run in the same pass (each group's routes are kept in the order those steps prefer them);
only a request that no route is ready for goes over its candidates again, to name the error.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from rolegate.errors import AwsError, InvalidRequest, MethodNotAllowed
from rolegate.protocol.models import OperationModel, service_model
from rolegate.protocol.restxml_errors import METHOD_NOT_ALLOWED

SERVICE = "s3"
OTHER_ENDPOINT = frozenset({"ListDirectoryBuckets"})
_LABEL = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")


@dataclass(frozen=True)
class Route:
    """One operation's template, compiled once."""

    operation: OperationModel
    method: str
    template: str  # the requestUri's path part
    pattern: re.Pattern[str]
    literals: tuple[tuple[str, str | None], ...]
    required: tuple[tuple[str, str], ...]
    rank: tuple[bool, bool, str]
    arity: int = field(init=False)  # how many template query keys: more is more specific (step 2)
    preference: tuple[int, tuple[bool, bool, str]] = field(init=False)  # the order of step 3, least first
    query_keys: frozenset[str] = field(init=False)  # the required querystring members
    header_names: frozenset[str] = field(init=False)  # the required header members, lower-cased

    def __post_init__(self) -> None:
        object.__setattr__(self, "arity", len(self.literals))
        object.__setattr__(self, "preference", (-len(self.required), self.rank))
        object.__setattr__(self, "query_keys", frozenset(n for where, n in self.required if where == "querystring"))
        object.__setattr__(self, "header_names", frozenset(n for where, n in self.required if where != "querystring"))

    def matches(self, method: str, path: str, query: Mapping[str, list[str]]) -> re.Match[str] | None:
        if method != self.method or not self.accepts(query):
            return None
        return self.pattern.fullmatch(path)

    def accepts(self, query: Mapping[str, list[str]]) -> bool:
        """Whether the query carries every template query key (with its value, when the template fixes one)."""
        for key, value in self.literals:
            if key not in query or (value is not None and value not in query[key]):
                return False
        return True

    def ready(self, query: Mapping[str, list[str]], headers: Mapping[str, str]) -> bool:
        """Whether the request carries every required querystring and header member (`missing` is empty)."""
        return query.keys() >= self.query_keys and headers.keys() >= self.header_names

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
    for part in filter(None, query.split("&")):
        key, equals, value = part.partition("=")
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
        table.append(Route(operation, method, path, _compile_path(path), _literals(query), _required(operation), rank))
    return tuple(table)


@functools.cache
def _by_method() -> dict[str, tuple[Route, ...]]:
    """Keyed by the model's methods only: a cache keyed by whatever method a client sends would grow."""
    table: dict[str, list[Route]] = {}
    for route in routes():
        table.setdefault(route.method, []).append(route)
    return {method: tuple(found) for method, found in table.items()}


@dataclass(frozen=True)
class PathGroup:
    """The routes sharing one path template, and the slash counts a path must have to match it: a count
    is one C call per request, and spares the regular expressions of templates a path cannot fit."""

    pattern: re.Pattern[str]
    routes: tuple[Route, ...]
    fewest_slashes: int
    most_slashes: int | None  # None: a greedy label takes any number
    ordered: tuple[Route, ...]  # the routes in the order steps 2 and 3 prefer them: most query keys, preference
    bare: tuple[Route, ...]  # `ordered` without the routes no query-less request is ready for


PatternGroups = tuple[PathGroup, ...]


@functools.cache
def _index() -> dict[str, dict[str | None, PatternGroups]]:
    """Per method, routes by first template query key (None: no query key), then grouped by path pattern."""
    return {method: _buckets(found) for method, found in _by_method().items()}


def _buckets(found: tuple[Route, ...]) -> dict[str | None, PatternGroups]:
    buckets: dict[str | None, dict[str, list[Route]]] = {}
    for route in found:
        key = route.literals[0][0] if route.literals else None
        buckets.setdefault(key, {}).setdefault(route.template, []).append(route)
    return {key: tuple(_path_group(group) for group in groups.values()) for key, groups in buckets.items()}


def _path_group(group: list[Route]) -> PathGroup:
    template = group[0].template
    fewest = _LABEL.sub("", template).count("/")
    most = None if "+}" in template else fewest + (1 if template.endswith("}") else 0)
    ordered = tuple(sorted(group, key=lambda route: (-route.arity, route.preference)))
    bare = tuple(route for route in ordered if not route.query_keys)
    return PathGroup(group[0].pattern, tuple(group), fewest, most, ordered, bare)


def _candidates(method: str, path: str, query: Mapping[str, list[str]]) -> list[tuple[Route, re.Match[str]]]:
    """The routes whose method, path and template query keys match (step 1), from the index."""
    index = _index().get(method)
    if index is None:
        return []
    buckets = [index[key] for key in query if key in index]
    plain = index.get(None)
    if plain is not None:
        buckets.append(plain)
    slashes = path.count("/")
    found: list[tuple[Route, re.Match[str]]] = []
    for groups in buckets:
        for group in groups:
            if slashes < group.fewest_slashes or (group.most_slashes is not None and slashes > group.most_slashes):
                continue
            match = group.pattern.fullmatch(path)
            if match is None:
                continue
            for route in group.routes:
                if not route.literals or route.accepts(query):
                    found.append((route, match))
    return found


def resource_type(path: str) -> str:
    """S3's ResourceType for MethodNotAllowed: SERVICE, BUCKET or OBJECT."""
    segments = path.strip("/").split("/", 1) if path.strip("/") else []
    return ("SERVICE", "BUCKET", "OBJECT")[min(len(segments), 2)]


def match_route(
    method: str, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str]
) -> tuple[OperationModel, dict[str, str]]:
    """The operation and its raw (still percent-encoded) URI labels; MethodNotAllowed when nothing fits."""
    method = method.upper()
    index = _index().get(method)
    found = _best(index, path, query, headers) if index is not None else None
    if found is None:
        raise _refusal(method, path, query, headers)
    route, match = found
    return route.operation, match.groupdict()  # every label group is mandatory: no None values to drop


def _best(
    index: dict[str | None, PatternGroups], path: str, query: Mapping[str, list[str]], headers: Mapping[str, str]
) -> tuple[Route, re.Match[str]] | None:
    """Steps 1 to 3 in one pass over the index; None when no route is ready (`_refusal` says why).

    Each group's routes come most query keys first, then by preference, so a group stops at its first
    ready route, and at the first route a more specific or better one already found makes irrelevant.
    """
    plain = index.get(None)
    if not query:  # the usual object call: only the routes without template query keys can match
        buckets = [plain] if plain is not None else []
    else:
        buckets = [index[key] for key in query if key in index]
        if plain is not None:
            buckets.append(plain)
    slashes = path.count("/")
    most = -1
    best: Route | None = None
    best_match: re.Match[str] | None = None
    for groups in buckets:
        for group in groups:
            if slashes < group.fewest_slashes or (group.most_slashes is not None and slashes > group.most_slashes):
                continue
            if group.ordered[0].arity < most:
                continue  # step 2 discards every route of this group
            match = group.pattern.fullmatch(path)
            if match is None:
                continue
            # Without a query, only the routes of the bucket without template query keys are tried, and
            # those that need a query parameter could only be passed over, changing nothing: skip them.
            for route in group.ordered if query else group.bare:
                if route.arity < most:
                    break
                if route.literals and not route.accepts(query):
                    continue
                if route.arity > most:  # step 2: a more specific template discards what was kept so far
                    most, best = route.arity, None
                if best is not None and best.preference < route.preference:
                    break  # this group's later routes are no better
                if not route.required or (  # `route.ready`, inlined: most routes tried are not ready
                    query.keys() >= route.query_keys and headers.keys() >= route.header_names
                ):
                    best, best_match = route, match
                    break
    return None if best is None or best_match is None else (best, best_match)


def _refusal(method: str, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str]) -> AwsError:
    """Why no route is ready: MethodNotAllowed, or the first missing member of the most specific routes."""
    found = _candidates(method, path, query)
    most = max((route.arity for route, _ in found), default=-1)
    if most <= 0:
        return _not_allowed(method, path)
    route = min((route for route, _ in found if route.arity == most), key=_rank)
    return _missing_error(*route.missing(query, headers)[0])


def _rank(route: Route) -> tuple[bool, bool, str]:
    return route.rank


def _not_allowed(method: str, path: str) -> AwsError:
    return MethodNotAllowed(METHOD_NOT_ALLOWED, Method=method, ResourceType=resource_type(path))


def _missing_error(location: str, name: str) -> AwsError:
    if location == "header":
        return InvalidRequest(f"Missing required header for this request: {name}")
    return InvalidRequest(f"Missing required parameter for this request: {name}")
