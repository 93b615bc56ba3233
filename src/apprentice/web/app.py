"""Mounting the portal on the collector app: ``mount_portal(app, portal)``.

The portal is served by the same FastAPI app as the API and goes through the same
``authorize(...)`` dependency (``page_purpose=`` selects the signed-in browser session as
the caller and the purpose the page declares), so a page and its API route get the same
Cedar decision and the same audit record. Pages are server-rendered (docs/portal.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from apprentice.guard import CheckResult
from apprentice.server.deps import AppState
from apprentice.server.problems import ApiError
from apprentice.server.signin import LocalSignIn, LoginThrottle, Sessions, SignIn
from apprentice.web.history import AccessHistory
from apprentice.web.local import NoEpisodes
from apprentice.web.render import SECURITY_HEADERS, page
from apprentice.web.seams import DatasetCatalog, EpisodeCatalog, Governance


@dataclass
class Portal:
    """The portal's collaborators (see ``seams.py``; docs/portal.md says how to wire each)."""

    governance: Governance
    datasets: DatasetCatalog
    history: AccessHistory
    doctor: Callable[[], list[CheckResult]]
    episodes: EpisodeCatalog = field(default_factory=NoEpisodes)
    sign_in: SignIn | None = None  # default: LocalSignIn over the accounts table
    session_lifetime: timedelta = timedelta(hours=8)
    secure_cookies: bool | None = None  # default: when the collector serves TLS
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def mount_portal(app: FastAPI, portal: Portal) -> None:
    """Add the portal's pages, static files and HTML error pages to a collector app."""
    from apprentice.web import contributor, ml, officer, signin

    st: AppState = app.state.apprentice
    if portal.sign_in is None:
        portal.sign_in = LocalSignIn(st.api.metadata)
    if portal.secure_cookies is None:
        portal.secure_cookies = st.settings.tls_cert_file is not None
    st.extra["portal_sessions"] = Sessions(st.api.metadata, portal.session_lifetime)
    app.state.portal = portal
    for router in (signin.router, contributor.router, officer.router, ml.router):
        app.include_router(router, include_in_schema=False)
    static = resources.files("apprentice.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    _install_page_errors(app)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _install_page_errors(app: FastAPI) -> None:
    api_error = app.exception_handlers[ApiError]
    http_error = app.exception_handlers[StarletteHTTPException]
    invalid = app.exception_handlers[RequestValidationError]

    def error_page(request: Request, status: int, message: str) -> Response:
        if status == 401:
            target = f"/login?next={request.url.path}"
            return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
        heading = {403: "Not allowed", 404: "Not found"}.get(status, "Something went wrong")
        return page(request, "error.html", None, title=heading, status=status, message=message,
                    heading=heading, code=status)

    @app.exception_handler(ApiError)
    async def portal_api_error(request: Request, exc: ApiError) -> Response:
        if _is_api(request):
            return await api_error(request, exc)  # type: ignore[no-any-return, misc]
        return error_page(request, exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def portal_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return await http_error(request, exc)  # type: ignore[no-any-return, misc]
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else "error"
        return error_page(request, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def portal_invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return await invalid(request, exc)  # type: ignore[no-any-return, misc]
        return error_page(request, 404, "no such page")
