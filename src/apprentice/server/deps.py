"""FastAPI glue shared by the routes: the app's collaborators, bounded bodies, and the two
ways to authenticate (a signed device request, the admin bearer credential)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from apprentice.server.api import CollectorApi
from apprentice.server.auth import authenticate_device, check_admin
from apprentice.server.metrics import Metrics
from apprentice.server.problems import ApiError
from apprentice.server.settings import ServerSettings
from apprentice.server.storage.metadata import DeviceRow

SMALL_BODY = 64 * 1024


@dataclass
class AppState:
    settings: ServerSettings
    api: CollectorApi
    metrics: Metrics
    clock: Callable[[], datetime]
    inflight: int = 0
    extra: dict[str, object] = field(default_factory=dict)


def state(request: Request) -> AppState:
    app_state: AppState = request.app.state.apprentice
    return app_state


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past ``limit`` and 400 if cut short."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "bad_length", "Content-Length is not a number")
        if int(declared) > limit:
            raise ApiError(413, "too_large", f"body exceeds the {limit} byte limit")
    parts: list[bytes] = []
    size = 0
    try:
        async for part in request.stream():
            size += len(part)
            if size > limit:
                raise ApiError(413, "too_large", f"body exceeds the {limit} byte limit")
            parts.append(part)
    except ClientDisconnect:
        raise ApiError(400, "truncated_body", "the body ended before it was complete") from None
    body = b"".join(parts)
    if declared is not None and len(body) != int(declared):
        raise ApiError(400, "truncated_body", "the body is shorter than its Content-Length")
    return body


def signed_path(request: Request) -> str:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    return raw.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")


async def authenticate(request: Request, body: bytes) -> DeviceRow:
    st = state(request)
    return await run_in_threadpool(
        authenticate_device, st.api.metadata, request.headers, request.method, signed_path(request),
        body, st.clock(), st.settings.replay_window_s,
    )


def signature_headers(
    x_apprentice_device: str | None = Header(None, description="Device id from enrolment."),
    x_apprentice_timestamp: str | None = Header(None, description="Unix time in seconds."),
    x_apprentice_nonce: str | None = Header(None, description="32 random hex digits, never reused."),
    x_apprentice_signature: str | None = Header(
        None, description="base64url Ed25519 signature of the canonical request (docs/collector.md)."
    ),
) -> None:
    """Documents the signed-request headers in the OpenAPI document; checked in authenticate()."""


_bearer = HTTPBearer(auto_error=False, description="The privacy officer's admin token.")


def require_admin(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    header = f"Bearer {credentials.credentials}" if credentials else None
    check_admin(header, state(request).settings.admin_token_sha256)
