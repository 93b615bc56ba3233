"""The calling device's own resources: its contributor key, and the contributor's forget-me."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from apprentice.server.deps import SMALL_BODY, authenticate, read_body, signature_headers, state
from apprentice.server.routes.models import DeviceKeyResponse, ErrorBody, TombstoneResponse

router = APIRouter(prefix="/api/v1/device", tags=["devices"], dependencies=[Depends(signature_headers)])


@router.get("/key", response_model=DeviceKeyResponse,
            responses={401: {"model": ErrorBody}, 410: {"model": ErrorBody}})
async def device_key(request: Request) -> DeviceKeyResponse:
    """The contributor public key this device must seal chunks to (signed request)."""
    device = await authenticate(request, await read_body(request, SMALL_BODY))
    kid, public = await run_in_threadpool(state(request).api.device_key, device)
    return DeviceKeyResponse(
        contributor_id=device.contributor_id, key_id=kid,
        contributor_public_key=base64.urlsafe_b64encode(public).decode().rstrip("="),
    )


@router.post("/forget-me", response_model=TombstoneResponse, responses={401: {"model": ErrorBody}})
async def forget_me(request: Request) -> TombstoneResponse:
    """The contributor withdraws: key destroyed, chunks deleted, tombstone recorded (signed)."""
    device = await authenticate(request, await read_body(request, SMALL_BODY))
    st = state(request)
    row = await run_in_threadpool(st.api.forget, device.contributor_id, "contributor", st.clock())
    return TombstoneResponse(
        contributor_id=row.contributor_id, forgotten_at=row.forgotten_at, chunks_deleted=row.chunks_deleted
    )
