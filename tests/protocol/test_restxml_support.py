"""Helpers for the rest-xml (S3) codec tests: botocore's serializer, parser and whole client as the oracle.

No test lives here; the helpers build the exact requests botocore would send and read our responses the
way botocore would, so the codec is judged by the real client rather than by expectations written here.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import botocore.parsers
import botocore.serialize
import botocore.session
from botocore.awsrequest import AWSResponse, HeadersDict, create_request_object, prepare_request_dict
from botocore.config import Config

from rolegate.protocol import models
from rolegate.protocol.restxml import parse_s3_request, s3_error_response, s3_response, split_bucket_host
from rolegate.protocol.restxml_routes import routes

ENDPOINT = "http://127.0.0.1:9000"
WHEN = datetime(2026, 11, 23, 19, 3, 6, tzinfo=UTC)


def s3_operation(name: str) -> Any:
    found = models.operation_model("s3", name)
    assert found is not None, f"s3 has no operation {name}"
    return found


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    data = body.read()
    body.seek(0)
    return bytes(data)


def wire_request(name: str, params: dict[str, Any]) -> tuple[str, str, str, dict[str, str], bytes]:
    """(method, raw path, raw query, headers, body) exactly as botocore's serializer + request prep make them."""
    op = s3_operation(name)
    request = botocore.serialize.create_serializer("rest-xml").serialize_to_request(params, op)
    prepare_request_dict(request, ENDPOINT)
    prepared = create_request_object(request).prepare()
    url = urlsplit(prepared.url)
    return prepared.method, url.path, url.query, dict(prepared.headers), _body_bytes(prepared.body)


def parse_wire(name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Serialize with botocore, parse with the codec: (operation name, params with Body read)."""
    method, path, query, headers, body = wire_request(name, params)
    op, parsed = parse_s3_request(method, path, query, headers, io.BytesIO(body))
    return op.name, {key: value.read() if hasattr(value, "read") else value for key, value in parsed.items()}


def botocore_parse(name: str, status: int, headers: list[tuple[str, str]], body: Any) -> dict[str, Any]:
    """What botocore's rest-xml parser makes of a response (no client handlers, ResponseMetadata dropped)."""
    op = s3_operation(name)
    content = body if isinstance(body, bytes) else b"".join(body)
    response = {"body": content, "headers": HeadersDict(headers), "status_code": status}
    parsed = botocore.parsers.create_parser("rest-xml").parse(response, op.output_shape)
    parsed.pop("ResponseMetadata", None)
    return dict(parsed)


class _Raw:
    """The urllib3-like raw stream botocore reads a response from."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._data = io.BytesIO(b"".join(chunks))

    def stream(self, amt: int = 1024, decode_content: bool = False) -> Iterator[bytes]:
        while chunk := self._data.read(amt):
            yield chunk

    def read(self, amt: int | None = None, decode_content: bool = False) -> bytes:
        return self._data.read(amt if amt is not None else -1)


Handler = Callable[[str, dict[str, Any]], dict[str, Any]]


class FakeS3:
    """A botocore S3 client whose requests go through the codec instead of the network.

    `handle(operation_name, params) -> result` plays the service; the codec parses the client's real
    request (every client handler applied: checksums, Content-MD5, encoding-type, CopySource quoting)
    and writes the response the client then parses with all of its handlers.
    """

    def __init__(
        self, handle: Handler, *, addressing: str = "path", endpoint: str = ENDPOINT, bases: tuple[str, ...] = ()
    ) -> None:
        self.handle = handle
        self.bases = bases
        self.calls: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        session = botocore.session.get_session()
        self.client = session.create_client(
            "s3",
            region_name="us-east-1",
            endpoint_url=endpoint,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            config=Config(s3={"addressing_style": addressing}, retries={"max_attempts": 1}),
        )
        self.client.meta.events.register("before-send.s3", self._send)

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        headers = {
            name.lower(): value.decode("latin-1") if isinstance(value, bytes) else value
            for name, value in request.headers.items()
        }
        path = split_bucket_host(url.netloc, url.path, self.bases) if self.bases else url.path
        body = io.BytesIO(_body_bytes(request.body))
        try:
            op, params = parse_s3_request(request.method, path, url.query, headers, body)
            if hasattr(params.get("Body"), "read"):
                params["Body"] = params["Body"].read()
            self.calls.append((op.name, params, headers))
            status, out_headers, out = s3_response(op, self.handle(op.name, params), request_id="REQ1")
        except Exception as exc:
            status, out_headers, out = s3_error_response(exc, "REQ1", method=request.method)
        raw = _Raw([out] if isinstance(out, bytes) else out)
        return AWSResponse(request.url, status, HeadersDict(out_headers), raw)


def sample(shape: Any, name: str, depth: int = 0) -> Any:
    """A full value for a shape: every member set, two items per list, enums at their first value.

    Strings carry XML specials (`&<>`) but no commas, quotes or spaces at the ends, which header lists
    and HTTP would not carry unchanged on any server.
    """
    kind = shape.type_name
    if kind == "structure":
        if depth > 12:
            return {}
        return {key: sample(member, key, depth + 1) for key, member in shape.members.items()}
    if kind == "list":
        return [sample(shape.member, name, depth + 1) for _ in range(2)]
    if kind == "map":
        return {"k1": sample(shape.value, name, depth + 1), "k2": sample(shape.value, name, depth + 1)}
    if kind == "string":
        if shape.enum:
            return shape.enum[0]
        if shape.serialization.get("hostLabel") or shape.metadata.get("pattern"):
            return "label-1".ljust(shape.metadata.get("min", 0), "x")
        return f"{name}-v&<>é".ljust(shape.metadata.get("min", 0), "x")
    if kind in ("integer", "long"):
        return 7
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return WHEN
    if kind == "blob":
        return b"blob-data"
    if kind in ("float", "double"):
        return 1.5
    raise AssertionError(f"no sample for {kind}")


def route_query_keys() -> list[str]:
    """Every query key some S3 route names (as a literal or a required member), for generated requests."""
    keys = {key for route in routes() for key, _ in route.literals}
    keys |= {name for route in routes() for where, name in route.required if where == "querystring"}
    return sorted(keys)


def route_header_names() -> list[str]:
    """Every header some S3 route requires, for generated requests."""
    return sorted({name for route in routes() for where, name in route.required if where == "header"})
