"""The pipeline's read API (INTERFACES §2) and the contributor self-service reads: paging in
receipt order, sealed bytes that only the unwrapped key opens, 410/404 after forget-me, audit
records naming the chunk's contributor, and no activity figures for anyone but oneself."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from apprentice.client import DeviceIdentity
from apprentice.crypto import ChunkHeader, chunk_id, open_chunk, seal_chunk
from tests.unit.server.collector import ADMIN, Collector, add_account

PROCESSING = {"X-Apprentice-Purpose": "processing"}


def _upload(c: Collector, identity: DeviceIdentity, payload: bytes) -> str:
    header = ChunkHeader(identity.contributor_id, identity.device_id, identity.key_id, f"o:{payload.hex()}")
    sealed = seal_chunk(payload, identity.contributor_public_key, header)
    c.uploader(identity).put_chunk(chunk_id(sealed), sealed)
    return chunk_id(sealed)


@pytest.fixture
def pipeline(collector: Collector) -> dict[str, str]:
    return {**add_account(collector.metadata, "pipeline"), **PROCESSING}


def _all_chunks(c: Collector, headers: dict[str, str], limit: int) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []
    after: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": limit, **({"after": after} if after else {})}
        page = c.http.get("/api/v1/pipeline/chunks", params=params, headers=headers).json()
        seen += page["chunks"]
        if page["next"] is None:
            return seen
        after = page["next"]


def test_the_pipeline_pages_through_chunks_in_receipt_order(collector: Collector, pipeline: dict[str, str],
                                                            tmp_path: Path) -> None:
    alice, bob = collector.enrol(tmp_path / "a", "alice"), collector.enrol(tmp_path / "b", "bob")
    uploaded = [_upload(collector, who, bytes([i])) for i, who in enumerate([alice, bob, alice, alice, bob])]
    listed = _all_chunks(collector, pipeline, limit=2)
    assert [c["chunk_id"] for c in listed] == uploaded
    assert [c["contributor_id"] for c in listed] == ["alice", "bob", "alice", "alice", "bob"]
    cursors = [int(str(c["cursor"])) for c in listed]
    assert cursors == sorted(cursors) and len(set(cursors)) == 5
    reply = collector.http.get("/api/v1/pipeline/chunks", params={"after": "-1"}, headers=pipeline)
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "invalid_cursor"


def test_the_pipeline_reads_sealed_bytes_and_unwraps_the_key(collector: Collector, pipeline: dict[str, str],
                                                             tmp_path: Path) -> None:
    alice = collector.enrol(tmp_path / "a", "alice")
    cid = _upload(collector, alice, b"secret payload")
    sealed = collector.http.get(f"/api/v1/pipeline/chunks/{cid}", headers=pipeline)
    assert sealed.status_code == 200 and sealed.headers["content-type"] == "application/octet-stream"
    assert b"secret payload" not in sealed.content
    key = collector.http.get("/api/v1/pipeline/keys/alice", headers=pipeline).json()
    wrapped = base64.urlsafe_b64decode(key["wrapped_private_key"] + "==")
    private = collector.master_unwrapper.unwrap(wrapped, "alice", key["key_id"])
    assert open_chunk(sealed.content, private)[1] == b"secret payload"
    read = [r for r in collector.audit.records if r.action == "read" and r.role == "Pipeline"]
    assert [(r.resource, r.subject, r.purpose, r.decision) for r in read] == [
        (f"RawChunk:{cid}", "alice", "processing", "allow")]
    assert all("secret" not in repr(r) for r in collector.audit.records)


def test_after_forget_me_keys_are_gone_chunks_404_and_a_tombstone_is_listed(
        collector: Collector, pipeline: dict[str, str], tmp_path: Path) -> None:
    alice, bob = collector.enrol(tmp_path / "a", "alice"), collector.enrol(tmp_path / "b", "bob")
    _upload(collector, bob, b"b1")
    gone = _upload(collector, alice, b"a1")  # the newest chunk: its sequence number must not be reused
    last = int(_all_chunks(collector, pipeline, 100)[-1]["cursor"])  # type: ignore[arg-type]
    assert collector.http.post("/api/v1/admin/contributors/alice/forget", headers=ADMIN).status_code == 200
    assert collector.http.get("/api/v1/pipeline/keys/alice", headers=pipeline).status_code == 410
    assert collector.http.get(f"/api/v1/pipeline/chunks/{gone}", headers=pipeline).status_code == 404
    assert collector.http.get("/api/v1/pipeline/keys/nobody", headers=pipeline).status_code == 404
    tombstones = collector.http.get("/api/v1/pipeline/tombstones", headers=pipeline).json()["tombstones"]
    assert [t["contributor_id"] for t in tombstones] == ["alice"]
    newer = _upload(collector, bob, b"b2")
    page = collector.http.get("/api/v1/pipeline/chunks", params={"after": str(last)}, headers=pipeline)
    after = page.json()
    assert [c["chunk_id"] for c in after["chunks"]] == [newer]


def test_a_contributor_sees_their_own_figures_and_nobody_else_sees_any(collector: Collector,
                                                                        tmp_path: Path) -> None:
    alice, bob = collector.enrol(tmp_path / "a", "alice"), collector.enrol(tmp_path / "b", "bob")
    mine = [_upload(collector, alice, b"x"), _upload(collector, alice, b"yy")]
    _upload(collector, bob, b"z")
    me = {**add_account(collector.metadata, "contributor", "alice"), "X-Apprentice-Purpose": "self_service"}
    doc = collector.http.get("/api/v1/me", headers=me).json()
    assert doc["contributor_id"] == "alice" and doc["activity"]["chunks"] == 2
    assert [d["device_id"] for d in doc["record"]["devices"]] == [alice.device_id]
    listed = collector.http.get("/api/v1/me/chunks", headers=me).json()["chunks"]
    assert [c["chunk_id"] for c in listed] == mine
    assert collector.http.get("/api/v1/contributors/bob", headers=me).status_code == 403
    officer = collector.http.get("/api/v1/contributors/bob", headers=ADMIN)
    assert officer.status_code == 200 and officer.json()["devices"][0]["device_id"] == bob.device_id
    assert "activity" not in officer.json() and "chunks" not in officer.text
    assert collector.http.get("/api/v1/me", headers=ADMIN).status_code == 403
    assert collector.http.get("/api/v1/contributors/nobody", headers=ADMIN).status_code == 404
