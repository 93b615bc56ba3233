"""A contributor's governance self-service (contributor account, purpose ``self_service``):
the notice and their consent, exemption requests, pause/resume of their devices, their
devices' reported state, export of all their data, and deletion of a time range or of
everything. Each acts on the caller's own contributor only (policy ``contributor-own-only``).
See docs/governance.md."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from apprentice.authz import Resource
from apprentice.server.deps import Access, authorize, state
from apprentice.server.export import build_export
from apprentice.server.problems import ApiError
from apprentice.server.routes.contributors import contributor_record
from apprentice.server.routes.governance import exemption_out, governance, record_change
from apprentice.server.routes.governance_models import (
    CommandOut,
    ConsentEvent,
    ConsentHistory,
    ConsentRequest,
    ConsentState,
    DeletionOut,
    DeviceStateList,
    DeviceStateOut,
    ExemptionCreate,
    ExemptionList,
    ExemptionOut,
    NoticeOut,
    PauseRequest,
)
from apprentice.server.routes.models import ErrorBody

router = APIRouter(prefix="/api/v1/me", tags=["self-service"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})
_ERRORS = {code: {"model": ErrorBody} for code in (404, 409, 410, 422)}


def _me(access: Access) -> str:
    contributor = access.contributor
    assert contributor is not None  # the policies allow these routes to a contributor about themselves
    return contributor


@router.get("/notice", response_model=NoticeOut)
async def notice(
    access: Annotated[Access, authorize("read", "ContributorRecord", owner="self")], request: Request,
) -> NoticeOut:
    """The notice to read before consenting (text, version, SHA-256) and your consent state."""
    gov = governance(state(request))
    consent = await run_in_threadpool(gov.consent_state, _me(access))
    return NoticeOut(version=gov.notice.version, sha256=gov.notice.sha256, text=gov.notice.text,
                     consent=ConsentState(**consent))


@router.get("/consent", response_model=ConsentHistory)
async def consent_history(
    access: Annotated[Access, authorize("read", "ContributorRecord", owner="self")], request: Request,
) -> ConsentHistory:
    """Your consent state and every acceptance and withdrawal, oldest first."""
    gov = governance(state(request))
    me = _me(access)
    current = await run_in_threadpool(gov.consent_state, me)
    rows = await run_in_threadpool(gov.store.consent_history, me)
    return ConsentHistory(current=ConsentState(**current), history=[
        ConsentEvent(accepted=r.accepted, notice_version=r.notice_version, notice_sha256=r.notice_sha256,
                     at=r.at)
        for r in rows])


@router.post("/consent", response_model=ConsentState, responses=_ERRORS)
async def give_or_withdraw_consent(
    access: Annotated[Access, authorize("consent", "ContributorRecord", owner="self")],
    body: ConsentRequest, request: Request,
) -> ConsentState:
    """Accept the notice you were shown (its version and SHA-256 from GET /me/notice; 409
    ``stale_notice`` if it changed meanwhile) or withdraw (``accept: false``). Your devices
    follow at their next sync."""
    st = state(request)
    gov = governance(st)
    me = _me(access)
    if body.accept:
        if body.notice_version is None or body.notice_sha256 is None:
            raise ApiError(422, "invalid_request", "accepting needs notice_version and notice_sha256")
        await run_in_threadpool(gov.accept_notice, me, body.notice_version, body.notice_sha256, st.clock())
    else:
        await run_in_threadpool(gov.withdraw_consent, me, st.clock())
    await record_change(st, access, "consent_accepted" if body.accept else "consent_withdrawn",
                        Resource("ContributorRecord", me, me), me)
    return ConsentState(**await run_in_threadpool(gov.consent_state, me))


@router.get("/exemption-requests", response_model=ExemptionList)
async def my_exemption_requests(
    access: Annotated[Access, authorize("read", "ExemptionRequest", owner="self")], request: Request,
) -> ExemptionList:
    """Your exemption requests and their decisions."""
    gov = governance(state(request))
    rows = await run_in_threadpool(lambda: gov.store.exemption_requests(contributor_id=_me(access)))
    return ExemptionList(requests=[exemption_out(r) for r in rows])


@router.post("/exemption-requests", response_model=ExemptionOut, status_code=201, responses=_ERRORS)
async def request_exemption(
    access: Annotated[Access, authorize("write", "ExemptionRequest", owner="self")],
    body: ExemptionCreate, request: Request,
) -> ExemptionOut:
    """Ask to be exempted from recording (409 if one is pending or you are already exempt)."""
    st = state(request)
    me = _me(access)
    row = await run_in_threadpool(governance(st).request_exemption, me, body.reason, st.clock())
    await record_change(st, access, "exemption_requested", Resource("ExemptionRequest", row.id, me), me)
    return exemption_out(row)


@router.get("/devices", response_model=DeviceStateList)
async def my_devices(
    access: Annotated[Access, authorize("read", "Device", owner="self")], request: Request,
) -> DeviceStateList:
    """What each of your devices last reported (state, pause, gap reason, last upload). Only
    you can see this: there is no such view for anyone else."""
    rows = await run_in_threadpool(governance(state(request)).store.device_reports, _me(access))
    return DeviceStateList(devices=[DeviceStateOut(
        device_id=r.device_id, state=r.state, paused_until=r.paused_until, gap_reason=r.gap_reason,
        agent_version=r.agent_version, last_upload_at=r.last_upload_at, spool_bytes=r.spool_bytes,
        reported_at=r.reported_at) for r in rows])


@router.post("/pause", response_model=CommandOut, responses=_ERRORS)
async def pause(
    access: Annotated[Access, authorize("control", "Device", owner="self")], body: PauseRequest,
    request: Request,
) -> CommandOut:
    """Pause recording on all your devices (clipped to the policy's pause cap; they pause at
    their next sync, within seconds)."""
    st = state(request)
    me = _me(access)
    command, clipped = await run_in_threadpool(governance(st).pause, me, body.minutes, st.clock())
    await record_change(st, access, "pause_requested", Resource("Device", me, me), me)
    return CommandOut(id=command.seq, kind="pause", until=command.until, issued_at=command.issued_at,
                      clipped=clipped)


@router.post("/resume", response_model=CommandOut, responses=_ERRORS)
async def resume(
    access: Annotated[Access, authorize("control", "Device", owner="self")], request: Request,
) -> CommandOut:
    """End a pause on all your devices."""
    st = state(request)
    me = _me(access)
    command = await run_in_threadpool(governance(st).resume, me, st.clock())
    await record_change(st, access, "resume_requested", Resource("Device", me, me), me)
    return CommandOut(id=command.seq, kind="resume", until=None, issued_at=command.issued_at)


@router.get("/export", response_class=Response, responses={
    200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}})
async def export_my_data(
    access: Annotated[Access, authorize("export", "ContributorRecord", owner="self")], request: Request,
) -> Response:
    """Everything held about you, as a zip with a manifest.json: record, chunk metadata,
    consent history, exemption requests, deletions, device states, the access history about
    you, and your redacted episodes (docs/governance.md)."""
    st = state(request)
    me = _me(access)
    record = await contributor_record(st, me)
    entries_about = getattr(st.audit, "entries_about", None)
    audit = await run_in_threadpool(entries_about, me) if callable(entries_about) else None
    data, _manifest = await run_in_threadpool(
        lambda: build_export(governance(st), me, st.clock(),
                             record=record.model_dump() if record else None, audit_entries=audit))
    stamp = st.clock().strftime("%Y%m%dT%H%M%SZ")
    return Response(data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="apprentice-export-{stamp}.zip"'})


@router.delete("/data", response_model=DeletionOut, responses=_ERRORS)
async def delete_my_data(
    access: Annotated[Access, authorize("delete_data", "ContributorRecord", owner="self")], request: Request,
    from_: Annotated[datetime | None, Query(alias="from", description="ISO 8601; received at/after.")] = None,
    to: Annotated[datetime | None, Query(description="ISO 8601; chunks received before.")] = None,
) -> DeletionOut:
    """Delete your chunks received in [from, to) — by receipt time at the collector, the only
    time it knows — or everything when neither is given. You stay enrolled (forget-me is the
    one that destroys your key and ends enrolment). The pipeline withdraws what it derived."""
    for value in (from_, to):
        if value is not None and value.tzinfo is None:
            raise ApiError(422, "invalid_range", "give times with a UTC offset, e.g. 2026-03-01T09:00:00Z")
    st = state(request)
    me = _me(access)
    row = await run_in_threadpool(governance(st).delete_data, me, from_, to, st.clock())
    await record_change(st, access, "data_deleted", Resource("ContributorRecord", me, me), me)
    return DeletionOut(deletion_id=str(row.seq), received_from=row.received_from, received_to=row.received_to,
                       requested_at=row.requested_at, chunks_deleted=row.chunks_deleted)
