"""A collector for the governance tests: the in-process app on SQLite memory stores, with the
real audit log (``AuditLog`` over its memory store, so exports can list entries about a
contributor), two enrolled contributors with a device and a contributor account each, and
helpers to sync as a device and to upload sealed chunks."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from apprentice.audit import AuditLog, MemoryAuditStore
from apprentice.client import DeviceIdentity, Uploader, enroll
from apprentice.client.uploader import DeviceSigner
from apprentice.crypto import ChunkHeader, chunk_id, seal_chunk
from apprentice.crypto.sealed import generate_key_pair
from apprentice.keys._local import LocalMasterWrapper
from apprentice.server import ServerSettings, create_app
from apprentice.server.keys import ContributorKeys
from apprentice.server.storage.blobs import BlobStore, open_blob_store
from apprentice.server.storage.metadata import MetadataStore, open_metadata
from tests.unit.server.collector import ADMIN, ADMIN_TOKEN, Clock, SyncAsgiTransport, add_account

POLICY = """version: 1
allow:
  apps:
    - app_id: org.libreoffice.LibreOffice
pause_cap_minutes: 20
"""


class FakeEpisodes:
    """Stands in for the pipeline's episode store (the pipeline service is another work
    package; the collector only sees this protocol): episodes keyed by contributor."""

    available = True

    def __init__(self, by_contributor: dict[str, list[tuple[str, bytes]]]) -> None:
        self.by_contributor = by_contributor

    def episodes_for(self, contributor_id: str) -> Iterable[tuple[str, bytes]]:
        return list(self.by_contributor.get(contributor_id, []))


@dataclass
class World:
    http: httpx.Client
    metadata: MetadataStore
    clock: Clock
    audit: AuditLog
    blobs: BlobStore
    devices: dict[str, DeviceIdentity] = field(default_factory=dict)
    accounts: dict[str, dict[str, str]] = field(default_factory=dict)

    def close(self) -> None:
        self.http.close()
        self.metadata.close()

    def me(self, who: str) -> dict[str, str]:
        return {**self.accounts[who], "X-Apprentice-Purpose": "self_service"}

    def signed(self, who: str) -> DeviceSigner:
        return DeviceSigner(self.devices[who], clock=self.clock.timestamp)

    def sync(self, who: str, **report: Any) -> httpx.Response:
        body = {"state": "not_running", **report}
        return self.http.post("/api/v1/device/sync", json=body, auth=self.signed(who))

    def upload(self, who: str, n: int = 1) -> list[str]:
        identity = self.devices[who]
        up = Uploader(identity, client=self.http, clock=self.clock.timestamp, sleep=lambda _s: None,
                      rng=lambda: 0.5)
        ids = []
        for _ in range(n):
            header = ChunkHeader(identity.contributor_id, identity.device_id, identity.key_id,
                                 "g:" + os.urandom(6).hex())
            sealed = seal_chunk(os.urandom(32), identity.contributor_public_key, header)
            up.put_chunk(chunk_id(sealed), sealed)
            ids.append(chunk_id(sealed))
        return ids

    def approve_dpia(self) -> str:
        made = self.http.post("/api/v1/dpias", headers=ADMIN,
                              json={"title": "Capture", "summary": "Assessed."})
        assert made.status_code == 201, made.text
        approved = self.http.post(f"/api/v1/dpias/{made.json()['id']}/approve", headers=ADMIN)
        assert approved.status_code == 200, approved.text
        return str(made.json()["id"])

    def publish_policy(self, text: str = POLICY) -> httpx.Response:
        return self.http.put("/api/v1/policy", content=text.encode(),
                             headers={**ADMIN, "Content-Type": "application/yaml"})


def make_world(folder: Path, episodes: Any = None) -> World:
    clock = Clock()
    _, master_public = generate_key_pair()
    settings = ServerSettings(master_key_url="local:///unused", database_url="sqlite://", blob_url="memory://")
    metadata = open_metadata("sqlite://")
    add_account(metadata, "privacy_officer", token=ADMIN_TOKEN)
    keys = ContributorKeys(metadata, LocalMasterWrapper(master_public))
    audit = AuditLog(MemoryAuditStore())
    blobs = open_blob_store("memory://")
    app = create_app(settings, blobs, metadata, keys, audit=audit, clock=clock,
                     run_purge_loop=False, episodes=episodes)
    http = httpx.Client(transport=SyncAsgiTransport(app), base_url="http://testserver")
    world = World(http, metadata, clock, audit, blobs)
    for who in ("alice", "bob"):
        token = http.post("/api/v1/admin/enrolment-tokens", headers=ADMIN,
                          json={"contributor_id": who}).json()
        (folder / who).mkdir(parents=True, exist_ok=True)
        world.devices[who] = enroll("http://testserver", token["token"], folder / who, client=http)
        world.accounts[who] = add_account(metadata, "contributor", who)
    return world
