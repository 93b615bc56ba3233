"""FastAPI glue shared by the routes: the app's collaborators, bounded bodies, and the one
way in: :func:`authorize`, the dependency every route declares.

``authorize(action, resource_type, ...)`` works out who is calling (a bearer account, a
signed device request, a signed-in portal session on pages, or nobody), the purpose
(``X-Apprentice-Purpose``, or the one a portal page declares), and the resource
(its owner from the path or the caller), asks the Cedar policies, records the decision in the
audit sink, and refuses: 401 when an anonymous caller is denied, 403 naming the missing
permission when anyone else is. Routes receive an :class:`Access` describing the caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from apprentice.audit.entry import UNLOGGABLE, loggable
from apprentice.authz import PURPOSES, ROLES, AccessGrant, Authorizer, Decision, Principal, Resource
from apprentice.server.accounts import TOKEN_PREFIX, token_sha256
from apprentice.server.admission import UploadSlots
from apprentice.server.api import CollectorApi
from apprentice.server.audit_sink import AuditSink, DeferredRecord
from apprentice.server.auth import (
    DEVICE_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    VerifiedUpload,
    authenticate_device,
    check_signed_headers,
    verify_device_request,
    verify_upload,
)
from apprentice.server.incoming import IncomingChunk
from apprentice.server.metrics import Metrics
from apprentice.server.problems import ApiError
from apprentice.server.settings import ServerSettings
from apprentice.server.signin import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Sessions, csrf_matches
from apprentice.server.storage.metadata import AccountRow, DeviceRow, NonceClaim

SMALL_BODY = 64 * 1024
FORM_BODY = 256 * 1024
PURPOSE_HEADER = "x-apprentice-purpose"
ANONYMOUS = Principal("Anonymous", "anonymous")

Owner = Literal["none", "self", "path", "chunk", "lookup"]
OwnerLookup = Callable[["AppState", str], "str | None"]


@dataclass
class AppState:
    settings: ServerSettings
    api: CollectorApi
    metrics: Metrics
    clock: Callable[[], datetime]
    authorizer: Authorizer
    audit: AuditSink
    governance: Any = None  # apprentice.server.governance.Governance (typed there; no import cycle)
    # The sink's way to append an entry inside the metadata store's own transaction (an
    # AuditLog on the collector's database: ``AuditLog.record_in``), or None.
    audit_record_in: Callable[..., Callable[[Any], None] | None] | None = None
    # At most max_inflight_uploads uploads at once, the next ones queue briefly (admission.py).
    uploads: UploadSlots = field(default_factory=lambda: UploadSlots(0))
    # Recent seconds an upload spends in this process (moving average): a busy 429's
    # Retry-After, so refused devices come back when the uploads ahead of them are done.
    upload_seconds: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.uploads.limit = self.settings.max_inflight_uploads


def state(request: Request) -> AppState:
    app_state: AppState = request.app.state.apprentice
    return app_state


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past ``limit`` and 400 if cut short."""
    declared = _declared_length(request, limit)
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
    if declared is not None and len(body) != declared:
        raise ApiError(400, "truncated_body", "the body is shorter than its Content-Length")
    return body


async def receive_chunk(request: Request, limit: int, incoming: IncomingChunk, idle_timeout: float) -> None:
    """Stream an upload's body into ``incoming`` (hashed and staged a block at a time in a
    worker thread, never whole in memory); 413 past ``limit``, 400 if cut short, 408 (and the
    connection closed) if no part of it arrives for ``idle_timeout`` seconds: a client that
    stalls mid-body must not hold an upload slot for ever."""
    declared = _declared_length(request, limit)
    parts = request.stream().__aiter__()
    try:
        while True:
            try:
                async with asyncio.timeout(idle_timeout):
                    part = await anext(parts)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise ApiError(408, "body_timeout", f"no part of the body arrived for {idle_timeout:g} s; "
                               "send the chunk again", {"Connection": "close"}) from None
            if incoming.size + len(part) > limit:
                raise ApiError(413, "too_large", f"body exceeds the {limit} byte limit")
            if incoming.take(part):
                await run_in_threadpool(incoming.flush)
    except ClientDisconnect:
        raise ApiError(400, "truncated_body", "the body ended before it was complete") from None
    if declared is not None and incoming.size != declared:
        raise ApiError(400, "truncated_body", "the body is shorter than its Content-Length")


def _declared_length(request: Request, limit: int) -> int | None:
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not declared.isdigit():
        raise ApiError(400, "bad_length", "Content-Length is not a number")
    if int(declared) > limit:
        raise ApiError(413, "too_large", f"body exceeds the {limit} byte limit")
    return int(declared)


def signed_path(request: Request) -> str:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    return raw.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")


async def verify_signed(request: Request, body: bytes) -> tuple[DeviceRow, NonceClaim]:
    """Check a signed device request but leave its nonce unrecorded: the caller must record
    it (uploads do so in the chunk's own transaction) or the request could be replayed."""
    st = state(request)
    return await run_in_threadpool(
        verify_device_request, st.api.metadata, request.headers, request.method, signed_path(request),
        body, st.clock(), st.settings.replay_window_s,
    )


async def authenticate(request: Request, body: bytes) -> DeviceRow:
    st = state(request)
    return await run_in_threadpool(
        authenticate_device, st.api.metadata, request.headers, request.method, signed_path(request),
        body, st.clock(), st.settings.replay_window_s,
    )


def _header_doc(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": {"type": "string"}}


# The signed-request headers, documented in the OpenAPI document of the device routes
# (``openapi_extra=signed_openapi(...)``) rather than by a dependency: FastAPI would resolve
# a dependency on every request only to throw the values away (authorize() checks them).
SIGNATURE_PARAMETERS: list[dict[str, Any]] = [
    _header_doc("x-apprentice-device", "Device id from enrolment."),
    _header_doc("x-apprentice-timestamp", "Unix time in seconds."),
    _header_doc("x-apprentice-nonce", "32 random hex digits, never reused."),
    _header_doc("x-apprentice-signature",
                "base64url Ed25519 signature of the canonical request (docs/collector.md)."),
]
_PURPOSE_DESCRIPTION = (f"Why this request is made: one of {', '.join(PURPOSES)}. "
                        "Devices may omit it (collection).")


def signed_openapi(extra: dict[str, Any] | None = None, *, lean: bool = False) -> dict[str, Any]:
    """``openapi_extra`` for a route that takes signed device requests: the signature headers
    (plus ``extra``). ``lean``: the route's authorize() takes no FastAPI parameters
    (``defer_device_body``), so the purpose header and the bearer scheme are documented here too."""
    parameters = list(SIGNATURE_PARAMETERS)
    doc: dict[str, Any] = dict(extra or {})
    if lean:
        parameters.insert(0, _header_doc("x-apprentice-purpose", _PURPOSE_DESCRIPTION))
        doc["security"] = [{"HTTPBearer": []}]
    doc["parameters"] = parameters
    return doc


def _bearer_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    """What ``HTTPBearer(auto_error=False)`` yields, without a FastAPI dependency."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=token)


_bearer = HTTPBearer(auto_error=False, description="An account's API token (apa_…); docs/authorization.md.")


@dataclass
class Access:
    """The caller of one request, as the authorize dependency established it."""

    principal: Principal
    purpose: str
    decision: Decision | None
    account: AccountRow | None = None
    device_row: DeviceRow | None = None
    body: bytes = b""
    csrf_token: str | None = None  # a portal session's, for the forms of the page
    nonce: NonceClaim | None = None  # an upload's, still to be recorded with its chunk
    upload: VerifiedUpload | None = None  # an upload's device, key, exemption, stored?, body hash
    audit: DeferredRecord | None = None  # an upload's allow entry, to commit with its chunk row
    _complete: Callable[[Any], Awaitable[Access]] | None = field(default=None, repr=False)

    @property
    def grant(self) -> AccessGrant:
        """The grant a raw read hands to the blob store (only after an allow for it)."""
        if self.decision is None or self.decision.grant is None:
            raise ApiError(403, "forbidden", "this request carries no grant to read raw chunks")
        return self.decision.grant

    @property
    def contributor(self) -> str | None:
        return self.principal.contributor

    async def device(self, body: bytes | IncomingChunk) -> DeviceRow:
        """For a route that reads a large body first (uploads, whose body streamed into an
        :class:`IncomingChunk`): authenticate the signed request over ``body`` and decide
        now. Otherwise the device is already known."""
        if self.device_row is not None:
            return self.device_row
        if self._complete is None:
            raise ApiError(401, "unauthorized", "this route needs a signed device request",
                           {"WWW-Authenticate": "Apprentice-Signature"})
        done = await self._complete(body)
        assert done.device_row is not None
        self.principal, self.decision, self.device_row = done.principal, done.decision, done.device_row
        self.nonce, self.upload, self.audit = done.nonce, done.upload, done.audit
        return done.device_row


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form body (read once per request, at most FORM_BODY bytes;
    a repeated field keeps its last value)."""
    cached: dict[str, str] | None = getattr(request.state, "form_fields", None)
    if cached is None:
        body = await read_body(request, FORM_BODY)
        try:
            cached = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "bad_form", "the form could not be read; reload the page") from None
        request.state.form_fields = cached
    return cached


def authorize(action: str, resource_type: str, *, owner: Owner = "none", id_param: str | None = None,
              implied_purpose: str | None = None, defer_device_body: bool = False,
              lookup: OwnerLookup | None = None, page_purpose: str | None = None) -> Any:
    """The dependency every route declares (see the module docstring).

    ``owner`` says whose the resource is: ``none`` (nobody's), ``self`` (the caller's own
    contributor), ``path`` (the contributor id in path parameter ``id_param``) or ``chunk``
    (the contributor of the chunk in ``id_param``) or ``lookup`` (``lookup(state, value of
    id_param)`` names the owner, e.g. of an exemption request). ``implied_purpose`` applies to anonymous
    callers without a purpose header (devices imply ``collection``). ``defer_device_body``:
    the route reads the body itself and calls :meth:`Access.device` with it.
    ``page_purpose``: a portal page; the caller is the signed-in browser session (cookie),
    the purpose is the one the page declares, and every other method than GET/HEAD must
    carry the session's CSRF token (form field or header), else 403.
    """

    async def resolve(request: Request, credentials: HTTPAuthorizationCredentials | None,
                      header_purpose: str | None) -> Access:
        st = state(request)
        if page_purpose is not None:
            return await _page_access(request, action, resource_type, owner, id_param, page_purpose, lookup)
        signed = any(h in request.headers for h in (DEVICE_HEADER, NONCE_HEADER, SIGNATURE_HEADER))
        if credentials is not None or request.headers.get("authorization"):
            if signed:
                await _deny_anonymous(st, action, resource_type, header_purpose,
                                      "send a bearer token or a device signature, not both")
            account = await _account(st, credentials)
            if account is None:
                await _deny_anonymous(st, action, resource_type, header_purpose,
                                      "unknown or disabled API token")
            assert account is not None
            principal = Principal(ROLES[account.role], account.id, account.subject)
            access = Access(principal, _purpose(header_purpose, None), None, account=account)
            return await _decide(request, access, action, resource_type, owner, id_param, lookup)
        if signed:
            purpose = _purpose(header_purpose, "collection")

            async def complete(body: Any) -> Access:
                if isinstance(body, IncomingChunk):
                    # An upload: verify, decide and audit in one worker-thread hop; its nonce
                    # (and the allow entry, when the sink can) commit with the chunk row.
                    path_value = str(request.path_params.get(id_param, "")) if id_param else ""
                    return await run_in_threadpool(
                        _upload_access, st, request.headers, request.method, signed_path(request), body,
                        path_value, action, resource_type, purpose)
                nonce = None
                try:
                    if defer_device_body:  # its nonce is recorded with what it stores
                        device, nonce = await verify_signed(request, body)
                    else:
                        device = await authenticate(request, body)
                except ApiError:
                    await record(st, ANONYMOUS, action, Resource(resource_type), None, purpose, "deny")
                    raise
                principal = Principal("Device", device.id, device.contributor_id)
                access = Access(principal, purpose, None, device_row=device, body=body, nonce=nonce)
                return await _decide(request, access, action, resource_type, owner, id_param, lookup)

            if defer_device_body:
                try:
                    check_signed_headers(request.headers, st.clock(), st.settings.replay_window_s)
                except ApiError:
                    await record(st, ANONYMOUS, action, Resource(resource_type), None, purpose, "deny")
                    raise
                return Access(ANONYMOUS, purpose, None, _complete=complete)
            return await complete(await read_body(request, SMALL_BODY))
        access = Access(ANONYMOUS, _purpose(header_purpose, implied_purpose), None)
        return await _decide(request, access, action, resource_type, owner, id_param, lookup)

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        x_apprentice_purpose: Annotated[str | None, Header(description=_PURPOSE_DESCRIPTION)] = None,
    ) -> Access:
        return await resolve(request, credentials, x_apprentice_purpose)

    async def lean_dependency(request: Request) -> Access:
        # The upload route's: no parameters for FastAPI to solve on every request (its share
        # of the event loop under load); the route documents them (signed_openapi(lean=True)).
        return await resolve(request, _bearer_credentials(request), request.headers.get(PURPOSE_HEADER))

    chosen = lean_dependency if defer_device_body else dependency
    chosen.__apprentice_authorize__ = (action, resource_type)  # type: ignore[attr-defined]
    return Depends(chosen)


def _upload_access(st: AppState, headers: Mapping[str, str], method: str, path: str, body: IncomingChunk,
                   chunk_id: str, action: str, resource_type: str, purpose: str) -> Access:
    """A signed upload's caller (in a worker thread): ``auth.verify_upload``, then the decision."""
    try:
        verified = verify_upload(st.api.metadata, headers, method, path, body.sha256(), st.clock(),
                                 st.settings.replay_window_s, chunk_id)
    except ApiError:
        st.audit.record(**_fields(st, ANONYMOUS, action, Resource(resource_type), None, purpose, "deny"))
        raise
    device = verified.device
    principal = Principal("Device", device.id, device.contributor_id)
    access = Access(principal, purpose, None, device_row=device, nonce=verified.nonce, upload=verified)
    return _judge(st, access, action, resource_type, "self", chunk_id, principal.contributor,
                  defer_allow=True)


async def _page_access(request: Request, action: str, resource_type: str, owner: Owner,
                       id_param: str | None, purpose: str, lookup: OwnerLookup | None) -> Access:
    st = state(request)
    sessions = st.extra.get("portal_sessions")
    session_id = request.cookies.get(SESSION_COOKIE, "")
    session = None
    if isinstance(sessions, Sessions) and session_id:
        session = await run_in_threadpool(sessions.resolve, session_id, st.clock())
    if session is None or session.account.role not in ROLES:
        await record(st, ANONYMOUS, action, Resource(resource_type), None, purpose, "deny")
        raise _unauthenticated("sign in to open this page")
    account = session.account
    principal = Principal(ROLES[account.role], account.id, account.subject)
    if request.method not in ("GET", "HEAD"):
        submitted = request.headers.get(CSRF_HEADER) or (await form_fields(request)).get(CSRF_FIELD)
        if not csrf_matches(session, submitted):
            await record(st, principal, action, Resource(resource_type), None, purpose, "deny")
            raise ApiError(403, "csrf_failed",
                           "this form is out of date or was not sent from this site; reload the page")
    access = Access(principal, purpose, None, account=account, csrf_token=session.csrf_token)
    return await _decide(request, access, action, resource_type, owner, id_param, lookup)


def _purpose(header: str | None, implied: str | None) -> str:
    if header is None:
        return implied or "none"
    return header if header in PURPOSES else "invalid"


async def _account(st: AppState, credentials: HTTPAuthorizationCredentials | None) -> AccountRow | None:
    token = credentials.credentials if credentials is not None else ""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    account = await run_in_threadpool(st.api.metadata.account_by_token, token_sha256(token))
    return None if account is None or account.disabled or account.role not in ROLES else account


async def _decide(request: Request, access: Access, action: str, resource_type: str, owner: Owner,
                  id_param: str | None, lookup: OwnerLookup | None = None) -> Access:
    st = state(request)
    path_value = str(request.path_params.get(id_param, "")) if id_param else ""
    owner_id: str | None = None
    if owner == "self":
        owner_id = access.principal.contributor
    elif owner == "path":
        owner_id = path_value or None
    elif owner == "chunk" and path_value:
        row = await run_in_threadpool(st.api.metadata.chunk, path_value) if len(path_value) == 64 else None
        owner_id = row.contributor_id if row is not None else None
    elif owner == "lookup" and path_value and lookup is not None:
        owner_id = await run_in_threadpool(lookup, st, path_value)
    # Cedar and the audit record in one worker-thread hop (a durable sink writes to disk).
    return await run_in_threadpool(_judge, st, access, action, resource_type, owner, path_value, owner_id)


def _judge(st: AppState, access: Access, action: str, resource_type: str, owner: Owner, path_value: str,
           owner_id: str | None, *, defer_allow: bool = False) -> Access:
    """Decide, record the decision, refuse a deny. ``defer_allow``: an allow's entry is left
    in ``access.audit`` to commit with the write it allows, when the sink can do that."""
    resource_id = path_value or (owner_id if owner == "self" and owner_id else "*")
    resource = Resource(resource_type, resource_id[:128], owner_id)
    decision = st.authorizer.decide(access.principal, action, resource, access.purpose)
    access.decision = decision
    fields = _fields(st, access.principal, action, resource, owner_id, access.purpose, decision.word)
    op = st.audit_record_in(**fields) if defer_allow and decision.allowed and st.audit_record_in else None
    if op is not None:
        access.audit = DeferredRecord(op, fields)
    else:
        st.audit.record(**fields)
    if decision.allowed:
        return access
    if access.principal.type == "Anonymous":
        raise _unauthenticated("credentials required: a bearer API token or a signed device request")
    hint = "; send X-Apprentice-Purpose" if access.purpose in ("none", "invalid") else ""
    raise ApiError(403, "forbidden", f"forbidden: {decision.missing_permission}{hint}")


async def _deny_anonymous(st: AppState, action: str, resource_type: str, header: str | None,
                          why: str) -> None:
    await record(st, ANONYMOUS, action, Resource(resource_type), None, _purpose(header, None), "deny")
    raise _unauthenticated(why)


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, {"WWW-Authenticate": "Bearer, Apprentice-Signature"})


async def record(st: AppState, principal: Principal, action: str, resource: Resource,
                 subject: str | None, purpose: str, decision: str) -> None:
    """One audit record per decision (allow or deny); never content. In a worker thread: a
    durable sink writes to disk or a database."""
    fields = _fields(st, principal, action, resource, subject, purpose, decision)
    await run_in_threadpool(lambda: st.audit.record(**fields))


def _fields(st: AppState, principal: Principal, action: str, resource: Resource, subject: str | None,
            purpose: str, decision: str) -> dict[str, Any]:
    # Resource ids and subjects can come from the URL before validation: a malformed one is
    # recorded as UNLOGGABLE rather than making the audit log refuse the entry.
    resource_name = str(resource)
    if loggable("resource", resource_name) != resource_name:
        resource_name = f"{resource.type}:{UNLOGGABLE}"
    return {"actor": principal.actor, "role": principal.type, "action": action, "resource": resource_name,
            "subject": loggable("subject", subject), "purpose": purpose, "decision": decision,
            "at": st.clock()}
