"""Self-service for a contributor account (purpose ``self_service``): their own record, their
own upload figures and their own chunk list. The only place activity figures about a person
exist, and only for that person (policy ``activity-self-only``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from apprentice.server.deps import Access, authorize, state
from apprentice.server.routes.contributors import contributor_record
from apprentice.server.routes.models import ActivitySummary, ChunkMeta, ChunkMetaPage, ErrorBody, MeResponse
from apprentice.server.routes.pipeline import parse_cursor

router = APIRouter(prefix="/api/v1/me", tags=["self-service"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})


@router.get("", response_model=MeResponse)
async def me(
    access: Annotated[Access, authorize("read_activity", "ContributorRecord", owner="self")],
    request: Request,
) -> MeResponse:
    """Your contributor record and how much you have uploaded."""
    st = state(request)
    contributor = access.contributor
    assert contributor is not None and access.account is not None  # the policy allows contributors only
    record = await contributor_record(st, contributor)
    activity = await run_in_threadpool(st.api.metadata.activity, contributor)
    return MeResponse(
        account_id=access.account.id, contributor_id=contributor, record=record,
        activity=ActivitySummary(chunks=activity.chunks, bytes=activity.bytes,
                                 last_received_at=activity.last_received_at),
    )


@router.get("/chunks", response_model=ChunkMetaPage, responses={422: {"model": ErrorBody}})
async def my_chunks(
    access: Annotated[Access, authorize("list", "RawChunk", owner="self")],
    request: Request, after: str | None = Query(None, description="cursor from the previous page"),
    limit: int = Query(100, ge=1, le=1000),
) -> ChunkMetaPage:
    """Metadata of your stored chunks (ids, sizes, times; the content is sealed), oldest first."""
    st = state(request)
    rows = await run_in_threadpool(st.api.metadata.chunks_after, parse_cursor(after), limit,
                                   contributor_id=access.contributor)
    chunks = [ChunkMeta(chunk_id=r.id, device_id=r.device_id, size=r.size, received_at=r.received_at,
                        cursor=str(seq)) for seq, r in rows]
    return ChunkMetaPage(chunks=chunks, next=chunks[-1].cursor if len(chunks) == limit else None)
