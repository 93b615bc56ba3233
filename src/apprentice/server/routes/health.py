"""Liveness/readiness and Prometheus metrics: what an operator sees (never content)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from apprentice.server.deps import state
from apprentice.server.routes.models import HealthResponse

router = APIRouter(tags=["operations"])


@router.get("/api/v1/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
async def health(request: Request) -> Response:
    """Ready when the metadata database answers."""
    try:
        await run_in_threadpool(state(request).api.metadata.ping)
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics", response_class=Response, include_in_schema=True)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition of the collector's counters and histograms."""
    return Response(state(request).metrics.render(), media_type="text/plain; version=0.0.4")
