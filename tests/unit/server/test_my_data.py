"""A contributor's export of all their data and deletion of a range or of everything: the
export holds their data and access history and nothing about anyone else; deletion removes
chunks by receipt time, leaves others alone, and tells the pipeline what went."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from apprentice.policy import load_notice
from apprentice.server.retention import blob_key
from tests.unit.server.collector import ADMIN, add_account
from tests.unit.server.governance_world import FakeEpisodes, World, make_world

EPISODES = {
    "alice": [("ep-a1/episode.json", b'{"task": "fill the form", "steps": 3}'),
              ("ep-a1/steps.parquet", b"PAR1")],
    "bob": [("ep-b1/episode.json", b'{"task": "bob only", "steps": 9}')],
}


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = make_world(tmp_path, episodes=FakeEpisodes(EPISODES))
    yield world
    world.close()


def _pipeline(w: World) -> dict[str, str]:
    return {**add_account(w.metadata, "pipeline"), "X-Apprentice-Purpose": "processing"}


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _activity(w: World, who: str) -> None:
    notice = load_notice()
    w.http.post("/api/v1/me/consent", headers=w.me(who),
                json={"accept": True, "notice_version": notice.version, "notice_sha256": notice.sha256})
    w.http.post("/api/v1/me/exemption-requests", headers=w.me(who), json={"reason": f"{who}'s reason"})
    w.sync(who, state="recording", agent_version="0.1.0")


def test_an_export_holds_my_data_and_access_history_and_nothing_about_anyone_else(w: World) -> None:
    alice_chunks = w.upload("alice", 2)
    bob_chunks = w.upload("bob", 3)
    _activity(w, "alice")
    _activity(w, "bob")
    pipeline = _pipeline(w)
    w.http.get(f"/api/v1/pipeline/chunks/{alice_chunks[0]}", headers=pipeline)  # an access to report
    w.http.get(f"/api/v1/pipeline/chunks/{bob_chunks[0]}", headers=pipeline)
    w.http.get("/api/v1/contributors/bob", headers=ADMIN)

    reply = w.http.get("/api/v1/me/export", headers=w.me("alice"))
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/zip"
    files = _unzip(reply.content)
    manifest = json.loads(files.pop("manifest.json"))
    assert manifest["contributor_id"] == "alice" and manifest["format"] == "apprentice-export"
    assert {f["name"] for f in manifest["files"]} == set(files)
    for entry in manifest["files"]:
        assert hashlib.sha256(files[entry["name"]]).hexdigest() == entry["sha256"]
    chunks = json.loads(files["chunks.json"])
    assert sorted(c["chunk_id"] for c in chunks) == sorted(alice_chunks) and manifest["counts"]["chunks"] == 2
    assert [c["accepted"] for c in json.loads(files["consent.json"])] == [True]
    assert [r["reason"] for r in json.loads(files["exemption_requests.json"])] == ["alice's reason"]
    assert [d["device_id"] for d in json.loads(files["devices.json"])] == [w.devices["alice"].device_id]
    access = json.loads(files["access_history.json"])
    assert access and {a["subject"] for a in access} == {"alice"}
    assert any(a["resource"] == f"RawChunk:{alice_chunks[0]}" and a["role"] == "Pipeline" for a in access)
    assert manifest["access_history_available"] is True and manifest["episodes_available"] is True
    assert files["episodes/ep-a1/episode.json"] == EPISODES["alice"][0][1]
    assert sorted(n for n in files if n.startswith("episodes/")) == ["episodes/ep-a1/episode.json",
                                                                     "episodes/ep-a1/steps.parquet"]
    # Nothing about bob anywhere in alice's export: not his id, chunks, devices, reasons or episodes.
    blob = reply.content + b"".join(files.values())
    for leak in ("bob", *bob_chunks, w.devices["bob"].device_id, "ep-b1"):
        assert leak.encode() not in blob, leak
    assert [e.action for e in w.audit.entries() if e.action == "export"] == ["export"]


def test_only_the_contributor_exports_their_own_data(w: World) -> None:
    assert w.http.get("/api/v1/me/export", headers=ADMIN).status_code == 403
    pipeline = _pipeline(w)
    assert w.http.get("/api/v1/me/export", headers=pipeline).status_code == 403
    assert w.http.get("/api/v1/me/export", auth=w.signed("alice")).status_code == 403
    assert w.http.get("/api/v1/me/export").status_code == 401


def test_deleting_a_receipt_time_range_removes_only_those_chunks(w: World) -> None:
    early = w.upload("alice", 2)
    w.clock.advance(3600)
    middle_start = w.clock.now
    middle = w.upload("alice", 2)
    w.clock.advance(3600)
    late = w.upload("alice", 1)
    bobs = w.upload("bob", 1)
    params: dict[str, Any] = {"from": middle_start.isoformat(), "to": (middle_start + timedelta(minutes=30))
                              .isoformat()}
    reply = w.http.delete("/api/v1/me/data", headers=w.me("alice"), params=params)
    assert reply.status_code == 200, reply.text
    assert reply.json()["chunks_deleted"] == 2
    for chunk in middle:
        assert w.metadata.chunk(chunk) is None
    for chunk in (*early, *late, *bobs):
        assert w.metadata.chunk(chunk) is not None
    pipeline = _pipeline(w)
    page = w.http.get("/api/v1/pipeline/deletions", headers=pipeline).json()
    assert len(page["deletions"]) == 1 and page["next"] is None
    entry = page["deletions"][0]
    assert entry["contributor_id"] == "alice" and sorted(entry["chunk_ids"]) == sorted(middle)
    assert entry["received_from"].startswith(middle_start.strftime("%Y-%m-%dT%H:%M"))
    assert w.http.get(f"/api/v1/pipeline/chunks/{middle[0]}", headers=pipeline).status_code == 404
    assert w.http.get("/api/v1/pipeline/deletions", headers=w.me("alice")).status_code == 403
    after = w.http.get("/api/v1/pipeline/deletions", headers=pipeline, params={"after": entry["cursor"]})
    assert after.json()["deletions"] == []


def test_deleting_everything_keeps_the_contributor_enrolled(w: World) -> None:
    mine = w.upload("alice", 3)
    bobs = w.upload("bob", 2)
    reply = w.http.delete("/api/v1/me/data", headers=w.me("alice"))
    assert reply.status_code == 200 and reply.json()["chunks_deleted"] == 3
    assert reply.json()["received_from"] is None and reply.json()["received_to"] is None
    assert all(w.metadata.chunk(c) is None for c in mine) and all(w.metadata.chunk(c) for c in bobs)
    assert set(w.blobs.keys()) == {blob_key(c) for c in bobs}
    assert w.metadata.contributor_key("alice") is not None  # unlike forget-me: key kept, still enrolled
    assert w.upload("alice", 1)
    assert "changed:data_deleted" in [e.action for e in w.audit.entries_about("alice")]


@pytest.mark.parametrize(("params", "code"), [
    ({"from": "2026-03-01T10:00:00+00:00", "to": "2026-03-01T09:00:00+00:00"}, "invalid_range"),
    ({"from": "2026-03-01T10:00:00"}, "invalid_range"),
    ({"to": "yesterday"}, "invalid_request"),
])
def test_a_bad_range_is_refused_and_deletes_nothing(w: World, params: dict[str, str], code: str) -> None:
    mine = w.upload("alice", 1)
    reply = w.http.delete("/api/v1/me/data", headers=w.me("alice"), params=params)
    assert reply.status_code == 422 and reply.json()["error"]["code"] == code
    assert w.metadata.chunk(mine[0]) is not None
