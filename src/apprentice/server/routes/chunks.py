"""Chunk upload: PUT a sealed chunk under its SHA-256. Idempotent; back-pressure with 429.

The upload is checked and stored in one trip to a worker thread, and its nonce is recorded
in the same transaction as its chunk row (``CollectorApi.store_chunk(nonce=…)``).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from apprentice.server.auth import verify_device_request
from apprentice.server.deps import (
    SMALL_BODY,
    AppState,
    authenticate,
    read_body,
    signature_headers,
    signed_path,
    state,
)
from apprentice.server.problems import ApiError
from apprentice.server.routes.models import ChunkReceipt, ErrorBody

router = APIRouter(prefix="/api/v1/chunks", tags=["chunks"], dependencies=[Depends(signature_headers)])

ChunkId = Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 (hex) of the sealed chunk bytes")
_SEALED_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 403, 409, 413, 422, 429)}


@router.put("/{chunk_id}", response_model=ChunkReceipt, status_code=201, openapi_extra=_SEALED_BODY,
            responses={200: {"model": ChunkReceipt}, **_ERRORS})
async def put_chunk(request: Request, chunk_id: str = ChunkId) -> Response:
    """Store a sealed chunk (application/octet-stream). 201 when new, 200 when already stored."""
    st = state(request)
    if st.inflight >= st.settings.max_inflight_uploads:
        st.metrics.rejected_busy.inc()
        retry = str(st.settings.retry_after_s)
        raise ApiError(429, "busy", "the collector is busy; retry later", {"Retry-After": retry})
    st.inflight += 1
    st.metrics.inflight.inc()
    try:
        body = await read_body(request, st.settings.max_chunk_bytes)
        created = await run_in_threadpool(
            _authenticate_and_store, st, request.headers, request.method, signed_path(request), chunk_id, body
        )
    except ApiError as exc:
        st.metrics.chunks.labels(outcome=exc.code).inc()
        raise
    finally:
        st.inflight -= 1
        st.metrics.inflight.dec()
    st.metrics.chunks.labels(outcome="stored" if created else "duplicate").inc()
    if created:
        st.metrics.chunk_bytes.inc(len(body))
    receipt = ChunkReceipt(chunk_id=chunk_id, stored=True, created=created)
    return JSONResponse(receipt.model_dump(), status_code=201 if created else 200)


def _authenticate_and_store(st: AppState, headers: Mapping[str, str], method: str, path: str,
                            chunk_id: str, body: bytes) -> bool:
    now = st.clock()
    device, nonce = verify_device_request(
        st.api.metadata, headers, method, path, body, now, st.settings.replay_window_s
    )
    return st.api.store_chunk(device, chunk_id, body, now, nonce=nonce)


@router.get("/{chunk_id}", response_model=ChunkReceipt,
            responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}})
async def get_chunk(request: Request, chunk_id: str = ChunkId) -> ChunkReceipt:
    """Whether one of this contributor's chunks is stored (to resume after a crash)."""
    device = await authenticate(request, await read_body(request, SMALL_BODY))
    if not await run_in_threadpool(state(request).api.chunk_stored, device, chunk_id):
        raise ApiError(404, "not_found", "no such chunk")
    return ChunkReceipt(chunk_id=chunk_id, stored=True, created=False)
