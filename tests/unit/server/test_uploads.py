"""Chunk uploads through the HTTP API: idempotence, and hostile input → 4xx, nothing stored."""

from __future__ import annotations

import base64
import errno
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from apprentice.client.identity import DeviceIdentity
from apprentice.crypto import ChunkHeader, chunk_id, request_message, seal_chunk, sign
from apprentice.crypto.signing import new_nonce
from apprentice.server.incoming import FLUSH_BYTES
from apprentice.server.storage.blobs import BlobStoreUnavailable
from apprentice.server.storage.blobs.base import BlobWriter
from tests.unit.server.collector import ADMIN, Collector, raw_grant


def _sealed(identity: DeviceIdentity, payload: bytes = b"canary-secret", **header: str) -> bytes:
    fields = {"contributor": identity.contributor_id, "device": identity.device_id,
              "key_id": identity.key_id, "origin": "spool:00000001.ev.seg", **header}
    return seal_chunk(payload, identity.contributor_public_key, ChunkHeader(**fields))


def _headers(identity: DeviceIdentity, method: str, path: str, body: bytes, timestamp: float,
             nonce: str | None = None, seed: bytes | None = None) -> dict[str, str]:
    nonce = nonce or new_nonce()
    message = request_message(method, path, identity.device_id, int(timestamp), nonce, body)
    signature = sign(seed or identity.signing_seed, message)
    return {
        "X-Apprentice-Device": identity.device_id, "X-Apprentice-Timestamp": str(int(timestamp)),
        "X-Apprentice-Nonce": nonce,
        "X-Apprentice-Signature": base64.urlsafe_b64encode(signature).decode().rstrip("="),
        "Content-Type": "application/octet-stream",
    }


def _put(c: Collector, identity: DeviceIdentity, body: bytes, cid: str | None = None, **kw):  # type: ignore[no-untyped-def]
    path = f"/api/v1/chunks/{cid or chunk_id(body)}"
    headers = _headers(identity, "PUT", path, body, c.clock.timestamp(), **kw)
    return c.http.put(path, content=body, headers=headers)


@pytest.fixture
def device(collector: Collector, tmp_path: Path) -> DeviceIdentity:
    return collector.enrol(tmp_path / "device")


def _nothing_stored(c: Collector) -> bool:
    return c.metadata.count_chunks() == 0 and not list(c.blobs.keys())


def test_a_chunk_is_stored_once_however_often_it_is_sent(
    collector: Collector, device: DeviceIdentity
) -> None:
    body = _sealed(device)
    first, second = _put(collector, device, body), _put(collector, device, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == {"chunk_id": chunk_id(body), "stored": True, "created": True}
    assert second.json()["created"] is False
    assert collector.metadata.count_chunks() == 1 and len(list(collector.blobs.keys())) == 1


def test_stored_bytes_are_the_ciphertext_only(collector: Collector, device: DeviceIdentity) -> None:
    _put(collector, device, _sealed(device, b"canary-secret" * 50))
    for key in collector.blobs.keys():  # noqa: SIM118 (a BlobStore method)
        assert b"canary-secret" not in collector.blobs.get(key, grant=raw_grant(key))
        assert "alice" not in key  # blob names say nothing about their owner


def test_a_device_can_ask_whether_its_chunk_is_stored(collector: Collector, device: DeviceIdentity) -> None:
    body = _sealed(device)
    path = f"/api/v1/chunks/{chunk_id(body)}"
    before = collector.http.get(path, headers=_headers(device, "GET", path, b"", collector.clock.timestamp()))
    _put(collector, device, body)
    after = collector.http.get(path, headers=_headers(device, "GET", path, b"", collector.clock.timestamp()))
    assert (before.status_code, after.status_code) == (404, 200)


def test_wrong_device_key_is_401_and_nothing_stored(collector: Collector, device: DeviceIdentity) -> None:
    reply = _put(collector, device, _sealed(device), seed=bytes(32))
    assert reply.status_code == 401
    assert "signature does not verify" in reply.json()["error"]["message"]
    assert _nothing_stored(collector)


def test_unknown_device_is_401(collector: Collector, device: DeviceIdentity) -> None:
    ghost = DeviceIdentity("dev-" + "0" * 32, "alice", device.key_id, device.contributor_public_key,
                           device.server_url, device.signing_seed)
    reply = _put(collector, ghost, _sealed(device))
    assert reply.status_code == 401 and "unknown or revoked" in reply.json()["error"]["message"]
    assert _nothing_stored(collector)


def test_revoked_device_is_401_and_nothing_stored(collector: Collector, device: DeviceIdentity) -> None:
    revoke = collector.http.post(f"/api/v1/admin/devices/{device.device_id}/revoke", headers=ADMIN)
    assert revoke.status_code == 204
    reply = _put(collector, device, _sealed(device))
    assert reply.status_code == 401 and "revoked" in reply.json()["error"]["message"]
    assert _nothing_stored(collector)


def test_replayed_request_is_401(collector: Collector, device: DeviceIdentity) -> None:
    body = _sealed(device)
    path = f"/api/v1/chunks/{chunk_id(body)}"
    headers = _headers(device, "PUT", path, body, collector.clock.timestamp())
    assert collector.http.put(path, content=body, headers=headers).status_code == 201
    replay = collector.http.put(path, content=body, headers=headers)
    assert replay.status_code == 401 and "replayed" in replay.json()["error"]["message"]


@pytest.mark.parametrize("skew", [-301, 301])
def test_request_outside_the_replay_window_is_401(collector: Collector, device: DeviceIdentity,
                                                  skew: int) -> None:
    body = _sealed(device)
    path = f"/api/v1/chunks/{chunk_id(body)}"
    headers = _headers(device, "PUT", path, body, collector.clock.timestamp() + skew)
    reply = collector.http.put(path, content=body, headers=headers)
    assert reply.status_code == 401 and "replay window" in reply.json()["error"]["message"]
    assert _nothing_stored(collector)


def test_body_altered_after_signing_is_401(collector: Collector, device: DeviceIdentity) -> None:
    body = _sealed(device)
    path = f"/api/v1/chunks/{chunk_id(body)}"
    headers = _headers(device, "PUT", path, body, collector.clock.timestamp())
    tampered = body[:-1] + bytes([body[-1] ^ 1])
    assert collector.http.put(path, content=tampered, headers=headers).status_code == 401
    assert _nothing_stored(collector)


def test_tampered_ciphertext_under_the_original_id_is_422(
    collector: Collector, device: DeviceIdentity
) -> None:
    body = _sealed(device)
    tampered = body[:-1] + bytes([body[-1] ^ 1])
    reply = _put(collector, device, tampered, cid=chunk_id(body))
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "hash_mismatch"
    assert _nothing_stored(collector)


def test_truncated_body_is_rejected(collector: Collector, device: DeviceIdentity) -> None:
    body = _sealed(device)
    reply = _put(collector, device, body[:40], cid=chunk_id(body))
    assert reply.status_code == 422
    short = _put(collector, device, body[:20])  # hashes fine, but is not a whole chunk
    assert short.status_code == 422 and short.json()["error"]["code"] == "malformed_chunk"
    assert _nothing_stored(collector)


def test_chunk_claiming_another_contributor_is_403(collector: Collector, device: DeviceIdentity,
                                                   tmp_path: Path) -> None:
    bob = collector.enrol(tmp_path / "bob", contributor="bob")
    # sealed to bob's key with bob's name, but sent by alice's device
    forged = seal_chunk(b"x", bob.contributor_public_key,
                        ChunkHeader("bob", device.device_id, bob.key_id, "o:1"))
    reply = _put(collector, device, forged)
    assert reply.status_code == 403 and "another contributor" in reply.json()["error"]["message"]
    other_device = _sealed(device, device="dev-" + "1" * 32)
    assert _put(collector, device, other_device).status_code == 403
    assert _nothing_stored(collector)


def test_chunk_sealed_to_a_stale_key_is_409(collector: Collector, device: DeviceIdentity) -> None:
    from apprentice.crypto import key_id
    from apprentice.crypto.sealed import generate_key_pair

    _, stale = generate_key_pair()
    body = seal_chunk(b"x", stale, ChunkHeader("alice", device.device_id, key_id(stale), "o:1"))
    assert _put(collector, device, body).status_code == 409
    assert _nothing_stored(collector)


def test_oversized_body_is_413(collector_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    small = collector_factory(max_chunk_bytes=2048)
    device = small.enrol(tmp_path / "d")
    body = _sealed(device, b"x" * 4096)
    reply = _put(small, device, body)
    assert reply.status_code == 413 and "limit" in reply.json()["error"]["message"]
    assert _nothing_stored(small)


def test_invalid_chunk_id_in_the_path_is_422(collector: Collector, device: DeviceIdentity) -> None:
    # Authentication comes first: an anonymous caller learns nothing about validation.
    assert collector.http.put("/api/v1/chunks/NOT-A-HASH", content=b"x").status_code == 401
    reply = _put(collector, device, b"x", cid="NOT-A-HASH")
    assert reply.status_code == 422


def test_missing_signature_headers_are_401(collector: Collector, device: DeviceIdentity) -> None:
    body = _sealed(device)
    path = f"/api/v1/chunks/{chunk_id(body)}"
    reply = collector.http.put(path, content=body)
    assert reply.status_code == 401 and "signed device request" in reply.json()["error"]["message"]
    partial = {"X-Apprentice-Device": device.device_id}
    reply = collector.http.put(path, content=body, headers=partial)
    assert reply.status_code == 401 and "malformed request signature" in reply.json()["error"]["message"]


def test_busy_collector_answers_429_with_retry_after(
    collector_factory: Callable[..., Collector], tmp_path: Path
) -> None:
    c = collector_factory(upload_queue_s=0)
    device = c.enrol(tmp_path / "device")
    c.app.state.apprentice.uploads.busy = c.settings.max_inflight_uploads
    reply = _put(c, device, _sealed(device))
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "1"
    c.app.state.apprentice.uploads.busy = 0
    assert _nothing_stored(c)


def test_busy_retry_after_follows_upload_time(
    collector_factory: Callable[..., Collector], tmp_path: Path
) -> None:
    """Refused devices are asked to wait about as long as the uploads ahead of them take
    (a refused upload has already cost its body), never less than retry_after_s."""
    c = collector_factory(upload_queue_s=0)
    device = c.enrol(tmp_path / "device")
    st = c.app.state.apprentice
    st.uploads.busy, st.upload_seconds = c.settings.max_inflight_uploads, 3.2
    reply = _put(c, device, _sealed(device))
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "4"
    st.uploads.busy, st.upload_seconds = 0, 0.0
    assert _nothing_stored(c)


def test_an_upload_over_the_limit_waits_its_turn_before_a_429(
    collector_factory: Callable[..., Collector], tmp_path: Path
) -> None:
    """Over max_inflight_uploads an upload queues for upload_queue_s (its body unread), and
    only then is refused; with a slot free it is stored at once (server/admission.py)."""
    c = collector_factory(upload_queue_s=0.3)
    device = c.enrol(tmp_path / "device")
    c.app.state.apprentice.uploads.busy = c.settings.max_inflight_uploads
    started = time.monotonic()
    reply = _put(c, device, _sealed(device))
    assert reply.status_code == 429 and time.monotonic() - started >= 0.3
    assert c.app.state.apprentice.uploads.waiting == 0  # the waiter left the queue
    c.app.state.apprentice.uploads.busy = c.settings.max_inflight_uploads - 1
    assert _put(c, device, _sealed(device)).status_code == 201
    assert c.app.state.apprentice.uploads.busy == c.settings.max_inflight_uploads - 1  # released


# -- the audit entry of an upload, with the collector's SQL audit log -------------------------

@pytest.fixture
def audited(collector_factory) -> Collector:  # type: ignore[no-untyped-def]
    return collector_factory(audit_log=True)


def _entries(c: Collector) -> list:  # type: ignore[type-arg]
    assert c.audit.size() == c.audit.store.appended()  # no gap: every index committed
    return c.audit.entries()


def test_every_upload_leaves_exactly_one_entry_committed_with_it(audited: Collector, tmp_path: Path) -> None:
    """New, duplicate, refused (422) and replayed uploads each leave one decision entry in the
    SQL audit log, which commits in the upload's own transaction (docs/collector.md)."""
    identity = audited.enrol(tmp_path / "device")
    before = len(_entries(audited))
    body = _sealed(identity)
    assert _put(audited, identity, body).status_code == 201
    assert _put(audited, identity, body).status_code == 200
    tampered = bytearray(body)
    tampered[-1] ^= 1
    assert _put(audited, identity, bytes(tampered), cid=chunk_id(body)).status_code == 422
    other = _sealed(identity, b"other")
    path = f"/api/v1/chunks/{chunk_id(other)}"
    headers = _headers(identity, "PUT", path, other, audited.clock.timestamp())
    assert audited.http.put(path, content=other, headers=headers).status_code == 201
    assert audited.http.put(path, content=other, headers=headers).status_code == 401  # replayed
    entries = _entries(audited)[before:]
    assert len(entries) == 5
    assert {(e.action, e.decision, e.actor, e.subject) for e in entries} == {
        ("upload", "allow", f"device:{identity.device_id}", identity.contributor_id)}
    assert entries[0].resource == f"RawChunk:{chunk_id(body)}"
    assert audited.metadata.count_chunks() == 2


def test_an_upload_that_fails_before_its_commit_still_leaves_its_entry(
    audited: Collector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The blob store is made to fail (a full disk cannot be arranged here; this is the one
    stand-in: the memory store's commit goes through ``put``): the request fails (503
    storage_full) and still leaves the allow entry, recorded on its own, and no chunk row."""
    identity = audited.enrol(tmp_path / "device")
    before = len(_entries(audited))

    def full_disk(key: str, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(audited.blobs, "put", full_disk)
    assert _put(audited, identity, _sealed(identity)).status_code == 503
    entries = _entries(audited)[before:]
    assert [(e.action, e.decision) for e in entries] == [("upload", "allow")]
    assert audited.metadata.count_chunks() == 0


def test_an_unsigned_upload_leaves_a_deny_entry(audited: Collector, tmp_path: Path) -> None:
    identity = audited.enrol(tmp_path / "device")
    before = len(_entries(audited))
    body = _sealed(identity)
    reply = audited.http.put(f"/api/v1/chunks/{chunk_id(body)}", content=body,
                             headers=_headers(identity, "PUT", "/elsewhere", body, audited.clock.timestamp()))
    assert reply.status_code == 401
    assert [(e.actor, e.decision) for e in _entries(audited)[before:]] == [("anonymous", "deny")]


def test_a_malformed_path_id_is_refused_and_still_audited(audited: Collector) -> None:
    """Authorisation runs before validation: an id the log cannot hold (non-ASCII) or one far
    too long must still leave its entry, replaced or cut, and never a 500."""
    for odd in ("%C2%84", "x" * 300):
        reply = audited.http.post(f"/api/v1/admin/contributors/{odd}/forget", headers=ADMIN)
        assert 400 <= reply.status_code < 500, reply.text
    odd_entries = [e for e in _entries(audited) if e.action == "forget"]
    assert odd_entries[0].resource == "ContributorRecord:<invalid>"
    assert odd_entries[1].resource == "ContributorRecord:" + "x" * 128  # cut to the id limit


def _pieces(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """The body as a server receives it from the network: in pieces (one ASGI message each)."""
    return (body[i:i + size] for i in range(0, len(body), size))


def _recording_writes(c: Collector) -> list[int]:
    """Record the size of every write the collector makes to a staged blob."""
    sizes: list[int] = []
    open_writer = c.blobs.writer

    def writer(key: str) -> BlobWriter:
        inner = open_writer(key)
        original = inner.write

        def write(data: bytes) -> None:
            sizes.append(len(data))
            original(data)
        inner.write = write  # type: ignore[method-assign]
        return inner
    c.blobs.writer = writer  # type: ignore[method-assign]
    return sizes


def _file_collector(collector_factory: Callable[..., Collector], tmp_path: Path,
                    **settings: Any) -> Collector:
    return collector_factory(blob_url=f"file://{tmp_path}/blobs", **settings)


def test_a_large_chunk_streams_to_the_store_a_block_at_a_time(
    collector_factory: Callable[..., Collector], tmp_path: Path
) -> None:
    """A body is never held whole: it reaches the blob store in blocks of about FLUSH_BYTES
    (docs/collector.md, "Bounded memory"), and the stored blob is exactly what was sent."""
    c = _file_collector(collector_factory, tmp_path)
    identity = c.enrol(tmp_path / "device")
    writes = _recording_writes(c)
    body = _sealed(identity, os.urandom(3 * FLUSH_BYTES + 12_345))
    path = f"/api/v1/chunks/{chunk_id(body)}"
    headers = {**_headers(identity, "PUT", path, body, c.clock.timestamp()), "Content-Length": str(len(body))}
    assert c.http.put(path, content=_pieces(body), headers=headers).status_code == 201
    assert len(writes) >= 4 and max(writes) < FLUSH_BYTES + 64 * 1024 and sum(writes) == len(body)
    key = f"chunks/{chunk_id(body)[:2]}/{chunk_id(body)}"
    assert c.blobs.get(key, grant=raw_grant(key)) == body
    assert list((tmp_path / "blobs" / ".staging").iterdir()) == []


def test_a_large_chunk_refused_after_staging_leaves_nothing(
    collector_factory: Callable[..., Collector], tmp_path: Path
) -> None:
    """Refusals that come after blocks were staged (altered body: 422; over the size limit
    mid-stream: 413) remove the staged file; nothing is stored."""
    c = _file_collector(collector_factory, tmp_path, max_chunk_bytes=2 * FLUSH_BYTES)
    identity = c.enrol(tmp_path / "device")
    body = _sealed(identity, os.urandom(FLUSH_BYTES + 1000))
    altered = body[:-1] + bytes([body[-1] ^ 1])
    reply = _put(c, identity, altered, cid=chunk_id(body))
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "hash_mismatch"
    big = _sealed(identity, os.urandom(3 * FLUSH_BYTES))
    path = f"/api/v1/chunks/{chunk_id(big)}"
    headers = _headers(identity, "PUT", path, big, c.clock.timestamp())  # no Content-Length: chunked
    assert c.http.put(path, content=_pieces(big), headers=headers).status_code == 413
    assert _nothing_stored(c) and list((tmp_path / "blobs" / ".staging").iterdir()) == []


def test_a_full_disk_is_a_503_with_retry_after_and_leaves_nothing(
    collector_factory: Callable[..., Collector], tmp_path: Path
) -> None:
    """ENOSPC while staging: the device is told to retry later (it keeps the chunk), the
    staged part is removed, and nothing is recorded as stored."""
    c = _file_collector(collector_factory, tmp_path)
    identity = c.enrol(tmp_path / "device")
    open_writer = c.blobs.writer

    def full_after_first_block(key: str) -> BlobWriter:
        inner = open_writer(key)
        original, calls = inner.write, []

        def write(data: bytes) -> None:
            calls.append(len(data))
            if len(calls) > 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            original(data)
        inner.write = write  # type: ignore[method-assign]
        return inner
    c.blobs.writer = full_after_first_block  # type: ignore[method-assign]
    body = _sealed(identity, os.urandom(3 * FLUSH_BYTES))
    path = f"/api/v1/chunks/{chunk_id(body)}"
    headers = {**_headers(identity, "PUT", path, body, c.clock.timestamp()), "Content-Length": str(len(body))}
    reply = c.http.put(path, content=_pieces(body), headers=headers)
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "60"
    assert reply.json()["error"]["code"] == "storage_full" and "retry" in reply.json()["error"]["message"]
    assert _nothing_stored(c) and list((tmp_path / "blobs" / ".staging").iterdir()) == []


def test_a_request_that_cannot_authenticate_is_refused_before_its_body_is_read(
    collector_factory: Callable[..., Collector], tmp_path: Path
) -> None:
    """Malformed signature headers or a stale timestamp: 401 (and a deny entry) before any
    of the body is staged, so a hostile client cannot make the collector take in 64 MiB."""
    c = _file_collector(collector_factory, tmp_path)
    identity = c.enrol(tmp_path / "device")
    writes = _recording_writes(c)
    body = _sealed(identity, os.urandom(3 * FLUSH_BYTES))
    path = f"/api/v1/chunks/{chunk_id(body)}"
    stale = _headers(identity, "PUT", path, body, c.clock.timestamp() - 3600)
    malformed = {**_headers(identity, "PUT", path, body, c.clock.timestamp()), "X-Apprentice-Nonce": "xyz"}
    for headers in (stale, malformed):
        reply = c.http.put(path, content=_pieces(body), headers=headers)
        assert reply.status_code == 401
    assert writes == [] and _nothing_stored(c)
    denials = [r for r in c.audit.records if r.decision == "deny" and r.action == "upload"]
    assert len(denials) == 2


def test_a_storage_outage_is_a_503_with_retry_after(collector: Collector, device: DeviceIdentity,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The blob store cannot be reached (the S3 store raises BlobStoreUnavailable; the real
    failure is in tests/contract/test_blob_stores.py): 503, Retry-After, nothing stored."""
    def outage(key: str, data: bytes) -> None:
        raise BlobStoreUnavailable("S3 put failed: EndpointConnectionError")

    monkeypatch.setattr(collector.blobs, "put", outage)  # the memory store's commit puts
    reply = _put(collector, device, _sealed(device))
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "60"
    assert reply.json()["error"]["code"] == "storage_unavailable"
    assert collector.metadata.count_chunks() == 0
