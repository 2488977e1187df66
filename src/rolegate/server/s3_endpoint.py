"""S3 on the shared port: spool the body, authenticate, decode and verify the payload, call the service, and
stream the answer. The same pipeline as every other request (SigV4 -> codec -> service -> engine -> store ->
codec -> audit), with S3's own wire details:

- the request body is spooled as it arrives (in memory up to 1 MiB, then a file in the data directory), so
  a large upload never sits in memory, and it is checked (chunk signatures, checksums, x-amz-content-sha256)
  while the service streams it into the object store;
- response bodies (GetObject) are streamed from the object's file, one block per event-loop turn;
- the blocking work runs in the threadpool: S3 requests can move gigabytes. Requests that only touch the
  database (reads of small objects, small PUTs whose bytes are stored with their row) run on the event
  loop, where a thread hop would cost more than the work.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool

from rolegate.errors import EntityTooLarge, ExpiredToken, InvalidClientTokenId, aws_error
from rolegate.protocol import parse_s3_request, s3_error_response, s3_response, split_bucket_host
from rolegate.server.asgi import Message, Receive, Scope, Send, send_response
from rolegate.server.pipeline import signing_region
from rolegate.services.context import Caller
from rolegate.services.dispatch import RequestFacts, Services
from rolegate.services.identity import ANONYMOUS
from rolegate.services.registry import REGISTRY
from rolegate.services.s3.storage import INLINE_MAX
from rolegate.sigv4 import HttpRequestView, s3_payload_reader, verify_s3

SPOOL_IN_MEMORY = 1024 * 1024
INLINE_BODY_BYTES = 256 * 1024
INLINE_METHODS = frozenset({"GET", "HEAD"})
MAX_UPLOAD_BYTES = 5 * 1024**3  # S3's largest single PUT
_S3_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/s3/")
_S3_QUERY_SCOPE = re.compile(r"X-Amz-Credential=[^&]*?(?:%2F|/)\d{8}(?:%2F|/)[^&/]+?(?:%2F|/)s3(?:%2F|/)")
_ROUTING_HEADERS = frozenset({b"x-amz-target", b"authorization", b"host"})

InvalidToken = aws_error("InvalidToken", 400)
S3ExpiredToken = aws_error("ExpiredToken", 400)


def is_s3_request(scope: Scope, base_hosts: Iterable[str]) -> bool:
    """Told apart from IAM/STS/Organizations by the signature's service, SigV2, the Host, or an S3-shaped path."""
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope["headers"]
        if name.lower() in _ROUTING_HEADERS  # every request passes here: decode only what routing reads
    }
    if "x-amz-target" in headers:
        return False
    authorization = headers.get("authorization", "")
    query = scope.get("query_string", b"").decode("latin-1")
    if authorization.startswith("AWS4-HMAC-SHA256"):
        return _S3_SCOPE.search(authorization) is not None
    if authorization.startswith("AWS "):
        return True
    if "X-Amz-Credential=" in query:
        return _S3_QUERY_SCOPE.search(query) is not None
    if "AWSAccessKeyId=" in query and "Signature=" in query:
        return True
    path = scope.get("raw_path", b"/").decode("latin-1") or "/"
    if split_bucket_host(headers.get("host", ""), path, base_hosts) != path:
        return True
    # Unsigned: an AWS query-protocol call names its Action; anything else that is not a bare POST / is S3.
    return not ("Action=" in query or (scope["method"] == "POST" and path == "/"))


class S3Endpoint:
    def __init__(self, services: Services, spool_dir: Path, base_hosts: Iterable[str]) -> None:
        self.services = services
        self.spool_dir = spool_dir
        self.base_hosts = tuple(base_hosts)
        self.supported = frozenset(name for service, name in REGISTRY if service == "s3")
        spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        first = await receive()
        spool: IO[bytes]
        if first["type"] == "http.request" and not first.get("more_body", False):
            spool, length = io.BytesIO(first.get("body", b"")), len(first.get("body", b""))
        else:
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="w+b", dir=str(self.spool_dir))  # noqa: SIM115
            length = await _spool_body(_replay(first, receive), spool)
        try:
            if _runs_inline(scope, length):
                status, headers, body = self.handle(scope, spool, length)
            else:
                status, headers, body = await run_in_threadpool(self.handle, scope, spool, length)
            await _send(send, status, headers, body, head=scope["method"] == "HEAD")
        finally:
            spool.close()

    def handle(self, scope: Scope, spool: IO[bytes], length: int) -> tuple[int, list[tuple[str, str]], Any]:
        request_id = self.services.ids.request_id()
        method = scope["method"]
        raw_path = scope.get("raw_path", b"/").decode("latin-1") or "/"
        raw_query = scope.get("query_string", b"").decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        first: dict[str, str] = {}
        for name, value in headers:  # ASGI servers hand header names over in lower case
            first.setdefault(name, value.strip())
        path = split_bucket_host(first.get("host", ""), raw_path, self.base_hosts)
        try:
            if length < 0:
                raise EntityTooLarge(
                    "Your proposed upload exceeds the maximum allowed size", MaxSizeAllowed=str(MAX_UPLOAD_BYTES)
                )
            view = HttpRequestView(method, raw_path, raw_query, headers, first.get("x-amz-content-sha256", ""))
            token = first.get("x-amz-security-token") or _query_token(raw_query)
            caller, verified = self._authenticate(view, path, token)
            spool.seek(0)
            payload = s3_payload_reader(view, verified, spool, length=length)  # type: ignore[arg-type]
            operation, params = parse_s3_request(method, path, raw_query, headers, payload, supported=self.supported)
            client = scope.get("client")
            facts = RequestFacts(
                request_id,
                signing_region(first.get("authorization", "")),
                client[0] if client else "127.0.0.1",
                first.get("user-agent", ""),
                scope.get("scheme") == "https",
            )
            result = self.services.invoke(caller, "s3", operation.name, params, facts)
            status, response_headers, body = s3_response(operation, result, request_id=request_id, method=method)
            if not isinstance(body, bytes | bytearray) and _length(response_headers) <= INLINE_BODY_BYTES:
                body = _drain(body)  # small objects: one send, no threadpool hop per chunk
            return status, list(response_headers), body
        except Exception as error:  # every failure is an S3 error document, never a traceback
            status, error_headers, error_body = s3_error_response(error, request_id, _resource(path), method=method)
            return status, list(error_headers), error_body

    def _authenticate(self, view: HttpRequestView, path: str, token: str) -> tuple[Caller, Any]:
        """The caller (ANONYMOUS when unsigned) and what verification established, in S3's error terms."""
        resolved: dict[str, Caller] = {}

        def secret_for(access_key_id: str) -> str | None:
            try:
                caller, secret = self.services.authenticate(access_key_id, token or None)
            except ExpiredToken as error:
                raise S3ExpiredToken("The provided token has expired.") from error
            except InvalidClientTokenId as error:
                if token:
                    raise InvalidToken("The provided token is malformed or otherwise invalid.") from error
                return None
            resolved[access_key_id] = caller
            return secret

        verified = verify_s3(view, secret_for, self.services.clock, resource_path=path)
        if verified is None:
            return ANONYMOUS, None
        return resolved[verified.access_key_id], verified


def _runs_inline(scope: Scope, length: int) -> bool:
    """Reads without a body, and small PUTs that neither copy nor upload a part (those write files)."""
    if scope["method"] in INLINE_METHODS:
        return length == 0
    if scope["method"] != "PUT" or not 0 <= length <= INLINE_MAX or b"uploadId" in scope.get("query_string", b""):
        return False
    return all(name.lower() != b"x-amz-copy-source" for name, _ in scope["headers"])


def _replay(first: Message, receive: Receive) -> Receive:
    """`receive`, with the message already taken handed out again first."""
    pending = [first]

    async def again() -> Message:
        return pending.pop() if pending else await receive()

    return again


async def _spool_body(receive: Receive, spool: IO[bytes]) -> int:
    """Copy the request body into the spool; -1 once it passes S3's single-upload limit (the rest is dropped)."""
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return size
        chunk = message.get("body", b"")
        if chunk and size <= MAX_UPLOAD_BYTES:
            size += len(chunk)
            if size > SPOOL_IN_MEMORY:
                await run_in_threadpool(spool.write, chunk)  # on disk now: keep the event loop free
            else:
                spool.write(chunk)
        if not message.get("more_body", False):
            return size if size <= MAX_UPLOAD_BYTES else -1


async def _send(send: Send, status: int, headers: list[tuple[str, str]], body: Any, *, head: bool) -> None:
    if isinstance(body, bytes | bytearray):
        await send_response(send, status, headers, b"" if head else bytes(body))
        return
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": encoded})
    chunks: Iterator[bytes] = iter(body)
    try:
        while (chunk := await run_in_threadpool(next, chunks, _END)) is not _END:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        _close(chunks)


_END: Any = object()


def _length(headers: Iterable[tuple[str, str]]) -> int:
    value = next((v for k, v in headers if k.lower() == "content-length"), "")
    return int(value) if value.isdigit() else INLINE_BODY_BYTES + 1


def _drain(chunks: Iterable[bytes]) -> bytes:
    try:
        return b"".join(chunks)
    finally:
        _close(chunks)


def _close(chunks: Iterable[bytes]) -> None:
    """Release a streamed body's open file, whether or not it was read to the end."""
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def _query_token(raw_query: str) -> str:
    if "%" not in raw_query and "token" not in raw_query.lower():
        return ""  # the usual case: no query token, nothing to parse
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        if name.lower() == "x-amz-security-token":  # SigV4 X-Amz-Security-Token, SigV2 x-amz-security-token
            return value
    return ""


def _resource(path: str) -> str:
    return path.split("?", 1)[0]
