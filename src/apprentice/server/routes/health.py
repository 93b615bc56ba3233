"""Liveness/readiness and Prometheus metrics: what an operator sees (never content).

Liveness answers callers without credentials (load balancers probe it; it says only "ok" or
"unavailable"); the metrics need an operator account with purpose ``operations``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from apprentice.server.deps import Access, authorize, state
from apprentice.server.routes.models import ErrorBody, HealthResponse

router = APIRouter(tags=["operations"])


@router.get("/api/v1/health", response_model=HealthResponse,
            responses={503: {"model": HealthResponse}, 403: {"model": ErrorBody}})
async def health(
    _access: Annotated[Access, authorize("read_liveness", "Health", implied_purpose="operations")],
    request: Request,
) -> Response:
    """Ready when the metadata database answers."""
    try:
        await run_in_threadpool(state(request).api.metadata.ping)
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics", response_class=Response, include_in_schema=True,
            responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})
async def metrics(
    _access: Annotated[Access, authorize("read_metrics", "Health")],
    request: Request,
) -> Response:
    """Prometheus text exposition of the collector's counters and histograms (operators)."""
    return Response(state(request).metrics.render(), media_type="text/plain; version=0.0.4")
