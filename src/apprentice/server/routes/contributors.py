"""A contributor's record: metadata only (when created, devices, whether the key still exists,
whether they were forgotten), for the privacy officer (``governance``) or the contributor
themselves (``self_service``). No activity figures: see ``routes/me.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from apprentice.server.deps import Access, AppState, authorize, state
from apprentice.server.problems import ApiError
from apprentice.server.routes.models import ContributorRecordResponse, DeviceSummary, ErrorBody

router = APIRouter(prefix="/api/v1/contributors", tags=["contributors"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})


async def contributor_record(st: AppState, contributor_id: str) -> ContributorRecordResponse | None:
    def read() -> ContributorRecordResponse | None:
        metadata = st.api.metadata
        created = metadata.contributor_created_at(contributor_id)
        if created is None:
            return None
        tombstone = metadata.tombstone(contributor_id)
        devices = [DeviceSummary(device_id=d, enrolled_at=at, revoked_at=revoked)
                   for d, at, revoked in metadata.devices_of(contributor_id)]
        return ContributorRecordResponse(
            contributor_id=contributor_id, created_at=created,
            key_present=metadata.contributor_key(contributor_id) is not None,
            forgotten_at=tombstone.forgotten_at if tombstone else None, devices=devices,
        )

    return await run_in_threadpool(read)


@router.get("/{contributor_id}", response_model=ContributorRecordResponse,
            responses={404: {"model": ErrorBody}})
async def get_contributor(
    _access: Annotated[Access, authorize("read", "ContributorRecord", owner="path",
                                         id_param="contributor_id")],
    request: Request, contributor_id: str = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
) -> ContributorRecordResponse:
    """One contributor's record (metadata only)."""
    record = await contributor_record(state(request), contributor_id)
    if record is None:
        raise ApiError(404, "not_found", "no such contributor")
    return record
