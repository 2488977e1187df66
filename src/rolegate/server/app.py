"""create_app(runtime) -> ASGI app: the AWS endpoint on every path, and the /_rolegate/ endpoints (Starlette).

No module-level state: every app owns its store, sealer and services, so tests can run several at once.
IAM, STS and Organizations calls are short and run on the event loop (asgi.py); S3 requests that move
bodies run in the threadpool (s3_endpoint.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rolegate import __version__
from rolegate.clock import Clock, SystemClock
from rolegate.errors import AwsError
from rolegate.ids import Ids
from rolegate.server.asgi import Receive, Scope, Send, aws_endpoint, raw_request
from rolegate.server.pipeline import Pipeline
from rolegate.server.s3_endpoint import S3Endpoint, is_s3_request
from rolegate.server.settings import Settings
from rolegate.services.audit import recorded_denial
from rolegate.services.dispatch import Services
from rolegate.services.world import RootKey, bootstrap
from rolegate.store.blobs import BlobStore
from rolegate.store.generations import SharedGenerations
from rolegate.store.secrets import load_or_create_key_file
from rolegate.store.sql.store import SqlStore
from rolegate.store.tracking import TrackingStore

ADMIN_PREFIX = "/_rolegate/"
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Runtime:
    """What one running server owns."""

    settings: Settings
    services: Services
    pipeline: Pipeline
    root: RootKey


def build_runtime(settings: Settings, clock: Clock | None = None, ids: Ids | None = None) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    sealer = load_or_create_key_file(settings.data_dir / "rolegate.key")
    generations = SharedGenerations(settings.data_dir / "generations") if settings.workers > 1 else None
    store = TrackingStore(SqlStore(settings.url, background_checkpoints=True), generations)
    blobs = BlobStore(settings.data_dir / "objects")
    services = Services(store, sealer, clock or SystemClock(), ids or Ids(), background_audit=True, blobs=blobs)
    root = bootstrap(
        store, sealer, services.ids, services.clock, settings.root_access_key_id, settings.root_secret_access_key
    )
    return Runtime(settings, services, Pipeline(services, settings.max_body_bytes), root)


def create_app(runtime: Runtime) -> ASGIApp:
    aws = aws_endpoint(runtime.pipeline)
    s3 = S3Endpoint(runtime.services, runtime.settings.data_dir / "spool", runtime.settings.s3_base_hosts)
    admin = admin_app(runtime)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await admin(scope, receive, send)
        elif is_s3_request(scope, s3.base_hosts):
            await s3(scope, receive, send)
        else:
            await aws(scope, receive, send)

    return app


def admin_app(runtime: Runtime) -> Starlette:
    """Health, decisions, and the server's lifespan (flush the audit trail on shutdown)."""

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, "managementAccount": runtime.root.account_id})

    async def decision(request: Request) -> Response:
        """A recorded denial's explanation, for a SigV4-signed caller (scope service `rolegate`) of the
        denied request's account; the id is the request id AWS clients report with an AccessDenied."""
        raw = raw_request(request.scope, await request.body())

        def load() -> tuple[int, dict[str, object]]:
            try:
                caller = runtime.pipeline.authenticate(raw, "rolegate")
            except AwsError as error:
                return error.http_status, {"error": error.code, "message": error.message}
            runtime.services.audit.flush()
            with runtime.services.store.transaction(write=False) as tx:
                event = recorded_denial(tx, request.path_params["event_id"], caller.account_id)
            if event is None:
                return 404, {"error": "NotFound", "message": "no recorded denial with this id in your account"}
            explained: dict[str, object] = json.loads(event.explanation)
            return 200, explained

        status, payload = await run_in_threadpool(load)
        return JSONResponse(payload, status_code=status)

    routes = [
        Route("/_rolegate/health", health, methods=["GET"]),
        Route("/_rolegate/decisions/{event_id}", decision, methods=["GET"]),
    ]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(runtime.services.audit.flush)

    return Starlette(routes=routes, lifespan=lifespan)
