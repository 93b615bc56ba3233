"""Rendering portal pages: the Jinja2 environment (autoescaped), the navigation each role
sees, and the security headers every page carries.

Everything a page needs is in the package (templates, one CSS file, one small script):
nothing is fetched from the internet, and the Content-Security-Policy forbids it.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from apprentice.server.deps import Access
from apprentice.web.history import when

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
                                "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

_env = Environment(loader=PackageLoader("apprentice.web", "templates"),
                   autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
_env.filters["when"] = when


def navigation(access: Access | None) -> list[tuple[str, str]]:
    """(label, href) of the pages this caller's role has."""
    if access is None or access.account is None:
        return []
    role, subject = access.account.role, access.account.subject
    if role == "contributor" and subject:
        base = f"/contributors/{subject}"
        return [("My status", base), ("My recordings", base + "/recordings"),
                ("Who accessed my data", base + "/access"), ("Consent", base + "/consent")]
    if role == "privacy_officer":
        return [("Overview", "/officer"), ("Policy", "/officer/policy"), ("DPIA", "/officer/dpia"),
                ("Exemptions", "/officer/exemptions")]
    if role == "ml_engineer":
        return [("Datasets", "/datasets")]
    return []


def page(request: Request, template: str, access: Access | None, *, title: str, status: int = 200,
         **context: Any) -> HTMLResponse:
    html = _env.get_template(template).render(
        request=request, access=access, title=title, nav=navigation(access), path=request.url.path,
        csrf=access.csrf_token if access is not None else None,
        role=access.account.role if access is not None and access.account is not None else None,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
