"""The privacy officer's pages (purpose ``governance``): audit-log verification, exposure
checks (``doctor``), fleet health as aggregates only, the policy editor with validation and a
diff before saving, DPIA approval, and the exemption queue.

The officer never sees content or per-person activity: the fleet figures are counts, and the
exemption queue shows what the contributor wrote in their request and nothing else.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from apprentice.authz import Resource
from apprentice.errors import PolicyError
from apprentice.policy.rules import parse_policy
from apprentice.server.deps import Access, AppState, authorize, form_fields, state
from apprentice.server.problems import ApiError
from apprentice.server.routes.governance import actor_id, record_change
from apprentice.web.app import portal_of
from apprentice.web.render import SECURITY_HEADERS, page

router = APIRouter(prefix="/officer")
PURPOSE = "governance"
MAX_POLICY = 64 * 1024


def _auth(action: str, resource: str, **kwargs: object) -> object:
    return authorize(action, resource, page_purpose=PURPOSE, **kwargs)  # type: ignore[arg-type]


@router.get("")
async def overview(
    access: Annotated[Access, _auth("read", "AuditLog")],
    _health: Annotated[Access, _auth("read_metrics", "Health")],
    request: Request,
) -> Response:
    portal = portal_of(request)
    now = state(request).clock()
    audit = await run_in_threadpool(portal.history.status)
    checks = await run_in_threadpool(portal.doctor)
    fleet = await run_in_threadpool(portal.governance.fleet, now)
    return page(request, "officer/overview.html", access, title="Privacy officer", audit=audit, checks=checks,
                fleet=fleet)


def _by(access: Access) -> str:
    """Who decided, stored as the API stores it (the account id), so both front ends agree."""
    return actor_id(access)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _problem(text: str) -> tuple[int | None, str] | None:
    try:
        parse_policy(text, source="policy")
    except PolicyError as exc:
        return exc.line, exc.what
    return None


@router.get("/policy")
async def policy(access: Annotated[Access, _auth("read", "Policy")], request: Request) -> Response:
    text = await run_in_threadpool(portal_of(request).governance.policy_text)
    saved = request.query_params.get("note") == "saved"
    return page(request, "officer/policy.html", access, title="Capture policy", text=text, problem=None,
                diff=None, digest=None, saved=saved)


@router.post("/policy/preview")
async def preview(access: Annotated[Access, _auth("read", "Policy")], request: Request) -> Response:
    """Validate the edited policy and show its difference from the current one (nothing saved)."""
    text = (await form_fields(request)).get("policy", "").replace("\r\n", "\n")
    if len(text.encode()) > MAX_POLICY:
        raise ApiError(413, "too_large", f"a policy is at most {MAX_POLICY} bytes")
    current = await run_in_threadpool(portal_of(request).governance.policy_text)
    problem = _problem(text)
    diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(), "current", "proposed",
                                     lineterm=""))
    return page(request, "officer/policy.html", access, title="Capture policy", text=text, problem=problem,
                diff=diff, digest=None if problem else _digest(text), saved=False,
                status=422 if problem else 200)


@router.post("/policy")
async def save(access: Annotated[Access, _auth("write", "Policy")], request: Request) -> Response:
    fields = await form_fields(request)
    text = fields.get("policy", "").replace("\r\n", "\n")
    # Saving needs the digest of the text whose diff was shown: no save without a preview.
    if not hmac.compare_digest(fields.get("digest", ""), _digest(text)):
        raise ApiError(409, "not_previewed", "preview the policy and its changes before saving it")
    try:
        version = await run_in_threadpool(portal_of(request).governance.save_policy, text, _by(access),
                                          state(request).clock())
    except PolicyError as exc:
        raise ApiError(422, "invalid_policy", str(exc.what)) from None
    if version is not None:
        await record_change(state(request), access, "policy_published", Resource("Policy", str(version)),
                            None)
    return RedirectResponse("/officer/policy?note=saved", status_code=303, headers=SECURITY_HEADERS)


@router.get("/dpia")
async def dpia(access: Annotated[Access, _auth("read", "Dpia")], request: Request) -> Response:
    rows = await run_in_threadpool(portal_of(request).governance.dpias)
    return page(request, "officer/dpia.html", access, title="Data protection impact assessment", dpias=rows)


@router.post("/dpia/{dpia_id}/approve")
async def approve_dpia(access: Annotated[Access, _auth("approve", "Dpia", id_param="dpia_id")],
                       request: Request, dpia_id: str = Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")) -> Response:
    await run_in_threadpool(portal_of(request).governance.approve_dpia, dpia_id, _by(access),
                            state(request).clock())
    await record_change(state(request), access, "dpia_approved", Resource("Dpia", dpia_id), None)
    return RedirectResponse("/officer/dpia", status_code=303, headers=SECURITY_HEADERS)


@router.get("/exemptions")
async def exemptions(access: Annotated[Access, _auth("list", "ExemptionRequest")],
                     request: Request) -> Response:
    rows = await run_in_threadpool(portal_of(request).governance.exemptions, None)
    return page(request, "officer/exemptions.html", access, title="Exemption requests", exemptions=rows)


async def _decide(access: Access, request: Request, contributor_id: str, exemption_id: str,
                  approve: bool) -> Response:
    governance = portal_of(request).governance
    known = {e.id for e in await run_in_threadpool(governance.exemptions, contributor_id)}
    if exemption_id not in known:
        raise ApiError(404, "not_found", "no such exemption request")
    await run_in_threadpool(governance.decide_exemption, exemption_id, approve, _by(access),
                            state(request).clock())
    await record_change(state(request), access, "exemption_approved" if approve else "exemption_denied",
                        Resource("ExemptionRequest", exemption_id, contributor_id), contributor_id)
    return RedirectResponse("/officer/exemptions", status_code=303, headers=SECURITY_HEADERS)


_CID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_XID = r"^[A-Za-z0-9._-]{1,64}$"


def _request_owner(st: AppState, exemption_id: str) -> str | None:
    """The contributor a request belongs to, from the store (never from the URL), so the
    audit entry names the right person even for a tampered form."""
    row = st.governance.store.exemption_request(exemption_id) if st.governance is not None else None
    return row.contributor_id if row is not None else None


def _decision(action: str) -> object:
    return _auth(action, "ExemptionRequest", owner="lookup", id_param="exemption_id", lookup=_request_owner)


@router.post("/exemptions/{contributor_id}/{exemption_id}/approve")
async def approve_exemption(
    access: Annotated[Access, _decision("approve")],
    request: Request, contributor_id: str = Path(pattern=_CID), exemption_id: str = Path(pattern=_XID),
) -> Response:
    return await _decide(access, request, contributor_id, exemption_id, True)


@router.post("/exemptions/{contributor_id}/{exemption_id}/deny")
async def deny_exemption(
    access: Annotated[Access, _decision("deny")],
    request: Request, contributor_id: str = Path(pattern=_CID), exemption_id: str = Path(pattern=_XID),
) -> Response:
    return await _decide(access, request, contributor_id, exemption_id, False)
