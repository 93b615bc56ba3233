"""The privacy officer's governance API (purpose ``governance``): DPIA records, the capture
policy (devices read it too, purpose ``collection``), exemption decisions, and whether the
organisation's capture is enabled. Every state change leaves a ``changed:*`` audit entry
after the decision entry. See docs/governance.md."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from apprentice.authz import Resource
from apprentice.policy.rules import MAX_POLICY_BYTES
from apprentice.server.deps import Access, AppState, authorize, read_body, record, state
from apprentice.server.governance import Governance
from apprentice.server.problems import ApiError
from apprentice.server.routes.governance_models import (
    CaptureStatusOut,
    DpiaCreate,
    DpiaList,
    DpiaOut,
    ExemptionList,
    ExemptionOut,
    PolicyOut,
    PolicyPutResult,
    PolicyVersionList,
    PolicyVersionOut,
)
from apprentice.server.routes.models import ErrorBody
from apprentice.server.storage.metadata.governance import DpiaRow, ExemptionRow

router = APIRouter(prefix="/api/v1", tags=["governance"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})
_ERRORS = {code: {"model": ErrorBody} for code in (404, 409, 422)}
_DPIA_ID = Path(pattern=r"^dpia-[0-9a-f]{16}$")
_REQUEST_ID = Path(pattern=r"^exr-[0-9a-f]{16}$")


def governance(st: AppState) -> Governance:
    gov: Governance = st.governance
    return gov


async def record_change(st: AppState, access: Access, event: str, resource: Resource,
                        subject: str | None) -> None:
    """The write entry that follows an allowed state change (``changed:<event>``)."""
    await record(st, access.principal, f"changed:{event}", resource, subject, access.purpose, "allow")


def actor_id(access: Access) -> str:
    return access.account.id if access.account is not None else access.principal.actor


def dpia_out(row: DpiaRow) -> DpiaOut:
    return DpiaOut(id=row.id, title=row.title, summary=row.summary, status=row.status,  # type: ignore[arg-type]
                   created_by=row.created_by, created_at=row.created_at, approved_by=row.approved_by,
                   approved_at=row.approved_at, withdrawn_at=row.withdrawn_at)


def exemption_out(row: ExemptionRow) -> ExemptionOut:
    return ExemptionOut(id=row.id, contributor_id=row.contributor_id, reason=row.reason,
                        status=row.status, requested_at=row.requested_at,  # type: ignore[arg-type]
                        decided_at=row.decided_at)


# -- status -------------------------------------------------------------------------------------

@router.get("/governance/status", response_model=CaptureStatusOut)
async def capture_status(
    _access: Annotated[Access, authorize("read", "Policy")], request: Request,
) -> CaptureStatusOut:
    """Whether capture is enabled for the organisation, and if not why (no counts, no people)."""
    gov = governance(state(request))

    def read() -> CaptureStatusOut:
        status = gov.capture_status()
        policy = gov.store.current_policy()
        return CaptureStatusOut(capture_enabled=status.enabled, reason=status.reason,  # type: ignore[arg-type]
                                policy_version=policy.version if policy else None,
                                notice_version=gov.notice.version)

    return await run_in_threadpool(read)


# -- DPIA ---------------------------------------------------------------------------------------

@router.get("/dpias", response_model=DpiaList)
async def list_dpias(_access: Annotated[Access, authorize("read", "Dpia")], request: Request) -> DpiaList:
    """Every DPIA record, oldest first."""
    rows = await run_in_threadpool(governance(state(request)).store.dpias)
    return DpiaList(dpias=[dpia_out(r) for r in rows])


@router.post("/dpias", response_model=DpiaOut, status_code=201, responses=_ERRORS)
async def create_dpia(
    access: Annotated[Access, authorize("write", "Dpia")], body: DpiaCreate, request: Request,
) -> DpiaOut:
    """Create a DPIA record as a draft (capture stays off until one is approved)."""
    st = state(request)
    row = await run_in_threadpool(governance(st).create_dpia, body.title, body.summary, actor_id(access),
                                  st.clock())
    await record_change(st, access, "dpia_created", Resource("Dpia", row.id), None)
    return dpia_out(row)


@router.get("/dpias/{dpia_id}", response_model=DpiaOut, responses=_ERRORS)
async def get_dpia(
    _access: Annotated[Access, authorize("read", "Dpia", id_param="dpia_id")], request: Request,
    dpia_id: str = _DPIA_ID,
) -> DpiaOut:
    """One DPIA record."""
    return dpia_out(await run_in_threadpool(governance(state(request)).dpia, dpia_id))


@router.post("/dpias/{dpia_id}/approve", response_model=DpiaOut, responses=_ERRORS)
async def approve_dpia(
    access: Annotated[Access, authorize("approve", "Dpia", id_param="dpia_id")], request: Request,
    dpia_id: str = _DPIA_ID,
) -> DpiaOut:
    """Approve a draft: from now on the organisation's capture is enabled (once a policy exists)."""
    st = state(request)
    row = await run_in_threadpool(governance(st).approve_dpia, dpia_id, actor_id(access), st.clock())
    await record_change(st, access, "dpia_approved", Resource("Dpia", dpia_id), None)
    return dpia_out(row)


@router.post("/dpias/{dpia_id}/withdraw", response_model=DpiaOut, responses=_ERRORS)
async def withdraw_dpia(
    access: Annotated[Access, authorize("withdraw", "Dpia", id_param="dpia_id")], request: Request,
    dpia_id: str = _DPIA_ID,
) -> DpiaOut:
    """Withdraw a DPIA; without another approved one, devices stop capturing at their next sync."""
    st = state(request)
    row = await run_in_threadpool(governance(st).withdraw_dpia, dpia_id, st.clock())
    await record_change(st, access, "dpia_withdrawn", Resource("Dpia", dpia_id), None)
    return dpia_out(row)


# -- the capture policy ----------------------------------------------------------------------------

def policy_out(gov: Governance) -> PolicyOut:
    row = gov.current_policy()
    return PolicyOut(version=row.version, sha256=row.sha256, yaml=row.yaml, created_by=row.created_by,
                     created_at=row.created_at)


@router.get("/policy", response_model=PolicyOut, responses={404: {"model": ErrorBody}})
async def get_policy(_access: Annotated[Access, authorize("read", "Policy")], request: Request) -> PolicyOut:
    """The capture policy in force (a privacy officer, or a device with a signed request)."""
    return await run_in_threadpool(policy_out, governance(state(request)))


@router.put("/policy", response_model=PolicyPutResult, responses={413: {"model": ErrorBody}, **_ERRORS},
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/yaml": {"schema": {"type": "string"}}}}})
async def put_policy(
    access: Annotated[Access, authorize("write", "Policy")], request: Request,
    preview: bool = Query(False, description="Validate and diff only; store nothing."),
) -> PolicyPutResult:
    """Publish a new capture policy (YAML, validated by the agent's strict loader; 422 names
    the line). Versions are kept; ``?preview=true`` returns the diff against the current one."""
    st = state(request)
    gov = governance(st)
    body = await read_body(request, MAX_POLICY_BYTES)
    if preview:
        _, change = await run_in_threadpool(gov.check_policy, body)
        return PolicyPutResult(preview=True,
                               current_version=change.current.version if change.current else None,
                               version=None, created=False, diff=change.diff)
    change = await run_in_threadpool(gov.publish_policy, body, actor_id(access), st.clock())
    if change.created:
        await record_change(st, access, "policy_published", Resource("Policy", str(change.version)), None)
    return PolicyPutResult(preview=False, current_version=change.current.version if change.current else None,
                           version=change.version, created=change.created, diff=change.diff)


@router.get("/policy/versions", response_model=PolicyVersionList)
async def policy_versions(
    _access: Annotated[Access, authorize("read", "Policy")], request: Request,
) -> PolicyVersionList:
    """Every published version (without the YAML), oldest first."""
    rows = await run_in_threadpool(governance(state(request)).store.policy_versions)
    return PolicyVersionList(versions=[PolicyVersionOut(version=r.version, sha256=r.sha256,
                                                        created_by=r.created_by, created_at=r.created_at)
                                       for r in rows])


@router.get("/policy/versions/{version}", response_model=PolicyOut, responses={404: {"model": ErrorBody}})
async def policy_version(
    _access: Annotated[Access, authorize("read", "Policy", id_param="version")], request: Request,
    version: int = Path(ge=1, le=10**9),
) -> PolicyOut:
    """One published version with its YAML."""
    row = await run_in_threadpool(governance(state(request)).store.policy_version, version)
    if row is None:
        raise ApiError(404, "not_found", "no such policy version")
    return PolicyOut(version=row.version, sha256=row.sha256, yaml=row.yaml, created_by=row.created_by,
                     created_at=row.created_at)


# -- exemption decisions ------------------------------------------------------------------------

def _request_owner(st: AppState, request_id: str) -> str | None:
    row = governance(st).store.exemption_request(request_id)
    return row.contributor_id if row is not None else None


@router.get("/exemption-requests", response_model=ExemptionList, responses={422: {"model": ErrorBody}})
async def list_exemption_requests(
    _access: Annotated[Access, authorize("list", "ExemptionRequest")], request: Request,
    status: str | None = Query(None, pattern=r"^(pending|approved|denied)$"),
) -> ExemptionList:
    """Exemption requests (all, or those with ``status``), oldest first."""
    rows = await run_in_threadpool(lambda: governance(state(request)).store.exemption_requests(status=status))
    return ExemptionList(requests=[exemption_out(r) for r in rows])


async def _decide_exemption(access: Access, request: Request, request_id: str, approve: bool) -> ExemptionOut:
    st = state(request)
    row = await run_in_threadpool(governance(st).decide_exemption, request_id, approve, actor_id(access),
                                  st.clock())
    await record_change(st, access, "exemption_approved" if approve else "exemption_denied",
                        Resource("ExemptionRequest", request_id, row.contributor_id), row.contributor_id)
    return exemption_out(row)


@router.post("/exemption-requests/{request_id}/approve", response_model=ExemptionOut, responses=_ERRORS)
async def approve_exemption(
    access: Annotated[Access, authorize("approve", "ExemptionRequest", owner="lookup", id_param="request_id",
                                        lookup=_request_owner)],
    request: Request, request_id: str = _REQUEST_ID,
) -> ExemptionOut:
    """Approve: the contributor's devices stop and destroy what they hold at their next sync,
    and the collector refuses their uploads from now on (403 ``exempt``)."""
    return await _decide_exemption(access, request, request_id, True)


@router.post("/exemption-requests/{request_id}/deny", response_model=ExemptionOut, responses=_ERRORS)
async def deny_exemption(
    access: Annotated[Access, authorize("deny", "ExemptionRequest", owner="lookup", id_param="request_id",
                                        lookup=_request_owner)],
    request: Request, request_id: str = _REQUEST_ID,
) -> ExemptionOut:
    """Deny a pending request (the contributor can still withdraw consent or be forgotten)."""
    return await _decide_exemption(access, request, request_id, False)
