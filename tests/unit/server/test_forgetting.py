"""forget-me, the privacy officer's forget, retention purge: crypto-shredding and tombstones."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from apprentice.crypto import ChunkHeader, chunk_id, seal_chunk
from apprentice.errors import DecryptionError, UploadRejected
from apprentice.server.retention import blob_key, purge_expired
from tests.unit.server.collector import ADMIN, Collector, raw_grant


def _upload(c: Collector, folder: Path, contributor: str = "alice", n: int = 3) -> list[str]:
    identity = c.enrol(folder, contributor)
    up = c.uploader(identity)
    ids = []
    for i in range(n):
        header = ChunkHeader(identity.contributor_id, identity.device_id, identity.key_id, f"s:{i}")
        sealed = seal_chunk(f"event {i}".encode(), identity.contributor_public_key, header)
        up.put_chunk(chunk_id(sealed), sealed)
        ids.append(chunk_id(sealed))
    return ids


def test_forget_me_shreds_the_key_deletes_blobs_and_leaves_a_tombstone(collector: Collector,
                                                                       tmp_path: Path) -> None:
    ids = _upload(collector, tmp_path / "a")
    sealed = collector.blobs.get(blob_key(ids[0]), grant=raw_grant(ids[0]))
    assert collector.pipeline.open(sealed)[1] == b"event 0"
    identity_dir = tmp_path / "a"
    from apprentice.client import load_identity

    up = collector.uploader(load_identity(identity_dir))
    result = up.forget_me()
    assert result["chunks_deleted"] == 3
    assert collector.metadata.count_chunks() == 0 and list(collector.blobs.keys()) == []
    assert collector.metadata.tombstone("alice") is not None
    with pytest.raises(DecryptionError):  # a copy of the ciphertext (a backup) is now useless
        collector.pipeline.open(sealed)
    with pytest.raises(UploadRejected) as err:  # and the device is revoked
        up.contributor_key()
    assert err.value.status == 401


def test_forgetting_leaves_other_contributors_alone(collector: Collector, tmp_path: Path) -> None:
    _upload(collector, tmp_path / "a", "alice")
    bob = _upload(collector, tmp_path / "b", "bob")
    reply = collector.http.post("/api/v1/admin/contributors/alice/forget", headers=ADMIN)
    assert reply.status_code == 200 and reply.json()["chunks_deleted"] == 3
    sealed_bob = collector.blobs.get(blob_key(bob[0]), grant=raw_grant(bob[0]))
    assert collector.pipeline.open(sealed_bob)[1] == b"event 0"
    again = collector.http.post("/api/v1/admin/contributors/alice/forget", headers=ADMIN)
    assert again.status_code == 200  # idempotent: finishes an interrupted run


def test_a_forgotten_contributor_cannot_be_enrolled_again(collector: Collector, tmp_path: Path) -> None:
    _upload(collector, tmp_path / "a")
    collector.http.post("/api/v1/admin/contributors/alice/forget", headers=ADMIN)
    reply = collector.http.post("/api/v1/admin/enrolment-tokens", headers=ADMIN,
                                json={"contributor_id": "alice"})
    assert reply.status_code == 409


def test_forgetting_an_unknown_contributor_is_404(collector: Collector) -> None:
    assert collector.http.post("/api/v1/admin/contributors/nobody/forget", headers=ADMIN).status_code == 404


def test_retention_purge_deletes_only_expired_chunks(collector_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = collector_factory(retention_days=30)
    old = _upload(c, tmp_path / "a", n=2)
    c.clock.advance(20 * 86400)
    new = _upload(c, tmp_path / "b", "bob", n=1)
    c.clock.advance(11 * 86400)
    reply = c.http.post("/api/v1/admin/purge", headers=ADMIN)
    assert reply.status_code == 200 and reply.json() == {"chunks_deleted": 2}
    assert c.metadata.chunk(old[0]) is None and c.metadata.chunk(new[0]) is not None
    assert sorted(c.blobs.keys()) == [blob_key(new[0])]


def test_purge_without_a_retention_period_is_409(collector: Collector) -> None:
    assert collector.http.post("/api/v1/admin/purge", headers=ADMIN).status_code == 409


def test_purge_also_forgets_expired_nonces(collector: Collector, tmp_path: Path) -> None:
    _upload(collector, tmp_path / "a", n=1)
    assert purge_expired(collector.metadata, collector.blobs, timedelta(days=1),
                         collector.clock() + timedelta(hours=1)) == 0
    assert collector.metadata.forget_nonces(collector.clock() + timedelta(hours=1)) == 0
