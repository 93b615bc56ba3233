"""Enrolment: a device registers its Ed25519 public key with a one-time token."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from apprentice.server.deps import Access, authorize, state
from apprentice.server.problems import ApiError
from apprentice.server.routes.models import EnrolRequest, EnrolResponse, ErrorBody

router = APIRouter(prefix="/api/v1", tags=["devices"])


@router.post(
    "/enrolments", status_code=201, response_model=EnrolResponse,
    responses={code: {"model": ErrorBody} for code in (401, 403, 409, 422)},
)
async def enrol(
    _access: Annotated[Access, authorize("enrol", "Device", implied_purpose="collection")],
    body: EnrolRequest, request: Request,
) -> EnrolResponse:
    """Exchange a one-time enrolment token for a device id and the contributor public key."""
    try:
        public = base64.urlsafe_b64decode(body.device_public_key.encode("ascii") + b"==")
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ApiError(422, "invalid_key", "device public key is not base64url") from None
    st = state(request)
    result = await run_in_threadpool(st.api.enrol, body.token, public, st.clock())
    return EnrolResponse(
        device_id=result.device_id,
        contributor_id=result.contributor_id,
        key_id=result.key_id,
        contributor_public_key=base64.urlsafe_b64encode(result.public_key).decode().rstrip("="),
    )
