"""Sign-in, sign-out and the start page that sends each role to its home.

The sign-in form is protected against login CSRF by a double-submit token (a random cookie
echoed in a hidden field; SameSite=Strict keeps other sites from sending it). Failed
attempts are throttled per address and per login. The session cookie is HttpOnly,
SameSite=Strict, Path=/, and Secure whenever the collector serves TLS.
"""

from __future__ import annotations

import hmac
import secrets
import time

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from apprentice.server.deps import form_fields, state
from apprentice.server.signin import CSRF_FIELD, SESSION_COOKIE, Sessions, csrf_matches
from apprentice.web.app import portal_of
from apprentice.web.render import SECURITY_HEADERS, page

router = APIRouter()
LOGIN_CSRF_COOKIE = "apprentice_login_csrf"


def home_of(access_role: str, subject: str | None) -> str:
    if access_role == "contributor" and subject:
        return f"/contributors/{subject}"
    return {"privacy_officer": "/officer", "ml_engineer": "/datasets"}.get(access_role, "/login")


def _safe_next(value: str | None) -> str | None:
    # Only a path on this site: never "//host" or "http://…" (open redirect).
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


async def _session(request: Request) -> tuple[Sessions, str, object] | None:
    st = state(request)
    sessions = st.extra.get("portal_sessions")
    sid = request.cookies.get(SESSION_COOKIE, "")
    if not isinstance(sessions, Sessions) or not sid:
        return None
    found = await run_in_threadpool(sessions.resolve, sid, st.clock())
    return None if found is None else (sessions, sid, found)


@router.get("/")
async def start(request: Request) -> Response:
    found = await _session(request)
    if found is None:
        return RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
    account = found[2].account  # type: ignore[attr-defined]
    return RedirectResponse(home_of(account.role, account.subject), status_code=303, headers=SECURITY_HEADERS)


@router.get("/me")
async def me(request: Request) -> Response:
    return await start(request)


def _login_page(request: Request, error: str | None = None, status: int = 200, login: str = "") -> Response:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", None, title="Sign in", status=status, error=error,
                    login_csrf=token, next=_safe_next(request.query_params.get("next")) or "", login=login)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path="/login", httponly=True,
                        samesite="strict", secure=bool(portal_of(request).secure_cookies))
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    portal = portal_of(request)
    st = state(request)
    fields = await form_fields(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), fields.get(CSRF_FIELD, "").encode()):
        return _login_page(request, "The sign-in form expired. Please try again.", 403)
    login_name = fields.get("login", "").strip().lower()[:64]
    password = fields.get("password", "")
    client = request.client.host if request.client else "unknown"
    now = time.monotonic()
    if portal.throttle.blocked(client, login_name, now):
        return _login_page(request, "Too many failed attempts. Wait a few minutes, then try again.", 429,
                           login_name)
    assert portal.sign_in is not None
    account = await run_in_threadpool(portal.sign_in.authenticate, login_name, password)
    if account is None:
        portal.throttle.failed(client, login_name, now)
        return _login_page(request, "That login and password do not match an account.", 401, login_name)
    portal.throttle.succeeded(client, login_name)
    sessions = st.extra["portal_sessions"]
    assert isinstance(sessions, Sessions)
    session_id, _ = await run_in_threadpool(sessions.open, account, st.clock())
    target = _safe_next(fields.get("next")) or home_of(account.role, account.subject)
    response = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=int(portal.session_lifetime.total_seconds()),
                        path="/", httponly=True, samesite="strict", secure=bool(portal.secure_cookies))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Not a data access (nothing is read), so not an authorised page: it needs the session's
    own CSRF token, which only a page of this site has."""
    found = await _session(request)
    if found is not None:
        sessions, sid, session = found
        if not csrf_matches(session, (await form_fields(request)).get(CSRF_FIELD)):  # type: ignore[arg-type]
            return page(request, "error.html", None, title="Not allowed", status=403, heading="Not allowed",
                        code=403, message="this form is out of date or was not sent from this site")
        await run_in_threadpool(sessions.close, sid)
    response = RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

