"""create_app(settings) -> Starlette app: the AWS endpoint on every path, and /_rolegate/ endpoints.

No module-level state: every app owns its store, sealer and services, so tests can run several at once.
Service calls are synchronous (SQLAlchemy); they run in the threadpool so the event loop stays free.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
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
from rolegate.server.pipeline import Pipeline, RawRequest
from rolegate.server.settings import Settings
from rolegate.services.dispatch import Services
from rolegate.services.world import RootKey, bootstrap
from rolegate.store.records import AuditEvent
from rolegate.store.secrets import load_or_create_key_file
from rolegate.store.sql.store import SqlStore

AWS_METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]


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
    store = SqlStore(settings.url)
    services = Services(store, sealer, clock or SystemClock(), ids or Ids(), background_audit=True)
    root = bootstrap(
        store, sealer, services.ids, services.clock, settings.root_access_key_id, settings.root_secret_access_key
    )
    return Runtime(settings, services, Pipeline(services, settings.max_body_bytes), root)


async def _raw(request: Request) -> RawRequest:
    return RawRequest(
        method=request.method,
        raw_path=request.scope.get("raw_path", b"/").decode("latin-1") or "/",
        raw_query=request.scope.get("query_string", b"").decode("latin-1"),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
        body=await request.body(),
        client_ip=request.client.host if request.client else "127.0.0.1",
        secure=request.url.scheme == "https",
    )


def create_app(runtime: Runtime) -> Starlette:
    async def aws(request: Request) -> Response:
        raw = await _raw(request)
        status, headers, payload = await run_in_threadpool(runtime.pipeline.handle, raw)
        return Response(payload, status_code=status, headers=dict(headers))

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, "managementAccount": runtime.root.account_id})

    async def decision(request: Request) -> Response:
        """A recorded denial's explanation, for a SigV4-signed caller (scope service `rolegate`) of the
        denied request's account; the id is the request id AWS clients report with an AccessDenied."""
        raw = await _raw(request)

        def load() -> tuple[int, dict[str, object]]:
            try:
                caller = runtime.pipeline.authenticate(raw, "rolegate")
            except AwsError as error:
                return error.http_status, {"error": error.code, "message": error.message}
            runtime.services.audit.flush()
            with runtime.services.store.transaction(write=False) as tx:
                event = tx.get(AuditEvent, request.path_params["event_id"])
            if event is None or not event.explanation or event.account_id != caller.account_id:
                return 404, {"error": "NotFound", "message": "no recorded denial with this id in your account"}
            explained: dict[str, object] = json.loads(event.explanation)
            return 200, explained

        status, payload = await run_in_threadpool(load)
        return JSONResponse(payload, status_code=status)

    routes = [
        Route("/_rolegate/health", health, methods=["GET"]),
        Route("/_rolegate/decisions/{event_id}", decision, methods=["GET"]),
        Route("/{path:path}", aws, methods=AWS_METHODS),
    ]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(runtime.services.audit.flush)

    return Starlette(routes=routes, lifespan=lifespan)
