"""The processing pipeline's read API (INTERFACES §2): pipeline account, purpose
``processing``. The only route that returns sealed chunk bytes, and the only one that hands
out wrapped contributor keys (which only the pipeline's master key can unwrap)."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from apprentice.server.deps import Access, authorize, state
from apprentice.server.problems import ApiError
from apprentice.server.retention import blob_key
from apprentice.server.routes.models import (
    ErrorBody,
    PipelineChunk,
    PipelineChunkPage,
    PipelineKey,
    TombstoneEntry,
    TombstoneList,
)
from apprentice.server.storage.blobs import BlobNotFound

router = APIRouter(prefix="/api/v1/pipeline", tags=["pipeline"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})

_CONTRIBUTOR = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def parse_cursor(after: str | None) -> int:
    """A cursor is the decimal receipt sequence number of the last chunk seen."""
    if after is None:
        return 0
    if not after.isascii() or not after.isdigit() or len(after) > 19:
        raise ApiError(422, "invalid_cursor", "cursor must be a value returned as `cursor` or `next`")
    return int(after)


@router.get("/chunks", response_model=PipelineChunkPage, responses={422: {"model": ErrorBody}})
async def list_chunks(
    _access: Annotated[Access, authorize("list", "RawChunk")],
    request: Request, after: str | None = Query(None, description="cursor from the previous page"),
    limit: int = Query(100, ge=1, le=1000),
) -> PipelineChunkPage:
    """Stored chunks in receipt order, after ``after``; ``next`` is null on the last page."""
    rows = await run_in_threadpool(state(request).api.metadata.chunks_after, parse_cursor(after), limit)
    chunks = [PipelineChunk(chunk_id=r.id, contributor_id=r.contributor_id, device_id=r.device_id,
                            key_id=r.key_id, size=r.size, received_at=r.received_at, cursor=str(seq))
              for seq, r in rows]
    return PipelineChunkPage(chunks=chunks, next=chunks[-1].cursor if len(chunks) == limit else None)


@router.get("/chunks/{chunk_id}", response_class=Response, responses={
    200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
    404: {"model": ErrorBody},
})
async def read_chunk(
    access: Annotated[Access, authorize("read", "RawChunk", owner="chunk", id_param="chunk_id")],
    request: Request, chunk_id: str = Path(pattern=r"^[0-9a-f]{64}$"),
) -> Response:
    """The sealed chunk bytes; 404 when it was deleted or its contributor forgotten."""
    st = state(request)
    if access.decision is None or access.decision.resource.owner is None:
        raise ApiError(404, "not_found", "no such chunk")
    try:
        data = await run_in_threadpool(lambda: st.api.blobs.get(blob_key(chunk_id), grant=access.grant))
    except BlobNotFound:
        raise ApiError(404, "not_found", "no such chunk") from None
    return Response(data, media_type="application/octet-stream")


@router.get("/keys/{contributor_id}", response_model=PipelineKey,
            responses={404: {"model": ErrorBody}, 410: {"model": ErrorBody}})
async def wrapped_key(
    _access: Annotated[Access, authorize("read_wrapped_key", "ContributorRecord", owner="path",
                                         id_param="contributor_id")],
    request: Request, contributor_id: str = Path(pattern=_CONTRIBUTOR),
) -> PipelineKey:
    """A contributor's wrapped private key; 410 after forget-me (the key is destroyed)."""
    metadata = state(request).api.metadata
    if await run_in_threadpool(metadata.tombstone, contributor_id) is not None:
        raise ApiError(410, "forgotten", "this contributor was forgotten; their key is destroyed")
    row = await run_in_threadpool(metadata.contributor_key, contributor_id)
    if row is None:
        raise ApiError(404, "not_found", "no key for this contributor")
    return PipelineKey(contributor_id=contributor_id, key_id=row.key_id,
                       wrapped_private_key=base64.urlsafe_b64encode(row.wrapped_private_key).decode().rstrip("="))


@router.get("/tombstones", response_model=TombstoneList)
async def tombstones(
    _access: Annotated[Access, authorize("list_tombstones", "ContributorRecord")],
    request: Request,
) -> TombstoneList:
    """Every forgotten contributor, so the pipeline withdraws what it derived from them."""
    rows = await run_in_threadpool(state(request).api.metadata.tombstones)
    return TombstoneList(tombstones=[
        TombstoneEntry(contributor_id=r.contributor_id, forgotten_at=r.forgotten_at) for r in rows
    ])
