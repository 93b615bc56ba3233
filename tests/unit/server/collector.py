"""Builders for collector tests: an app on memory/SQLite stores, an injected clock, a
privacy-officer account, enrolled devices, grants for reading raw blobs. Shared by
tests/unit/{server,client}, the contract and the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
from fastapi import FastAPI

from apprentice.audit import AuditLog
from apprentice.authz import AccessGrant, Authorizer, Principal, Resource
from apprentice.client import DeviceIdentity, Uploader, enroll
from apprentice.crypto.sealed import generate_key_pair
from apprentice.keys._local import LocalMasterUnwrapper, LocalMasterWrapper
from apprentice.keys.base import WrappedKey
from apprentice.keys.unwrap import PipelineKeyAccess
from apprentice.server import ServerSettings, create_app
from apprentice.server.accounts import token_sha256
from apprentice.server.audit_sink import MemoryAuditSink
from apprentice.server.keys import ContributorKeys
from apprentice.server.storage.blobs import BlobStore, open_blob_store
from apprentice.server.storage.metadata import AccountRow, MetadataStore, SqlAuditStore, open_metadata

ADMIN_TOKEN = "apa_test-privacy-officer"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Apprentice-Purpose": "governance"}
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_AUTHORIZER = Authorizer()


def raw_grant(key_or_chunk_id: str) -> AccessGrant:
    """A grant to read one raw blob, obtained the only way there is: an allow decision for the
    pipeline identity (tests read blobs directly to check what the collector stored)."""
    chunk_id = key_or_chunk_id.rsplit("/", 1)[-1]
    decision = _AUTHORIZER.decide(Principal("Pipeline", "acc-tests"), "read", Resource("RawChunk", chunk_id),
                                  "processing")
    assert decision.grant is not None
    return decision.grant


def add_account(metadata: MetadataStore, role: str, contributor: str | None = None,
                token: str | None = None) -> dict[str, str]:
    """Create an account with a known token; return its Authorization header."""
    token = token or f"apa_test-{role}-{contributor or 'x'}"
    account_id = "acc-" + token_sha256(token)[:32]
    metadata.add_account(AccountRow(account_id, role, contributor, START, False), token_sha256(token))
    return {"Authorization": f"Bearer {token}"}


class SyncAsgiTransport(httpx.BaseTransport):
    """Drive an ASGI app from a sync httpx.Client (httpx's ASGITransport is async-only):
    requests run on an event loop in a helper thread, as Starlette's TestClient does."""

    def __init__(self, app: FastAPI) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._portal.call(self._handle, request)

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.AsyncByteStream):  # a body sent piece by piece
            pieces = list(request.stream)  # type: ignore[arg-type]

            async def replay() -> AsyncIterator[bytes]:
                for piece in pieces:
                    yield piece
            request = httpx.Request(request.method, request.url, headers=request.headers, content=replay())
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def close(self) -> None:
        self._portal_cm.__exit__(None, None, None)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Collector:
    app: FastAPI
    http: httpx.Client
    metadata: MetadataStore
    blobs: BlobStore
    keys: ContributorKeys
    pipeline: PipelineKeyAccess
    clock: Clock
    settings: ServerSettings
    audit: Any  # MemoryAuditSink, or AuditLog with make_collector(audit_log=True)
    master_unwrapper: LocalMasterUnwrapper
    sleeps: list[float] = field(default_factory=list)

    def close(self) -> None:
        self.http.close()
        self.metadata.close()

    def issue_token(self, contributor: str = "alice", ttl_s: int = 3600) -> str:
        reply = self.http.post("/api/v1/admin/enrolment-tokens", headers=ADMIN,
                               json={"contributor_id": contributor, "ttl_s": ttl_s})
        assert reply.status_code == 201, reply.text
        token: str = reply.json()["token"]
        return token

    def enrol(self, folder: Path, contributor: str = "alice") -> DeviceIdentity:
        folder.mkdir(parents=True, exist_ok=True)
        return enroll("http://testserver", self.issue_token(contributor), folder, client=self.http)

    def uploader(self, identity: DeviceIdentity, **options: Any) -> Uploader:
        options.setdefault("sleep", self.sleeps.append)
        options.setdefault("rng", lambda: 0.5)
        return Uploader(identity, client=self.http, clock=self.clock.timestamp, **options)


class MetadataKeys:
    """The pipeline's wrapped-key source read straight from the collector's metadata store
    (tests only: in production the pipeline reads it over the pipeline API)."""

    def __init__(self, metadata: MetadataStore) -> None:
        self._metadata = metadata

    def wrapped_key(self, contributor_id: str) -> WrappedKey | None:
        row = self._metadata.contributor_key(contributor_id)
        return None if row is None else WrappedKey(contributor_id, row.key_id, row.wrapped_private_key)


def make_collector(db_url: str = "sqlite://", blob_url: str = "memory://", *, audit_log: bool = False,
                   **settings: Any) -> Collector:
    """``audit_log``: the tamper-evident SQL audit log in the collector's database (as
    ``apprentice server`` runs it) instead of a MemoryAuditSink."""
    clock = Clock()
    master_private, master_public = generate_key_pair()
    config = ServerSettings(
        master_key_url="local:///unused", database_url=db_url, blob_url=blob_url, **settings,
    )
    metadata = open_metadata(db_url)
    add_account(metadata, "privacy_officer", token=ADMIN_TOKEN)
    blobs = open_blob_store(blob_url)
    keys = ContributorKeys(metadata, LocalMasterWrapper(master_public))
    audit: MemoryAuditSink | AuditLog = AuditLog(SqlAuditStore(metadata.engine)) if audit_log \
        else MemoryAuditSink()
    app = create_app(config, blobs, metadata, keys, audit=audit, clock=clock, run_purge_loop=False)
    unwrapper = LocalMasterUnwrapper(master_private)
    pipeline = PipelineKeyAccess(MetadataKeys(metadata), unwrapper)
    http = httpx.Client(transport=SyncAsgiTransport(app), base_url="http://testserver")
    return Collector(app, http, metadata, blobs, keys, pipeline, clock, config, audit, unwrapper)
