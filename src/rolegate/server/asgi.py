"""The AWS endpoint as a bare ASGI callable: read the body under the size cap, run the pipeline, answer.

IAM, STS and Organizations requests are small and their handling is CPU-bound under the GIL, so they run on
the event loop itself: a threadpool hop would cost more than it buys. The per-request work is plain bytes in,
bytes out, without a framework's request and response objects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from rolegate.server.pipeline import Pipeline, RawRequest

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

AWS_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"})


async def read_body(receive: Receive, limit: int) -> bytes:
    """The request body, stopping once it exceeds `limit` (the pipeline then refuses it as too large)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if chunk:
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                break
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def raw_request(scope: Scope, body: bytes) -> RawRequest:
    client = scope.get("client")
    return RawRequest(
        method=scope["method"],
        raw_path=scope.get("raw_path", b"/").decode("latin-1") or "/",
        raw_query=scope.get("query_string", b"").decode("latin-1"),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
        body=body,
        client_ip=client[0] if client else "127.0.0.1",
        secure=scope.get("scheme") == "https",
    )


async def send_response(send: Send, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    if not any(k == b"content-length" for k, _ in encoded):
        encoded.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": encoded})
    await send({"type": "http.response.body", "body": payload})


def aws_endpoint(pipeline: Pipeline) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in AWS_METHODS:
            await send_response(send, 405, [("allow", ", ".join(sorted(AWS_METHODS)))], b"")
            return
        body = await read_body(receive, pipeline.max_body_bytes)
        status, headers, payload = pipeline.handle(raw_request(scope, body))
        await send_response(send, status, headers, b"" if scope["method"] == "HEAD" else payload)

    return endpoint
