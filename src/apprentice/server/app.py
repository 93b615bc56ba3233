"""The collector HTTP app: ``create_app(settings, blobs, metadata, keys, audit=...)`` -> FastAPI.

The collector accepts sealed chunks from enrolled devices and stores them; it can never
read them (it is given the contributor-key *wrapper* only, see ``keys/base.py``). Every
error is a JSON ``{"error": {"code", "message"}}`` with a 4xx status that says what was
wrong without echoing what was sent; anything unexpected is a bare 500 with no detail.
Every route is authorised by the Cedar policies (``deps.authorize``) and every decision goes
to the audit sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apprentice import __version__
from apprentice.audit import AuditLog
from apprentice.authz import Authorizer
from apprentice.server.api import CollectorApi
from apprentice.server.audit_sink import AuditSink
from apprentice.server.deps import AppState
from apprentice.server.governance import EpisodeArchive, Governance
from apprentice.server.keys import ContributorKeys
from apprentice.server.metrics import Metrics
from apprentice.server.problems import ApiError
from apprentice.server.routes import (
    admin,
    chunks,
    contributors,
    deletions,
    device,
    enrolment,
    governance,
    health,
    me,
    pipeline,
    self_service,
    sync,
)
from apprentice.server.settings import ServerSettings
from apprentice.server.storage.blobs import BlobStore
from apprentice.server.storage.metadata import MetadataStore

log = logging.getLogger("apprentice.server")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: ServerSettings,
    blobs: BlobStore,
    metadata: MetadataStore,
    keys: ContributorKeys,
    *,
    audit: AuditSink,
    authorizer: Authorizer | None = None,
    clock: Callable[[], datetime] = _utcnow,
    metrics: Metrics | None = None,
    run_purge_loop: bool = True,
    episodes: EpisodeArchive | None = None,
) -> FastAPI:
    """Build the collector app from its collaborators (tests pass memory stores).

    ``audit`` receives every authorisation decision; ``authorizer`` defaults to the shipped
    policies (loading them raises PolicyLoadError if they are too broad or invalid).
    ``episodes`` gives a contributor's redacted episodes for their data export (the pipeline
    side; docs/governance.md); without it the export says episodes are not available.
    """
    api = CollectorApi(metadata, blobs, keys, max_token_ttl_s=settings.enrolment_token_max_ttl_s)
    authorizer = authorizer or Authorizer(folder=settings.authz_policy_dir, clock=clock)
    app_state = AppState(settings=settings, api=api, metrics=metrics or Metrics(), clock=clock,
                         authorizer=authorizer, audit=audit,
                         governance=Governance(metadata, blobs, episodes=episodes),
                         audit_record_in=_joins_metadata(audit, metadata))
    app_state.metrics.queued.set_function(lambda: app_state.uploads.waiting)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_purge_loop(app_state)) if run_purge_loop else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="apprentice collector",
        version=__version__,
        description="Accepts end-to-end encrypted chunks from enrolled devices. See docs/collector.md.",
        lifespan=lifespan,
    )
    app.state.apprentice = app_state
    for router in (health.router, enrolment.router, device.router, chunks.router, admin.router, me.router,
                   contributors.router, pipeline.router, governance.router, self_service.router, sync.router,
                   deletions.router):
        app.include_router(router)
    _install_error_handlers(app)
    _install_access_log(app, app_state)
    return app


def _joins_metadata(audit: AuditSink, metadata: MetadataStore) -> Callable[..., object] | None:
    """``audit.record_in`` when the sink is an audit log in the metadata store's own database,
    so an upload's allow entry can commit in the upload's transaction; else None."""
    store = getattr(audit, "store", None)
    if isinstance(audit, AuditLog) and getattr(store, "engine", None) is metadata.engine:
        return audit.record_in
    return None


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors()[:5]:
            if err.get("type") == "json_invalid":
                return _error(422, "invalid_json", "request body is not valid JSON")
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
        return _error(422, "invalid_request", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else "error"
        return _error(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> Response:
        log.error("unexpected error", extra={"fields": {"error": type(exc).__name__}})
        return _error(500, "internal", "internal error")


def _install_access_log(app: FastAPI, app_state: AppState) -> None:
    app.add_middleware(AccessLog, app_state=app_state)


class AccessLog:
    """Counts, times and logs every request (method, route template, status, ms; never
    content). A plain ASGI middleware: Starlette's ``@app.middleware("http")`` runs each
    request through extra tasks and memory streams, which cost the upload path ~20 % of the
    event loop's time."""

    def __init__(self, app: ASGIApp, app_state: AppState) -> None:
        self.app = app
        self.state = app_state
        self.log = logging.getLogger("apprentice.server.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - start
            method = scope["method"]
            metrics = self.state.metrics
            metrics.requests.labels(method, template, str(status)).inc()
            metrics.latency.labels(template).observe(elapsed)
            self.log.info("request", extra={"fields": {
                "method": method, "route": template, "status": status, "ms": round(elapsed * 1000, 2),
            }})


async def _purge_loop(app_state: AppState) -> None:
    settings = app_state.settings
    while True:
        await asyncio.sleep(settings.purge_interval_s)
        try:
            if settings.retention_days is not None:
                await run_in_threadpool(
                    app_state.api.purge, timedelta(days=settings.retention_days), app_state.clock()
                )
            else:
                await run_in_threadpool(app_state.api.metadata.forget_nonces, app_state.clock())
        except Exception as exc:  # keep the loop alive; the next run retries
            log.error("purge failed", extra={"fields": {"error": type(exc).__name__}})
