"""Device sync (signed request): the device reports its state — never content — and learns
the policy in force, whether the organisation's capture is enabled, the contributor's
consent and exemption, and pending pause/resume commands from the portal.
See docs/governance.md."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from apprentice.server.deps import Access, authorize, signed_openapi, state
from apprentice.server.governance import DeviceReport
from apprentice.server.problems import ApiError
from apprentice.server.routes.governance import governance
from apprentice.server.routes.governance_models import SyncRequest, SyncResponse
from apprentice.server.routes.models import ErrorBody

router = APIRouter(prefix="/api/v1/device", tags=["devices"])


@router.post("/sync", response_model=SyncResponse,
             responses={code: {"model": ErrorBody} for code in (401, 403, 422)},
             openapi_extra=signed_openapi({"requestBody": {"required": True, "content": {"application/json": {
                 "schema": SyncRequest.model_json_schema()}}}}))
async def sync(
    access: Annotated[Access, authorize("sync", "Device", owner="self")], request: Request,
) -> SyncResponse:
    """Report this device's state; receive policy, capture switch, consent, exemption, commands."""
    device = await access.device(b"")
    try:
        body = SyncRequest.model_validate_json(access.body or b"{}")
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                          for e in exc.errors()[:5])
        raise ApiError(422, "invalid_request", where) from None
    st = state(request)
    report = DeviceReport(body.state, body.paused_until, body.gap_reason, body.agent_version,
                          body.last_upload_at,
                          body.spool_bytes)
    result = await run_in_threadpool(
        lambda: governance(st).sync(device.id, device.contributor_id, report,
                                    policy_sha256=body.policy_sha256,
                                    commands_after=body.commands_after, now=st.clock()))
    return SyncResponse.model_validate(result)
