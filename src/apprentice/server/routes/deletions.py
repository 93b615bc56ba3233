"""The pipeline's view of contributors' deletions (pipeline account, purpose ``processing``):
each deletion a contributor asked for — a receipt-time range or everything — with the ids of
the chunks it removed, so the pipeline withdraws the episodes derived from them (lineage
chunk -> episode). Extends INTERFACES §2; see docs/governance.md."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from apprentice.server.deps import Access, authorize, state
from apprentice.server.routes.governance import governance
from apprentice.server.routes.governance_models import DeletionEntry, DeletionPage
from apprentice.server.routes.models import ErrorBody
from apprentice.server.routes.pipeline import parse_cursor

router = APIRouter(prefix="/api/v1/pipeline", tags=["pipeline"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})


@router.get("/deletions", response_model=DeletionPage, responses={422: {"model": ErrorBody}})
async def deletions(
    _access: Annotated[Access, authorize("list_deletions", "ContributorRecord")], request: Request,
    after: str | None = Query(None, description="cursor from the previous page"),
    limit: int = Query(100, ge=1, le=1000),
) -> DeletionPage:
    """Deletions in the order they were made, after ``after``; ``next`` is null on the last page."""
    store = governance(state(request)).store
    rows = await run_in_threadpool(store.deletions_after, parse_cursor(after), limit)
    entries = [DeletionEntry(deletion_id=str(r.seq), contributor_id=r.contributor_id,
                             received_from=r.received_from,
                             received_to=r.received_to, requested_at=r.requested_at, chunk_ids=ids,
                             cursor=str(r.seq)) for r, ids in rows]
    return DeletionPage(deletions=entries, next=entries[-1].cursor if len(entries) == limit else None)
