"""Chunk upload: PUT a sealed chunk under its SHA-256. Idempotent; back-pressure with 429.

``authorize`` verifies the signed request over the body without recording its nonce; the
nonce is recorded in the same transaction as the chunk row
(``CollectorApi.store_chunk(nonce=…)``, one group commit), so a replay is still refused.
With the collector's SQL audit log, the allow decision's entry commits in that transaction
too; if the upload fails before it, the entry is recorded on its own before the response.
"""

from __future__ import annotations

import errno
import logging
import math
import time
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from apprentice.server.api import exempt
from apprentice.server.deps import Access, authorize, receive_chunk, signed_openapi, state
from apprentice.server.incoming import IncomingChunk
from apprentice.server.problems import ApiError
from apprentice.server.retention import blob_key
from apprentice.server.routes.models import ChunkReceipt, ErrorBody
from apprentice.server.storage.blobs import BlobStoreUnavailable

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/chunks", tags=["chunks"])

ChunkId = Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 (hex) of the sealed chunk bytes")
_SEALED_BODY = signed_openapi({
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}, lean=True)
_MAX_RETRY_AFTER_S = 60
_SMOOTHING = 0.05  # weight of the latest upload in the moving average of upload_seconds
_ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 403, 408, 409, 413, 422, 429, 503)}
_STORAGE_RETRY_S = 60


@router.put("/{chunk_id}", response_model=ChunkReceipt, status_code=201, openapi_extra=_SEALED_BODY,
            responses={200: {"model": ChunkReceipt}, **_ERRORS})
async def put_chunk(
    access: Annotated[Access, authorize("upload", "RawChunk", owner="self", id_param="chunk_id",
                                        defer_device_body=True)],
    request: Request, chunk_id: str = ChunkId,
) -> Response:
    """Store a sealed chunk (application/octet-stream). 201 when new, 200 when already stored."""
    st = state(request)
    # Over the limit, wait a little for a slot with the body unread (server/admission.py).
    if not await st.uploads.acquire(st.settings.upload_queue_s):
        st.metrics.rejected_busy.inc()
        # A refused device has already sent its body (httpx has no Expect: 100-continue), so
        # ask it to come back once the uploads in progress are likely done, not sooner.
        wait = max(st.settings.retry_after_s, min(_MAX_RETRY_AFTER_S, math.ceil(st.upload_seconds)))
        raise ApiError(429, "busy", "the collector is busy; retry later", {"Retry-After": str(wait)})
    started = time.perf_counter()
    st.metrics.inflight.inc()
    blobs, key = st.api.blobs, blob_key(chunk_id)
    body = IncomingChunk(lambda: blobs.writer(key))  # never whole in memory; docs/collector.md
    try:
        await receive_chunk(request, st.settings.max_chunk_bytes, body, st.settings.upload_idle_timeout_s)
        device = await access.device(body)
        try:
            # verify_upload read the exemption already; store_chunk refuses it (403 exempt).
            if access.upload is None and await run_in_threadpool(st.governance.is_exempt,
                                                                  device.contributor_id):
                raise exempt()
            # The nonce (and the allow's audit entry) commit in the chunk row's transaction.
            created = await run_in_threadpool(st.api.store_chunk, device, chunk_id, body, st.clock(),
                                              nonce=access.nonce, checked=access.upload, audit=access.audit)
        finally:
            if access.audit is not None and not access.audit.written:  # failed before its commit
                await run_in_threadpool(access.audit.flush, st.audit)
    except ApiError as exc:
        st.metrics.chunks.labels(outcome=exc.code).inc()
        raise
    except BlobStoreUnavailable as exc:
        log.error("chunk storage is unavailable", extra={"fields": {"error": str(exc)}})
        st.metrics.chunks.labels(outcome="storage_unavailable").inc()
        raise ApiError(503, "storage_unavailable", "the collector cannot reach its storage; the device keeps "
                       "the chunk and should retry later", {"Retry-After": str(_STORAGE_RETRY_S)}) from None
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        # The device keeps the chunk and retries; nothing half-written stays (finally).
        log.error("chunk storage is full", extra={"fields": {"error": errno.errorcode[exc.errno]}})
        st.metrics.chunks.labels(outcome="storage_full").inc()
        raise ApiError(503, "storage_full", "the collector's storage is full; the device keeps the chunk "
                       "and should retry later", {"Retry-After": str(_STORAGE_RETRY_S)}) from None
    finally:
        if body.staged:  # refused after part of it was staged
            await run_in_threadpool(body.discard)
        st.uploads.release()
        st.metrics.inflight.dec()
        st.upload_seconds += (time.perf_counter() - started - st.upload_seconds) * _SMOOTHING
    st.metrics.chunks.labels(outcome="stored" if created else "duplicate").inc()
    if created:
        st.metrics.chunk_bytes.inc(body.size)
    receipt = ChunkReceipt(chunk_id=chunk_id, stored=True, created=created)
    return JSONResponse(receipt.model_dump(), status_code=201 if created else 200)



@router.get("/{chunk_id}", response_model=ChunkReceipt, openapi_extra=signed_openapi(),
            responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}})
async def get_chunk(
    access: Annotated[Access, authorize("read_status", "RawChunk", owner="self", id_param="chunk_id")],
    request: Request, chunk_id: str = ChunkId,
) -> ChunkReceipt:
    """Whether one of this contributor's chunks is stored (to resume after a crash)."""
    device = await access.device(b"")
    if not await run_in_threadpool(state(request).api.chunk_stored, device, chunk_id):
        raise ApiError(404, "not_found", "no such chunk")
    return ChunkReceipt(chunk_id=chunk_id, stored=True, created=False)
