"""The privacy officer's API (a privacy_officer account, purpose ``governance``): enrolment
tokens, revocation, forgetting a contributor, and running the retention purge now."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from apprentice.server.deps import Access, authorize, state
from apprentice.server.problems import ApiError
from apprentice.server.routes.models import (
    ErrorBody,
    PurgeResponse,
    TokenRequest,
    TokenResponse,
    TombstoneResponse,
)

router = APIRouter(
    prefix="/api/v1/admin", tags=["admin"], responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}},
)


@router.post("/enrolment-tokens", status_code=201, response_model=TokenResponse,
             responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}})
async def issue_token(
    _access: Annotated[Access, authorize("issue_enrolment_token", "ContributorRecord")],
    body: TokenRequest, request: Request,
) -> TokenResponse:
    """Issue a one-time, expiring enrolment token for a contributor (shown once)."""
    st = state(request)
    issued = await run_in_threadpool(st.api.issue_token, body.contributor_id, body.ttl_s, st.clock())
    return TokenResponse(
        token=issued.token, contributor_id=issued.contributor_id, expires_at=issued.expires_at
    )


@router.post("/devices/{device_id}/revoke", status_code=204, responses={404: {"model": ErrorBody}})
async def revoke_device(
    _access: Annotated[Access, authorize("revoke", "Device", id_param="device_id")],
    request: Request, device_id: str = Path(pattern=r"^dev-[0-9a-f]{32}$"),
) -> None:
    """Revoke a device: from now on its requests get 401 and nothing is stored."""
    st = state(request)
    await run_in_threadpool(st.api.revoke_device, device_id, st.clock())


@router.post("/contributors/{contributor_id}/forget", response_model=TombstoneResponse,
             responses={404: {"model": ErrorBody}})
async def forget(
    _access: Annotated[Access, authorize("forget", "ContributorRecord", owner="path",
                                         id_param="contributor_id")],
    request: Request, contributor_id: str = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
) -> TombstoneResponse:
    """Forget a contributor on their behalf (same effect as the contributor's forget-me)."""
    st = state(request)
    row = await run_in_threadpool(st.api.forget, contributor_id, "privacy_officer", st.clock())
    return TombstoneResponse(
        contributor_id=row.contributor_id, forgotten_at=row.forgotten_at, chunks_deleted=row.chunks_deleted
    )


@router.post("/purge", response_model=PurgeResponse, responses={409: {"model": ErrorBody}})
async def purge(
    _access: Annotated[Access, authorize("purge", "RawChunk")],
    request: Request,
) -> PurgeResponse:
    """Run the retention purge now (normally it runs every ``purge_interval_s``)."""
    st = state(request)
    if st.settings.retention_days is None:
        raise ApiError(409, "no_retention", "no retention period is configured")
    max_age = timedelta(days=st.settings.retention_days)
    return PurgeResponse(chunks_deleted=await run_in_threadpool(st.api.purge, max_age, st.clock()))
