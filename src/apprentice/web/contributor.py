"""A contributor's own pages (purpose ``self_service``): recording state with pause and
resume, the consent notice, "my recordings", deletion, export, who accessed my data, and
exemption requests.

Every route names the contributor in its path and is authorised with ``owner="path"``: the
Cedar policy ``contributor-own-only`` refuses another contributor's pages, and every other
role has no ``self_service`` permit, so they get a 403 page — both audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from apprentice.authz import Resource
from apprentice.server.deps import Access, authorize, form_fields, state
from apprentice.server.problems import ApiError
from apprentice.server.routes.contributors import contributor_record
from apprentice.server.routes.governance import record_change
from apprentice.web.app import portal_of
from apprentice.web.render import SECURITY_HEADERS, page

router = APIRouter(prefix="/contributors/{contributor_id}")
ID = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PURPOSE = "self_service"


def _auth(action: str, resource: str) -> object:
    return authorize(action, resource, owner="path", id_param="contributor_id", page_purpose=PURPOSE)


Read = Annotated[Access, _auth("read", "ContributorRecord")]
Control = Annotated[Access, _auth("control", "Device")]
Consent = Annotated[Access, _auth("consent", "ContributorRecord")]
Delete = Annotated[Access, _auth("delete_data", "ContributorRecord")]


async def _changed(request: Request, access: Access, event: str, resource: str, contributor_id: str,
                   resource_id: str | None = None) -> None:
    """The ``changed:<event>`` audit entry the API writes for the same change (docs/governance.md)."""
    target = Resource(resource, resource_id or contributor_id, contributor_id)
    await record_change(state(request), access, event, target, contributor_id)


def _back(contributor_id: str, suffix: str = "", note: str | None = None) -> Response:
    target = f"/contributors/{contributor_id}{suffix}" + (f"?note={note}" if note else "")
    return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)


_NOTES = {
    "paused": "Recording is paused on your devices.", "resumed": "Recording resumes on your devices.",
    "accepted": "Thank you: your consent is recorded.", "withdrawn": "Consent withdrawn: recording stops.",
    "requested": "Your exemption request was sent to the privacy officer.",
    "deleted": "Deleted.",
}


@router.get("")
async def status(access: Read, _devices: Annotated[Access, _auth("read", "Device")], request: Request,
                 contributor_id: str = ID) -> Response:
    portal = portal_of(request)
    devices = await run_in_threadpool(portal.governance.device_status, contributor_id)
    consent = await run_in_threadpool(portal.governance.consent, contributor_id)
    exemptions = await run_in_threadpool(portal.governance.exemptions, contributor_id)
    record = await contributor_record(state(request), contributor_id)
    return page(request, "contributor/status.html", access, title="My status", contributor_id=contributor_id,
                devices=devices, consent=consent, exemptions=exemptions, record=record,
                note=_NOTES.get(request.query_params.get("note", "")), now=state(request).clock())


@router.post("/pause")
async def pause(access: Control, request: Request, contributor_id: str = ID) -> Response:
    fields = await form_fields(request)
    minutes = int(fields["minutes"]) if fields.get("minutes", "").isdigit() else 30
    governance = portal_of(request).governance
    await run_in_threadpool(governance.pause, contributor_id, minutes, state(request).clock())
    await _changed(request, access, "pause_requested", "Device", contributor_id)
    return _back(contributor_id, note="paused")


@router.post("/resume")
async def resume(access: Control, request: Request, contributor_id: str = ID) -> Response:
    await run_in_threadpool(portal_of(request).governance.resume, contributor_id, state(request).clock())
    await _changed(request, access, "resume_requested", "Device", contributor_id)
    return _back(contributor_id, note="resumed")


@router.get("/consent")
async def consent_page(access: Read, request: Request, contributor_id: str = ID) -> Response:
    consent = await run_in_threadpool(portal_of(request).governance.consent, contributor_id)
    return page(request, "contributor/consent.html", access, title="Consent", contributor_id=contributor_id,
                consent=consent, note=_NOTES.get(request.query_params.get("note", "")))


@router.post("/consent")
async def consent(access: Consent, request: Request, contributor_id: str = ID) -> Response:
    fields = await form_fields(request)
    governance = portal_of(request).governance
    now = state(request).clock()
    if fields.get("decision") == "accept":
        try:
            version = int(fields.get("version", ""))
            await run_in_threadpool(governance.accept_consent, contributor_id, version, now)
        except ValueError:
            raise ApiError(409, "notice_changed", "the notice changed; read the new one first") from None
        await _changed(request, access, "consent_accepted", "ContributorRecord", contributor_id)
        return _back(contributor_id, "/consent", "accepted")
    if fields.get("decision") == "withdraw":
        await run_in_threadpool(governance.withdraw_consent, contributor_id, now)
        await _changed(request, access, "consent_withdrawn", "ContributorRecord", contributor_id)
        return _back(contributor_id, "/consent", "withdrawn")
    raise ApiError(400, "bad_form", "choose accept or withdraw")


@router.post("/exemptions")
async def request_exemption(access: Annotated[Access, _auth("write", "ExemptionRequest")], request: Request,
                            contributor_id: str = ID) -> Response:
    reason = (await form_fields(request)).get("reason", "").strip()
    if not reason or len(reason) > 2000:
        raise ApiError(400, "bad_form", "say in up to 2,000 characters why you ask for an exemption")
    row = await run_in_threadpool(portal_of(request).governance.request_exemption, contributor_id, reason,
                                  state(request).clock())
    await _changed(request, access, "exemption_requested", "ExemptionRequest", contributor_id, row.id)
    return _back(contributor_id, note="requested")


@router.get("/recordings")
async def recordings(
    access: Annotated[Access, _auth("list", "RawChunk")],
    _episodes: Annotated[Access, _auth("read", "Episode")],
    request: Request, contributor_id: str = ID,
) -> Response:
    st = state(request)
    rows = await run_in_threadpool(st.api.metadata.chunks_after, 0, 1000, contributor_id=contributor_id)
    days: dict[str, list[object]] = {}
    for _, row in reversed(rows):
        days.setdefault(row.received_at.strftime("%A %d %B %Y"), []).append(row)
    episodes = await run_in_threadpool(portal_of(request).episodes.episodes_of, contributor_id)
    return page(request, "contributor/recordings.html", access, title="My recordings",
                contributor_id=contributor_id, days=days, episodes=episodes, total=len(rows),
                note=_NOTES.get(request.query_params.get("note", "")))


@router.get("/recordings/episodes/{episode_id}/thumbnail.png")
async def thumbnail(access: Annotated[Access, _auth("read", "Episode")], request: Request,
                    episode_id: str = Path(pattern=r"^[0-9a-f]{16}$"), contributor_id: str = ID) -> Response:
    data = await run_in_threadpool(portal_of(request).episodes.thumbnail, contributor_id, episode_id)
    if data is None:
        raise ApiError(404, "not_found", "no thumbnail for this episode")
    return Response(data, media_type="image/png", headers=SECURITY_HEADERS)


def _parse_range(fields: dict[str, str]) -> tuple[datetime, datetime]:
    try:
        start = datetime.fromisoformat(fields["start"]).replace(tzinfo=UTC)
        end = datetime.fromisoformat(fields["end"]).replace(tzinfo=UTC)
    except (KeyError, ValueError):
        raise ApiError(400, "bad_range", "give a start and an end date and time (UTC)") from None
    if end <= start:
        raise ApiError(400, "bad_range", "the end must be after the start")
    return start, end


@router.post("/delete")
async def delete_preview(access: Delete, request: Request, contributor_id: str = ID) -> Response:
    """Step one: say exactly what will be deleted and ask to confirm (nothing is deleted yet)."""
    fields = await form_fields(request)
    scope = "everything" if fields.get("scope") == "everything" else "range"
    start = end = None
    count = None
    if scope == "range":
        start, end = _parse_range(fields)
        rows = await run_in_threadpool(state(request).api.metadata.chunks_after, 0, 1_000_000,
                                       contributor_id=contributor_id)
        count = sum(1 for _, r in rows if start <= r.received_at < end)
    return page(request, "contributor/delete_confirm.html", access, title="Confirm deletion",
                contributor_id=contributor_id, scope=scope, start=start, end=end, count=count)


@router.post("/delete/confirm")
async def delete_confirmed(access: Delete, request: Request, contributor_id: str = ID) -> Response:
    fields = await form_fields(request)
    if fields.get("confirm") != "yes":
        return _back(contributor_id, "/recordings")
    governance = portal_of(request).governance
    now = state(request).clock()
    if fields.get("scope") == "everything":
        await run_in_threadpool(governance.delete_everything, contributor_id, now)
    else:
        start, end = _parse_range(fields)
        await run_in_threadpool(governance.delete_range, contributor_id, start, end, now)
    await _changed(request, access, "data_deleted", "ContributorRecord", contributor_id)
    return _back(contributor_id, "/recordings", "deleted")


@router.get("/access")
async def who_accessed(access: Annotated[Access, _auth("read", "AuditLog")], request: Request,
                       contributor_id: str = ID) -> Response:
    entries = await run_in_threadpool(portal_of(request).history.about, contributor_id)
    return page(request, "contributor/access.html", access, title="Who accessed my data",
                contributor_id=contributor_id, entries=entries)


@router.get("/export")
async def export(access: Annotated[Access, _auth("export", "ContributorRecord")], request: Request,
                 contributor_id: str = ID) -> Response:
    now = state(request).clock()
    data = await run_in_threadpool(portal_of(request).governance.export, contributor_id, now)
    name = f"apprentice-my-data-{now:%Y%m%d}.zip"
    return Response(data, media_type="application/zip",
                    headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


def default_range(now: datetime) -> tuple[str, str]:
    return ((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), now.strftime("%Y-%m-%dT%H:%M"))
