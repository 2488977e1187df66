"""Helpers for the S3 end-to-end tests: boto3 S3 clients with chosen signing and addressing, requests signed
by botocore's own signers and sent byte for byte with http.client to 127.0.0.1, and S3 error documents read
back from the wire.

Virtual-hosted-style addressing needs `BUCKET.localhost` to resolve, which it does not on every machine; the
`virtual_client` keeps boto3 in charge of building, signing and parsing the requests (with the bucket in the
Host header) and only routes the connection to 127.0.0.1 itself.
"""

from __future__ import annotations

import http.client
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.auth
import botocore.config
import botocore.credentials
from botocore.awsrequest import AWSRequest, AWSResponse
from e2e_support import ROOT_KEY_ID, ROOT_SECRET, LiveServer

REGION = "us-east-1"
MiB = 1024 * 1024


@dataclass(frozen=True)
class Keys:
    """One caller's credentials (long-term or temporary)."""

    key_id: str = ROOT_KEY_ID
    secret: str = ROOT_SECRET
    token: str | None = None

    def credentials(self) -> botocore.credentials.Credentials:
        return botocore.credentials.Credentials(self.key_id, self.secret, self.token)


ROOT = Keys()  # the management account's root user (the live server's fixed root key)


def keys_of(principal: Any) -> Keys:
    """The Keys of an awscli_support.Principal."""
    return Keys(principal.key_id, principal.secret, principal.token)


def port_of(server: LiveServer) -> int:
    return int(server.endpoint.rsplit(":", 1)[1])


def s3_client(server: LiveServer, keys: Keys = ROOT, region: str = REGION, **config: Any) -> Any:
    """A boto3 S3 client on the live server; `config` goes to botocore's Config (s3=..., signature_version=...)."""
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=region,
        aws_access_key_id=keys.key_id,
        aws_secret_access_key=keys.secret,
        aws_session_token=keys.token,
        config=botocore.config.Config(retries={"total_max_attempts": 1}, **config),
    )


@dataclass
class Wire:
    """What went over the wire: (method, host, raw path, raw query, headers with lower-case names) per request."""

    requests: list[tuple[str, str, str, str, dict[str, str]]] = field(default_factory=list)


def record_requests(client: Any) -> Wire:
    """Record each request exactly as botocore is about to send it (after signing)."""
    wire = Wire()

    def remember(request: Any, **_: Any) -> None:
        url = urlsplit(request.url)
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else str(v) for k, v in request.headers.items()}
        wire.requests.append((request.method, url.netloc, url.path, url.query, headers))

    client.meta.events.register("before-send.s3", remember)
    return wire


class _Body(io.BytesIO):
    """The urllib3-like raw body botocore reads a response from (`stream()` for content, `read()` for blobs)."""

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        yield self.read()


def virtual_client(server: LiveServer, keys: Keys = ROOT) -> tuple[Any, Wire]:
    """A boto3 client with virtual-hosted-style addressing against `http://localhost:PORT`: botocore puts the
    bucket in the host name (`BUCKET.localhost:PORT`) and signs it; the request is then sent to 127.0.0.1
    with exactly that Host header, so the server must find the bucket in the Host."""
    port = port_of(server)
    client = boto3.client(
        "s3",
        endpoint_url=f"http://localhost:{port}",
        region_name=REGION,
        aws_access_key_id=keys.key_id,
        aws_secret_access_key=keys.secret,
        aws_session_token=keys.token,
        config=botocore.config.Config(s3={"addressing_style": "virtual"}, retries={"total_max_attempts": 1}),
    )
    wire = record_requests(client)

    def send(request: Any, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        body = request.body.read() if hasattr(request.body, "read") else request.body
        status, headers, data = send_raw(
            port,
            request.method,
            url.path + (f"?{url.query}" if url.query else ""),
            dict(request.headers.items()),
            body or b"",
            host=url.netloc,
        )
        return AWSResponse(request.url, status, headers, _Body(data))

    client.meta.events.register_last("before-send.s3", send)
    return client, wire


def send_raw(
    port: int,
    method: str,
    target: str,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    host: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request to 127.0.0.1:PORT with exactly these headers (Host as given, else 127.0.0.1:PORT)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        sent = {k.lower() for k in (headers or {})}
        if "host" not in sent:
            connection.putheader("Host", host or f"127.0.0.1:{port}")
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body and "content-length" not in sent:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


def signed_request(
    server: LiveServer,
    method: str,
    path: str,
    keys: Keys = ROOT,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    host: str | None = None,
) -> AWSRequest:
    """A request signed by botocore's S3SigV4Auth (signed payload, as boto3 sends it over http)."""
    netloc = host or f"127.0.0.1:{port_of(server)}"
    request = AWSRequest(method=method, url=f"http://{netloc}{path}", data=body, headers=dict(headers or {}))
    botocore.auth.S3SigV4Auth(keys.credentials(), "s3", REGION).add_auth(request)
    return request


def send_signed(server: LiveServer, request: AWSRequest) -> tuple[int, dict[str, str], bytes]:
    url = urlsplit(request.url)
    body = request.body if isinstance(request.body, bytes) else (request.body or b"")
    target = url.path + (f"?{url.query}" if url.query else "")
    return send_raw(port_of(server), request.method, target, dict(request.headers.items()), body, host=url.netloc)


def s3_error(body: bytes) -> dict[str, str]:
    """The child elements of an S3 `<Error>` document (Code, Message, Key, BucketName, RequestId...)."""
    root = ET.fromstring(body)
    assert root.tag == "Error", body
    return {child.tag: child.text or "" for child in root}
