"""The calling device's own resources: its contributor key, and the contributor's forget-me."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from apprentice.server.deps import Access, authorize, signed_openapi, state
from apprentice.server.problems import ApiError
from apprentice.server.routes.models import DeviceKeyResponse, ErrorBody, TombstoneResponse

router = APIRouter(prefix="/api/v1/device", tags=["devices"])


@router.get("/key", response_model=DeviceKeyResponse, openapi_extra=signed_openapi(),
            responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 410: {"model": ErrorBody}})
async def device_key(
    access: Annotated[Access, authorize("read_public_key", "ContributorRecord", owner="self")],
    request: Request,
) -> DeviceKeyResponse:
    """The contributor public key this device must seal chunks to (signed request)."""
    device = await access.device(b"")
    kid, public = await run_in_threadpool(state(request).api.device_key, device)
    return DeviceKeyResponse(
        contributor_id=device.contributor_id, key_id=kid,
        contributor_public_key=base64.urlsafe_b64encode(public).decode().rstrip("="),
    )


@router.post("/forget-me", response_model=TombstoneResponse, openapi_extra=signed_openapi(),
             responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})
async def forget_me(
    access: Annotated[Access, authorize("forget", "ContributorRecord", owner="self")],
    request: Request,
) -> TombstoneResponse:
    """The contributor withdraws: key destroyed, chunks deleted, tombstone recorded. Signed by
    one of their devices, or sent with their contributor account (purpose self_service)."""
    contributor = access.contributor
    if contributor is None:  # the policies allow this to a device or a contributor account only
        raise ApiError(403, "forbidden", "forget-me is for a contributor's own device or account")
    st = state(request)
    row = await run_in_threadpool(st.api.forget, contributor, "contributor", st.clock())
    return TombstoneResponse(
        contributor_id=row.contributor_id, forgotten_at=row.forgotten_at, chunks_deleted=row.chunks_deleted
    )
