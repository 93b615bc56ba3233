"""End to end against the real collector process: record (fake capture backends, a real
encrypted spool) → enrol → upload → only ciphertext anywhere → the pipeline identity reads
exactly the recorded events → after forget-me nobody can. Run on filesystem+SQLite and on
S3+PostgreSQL; plus kill -9 of the collector in the middle of a stream of uploads, and
several worker processes sharing the port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from apprentice.client import DeviceIdentity, SpoolUploader, Uploader, enroll, payload_events
from apprentice.client.uploader import DeviceSigner
from apprentice.crypto import ChunkHeader, chunk_id, seal_chunk
from apprentice.errors import DecryptionError
from apprentice.keys.unwrap import PipelineKeyAccess, open_master_unwrapper
from apprentice.server.retention import blob_key
from apprentice.server.storage.blobs import open_blob_store
from apprentice.server.storage.metadata import open_metadata
from tests.contract.conftest import postgres_server, s3_env, s3_server  # noqa: F401  (fixtures)
from tests.contract.services import Postgres, S3Server
from tests.integration.collector_proc import CollectorProcess, configure
from tests.unit.client.test_agent import CANARY, record, spool_key
from tests.unit.server.collector import MetadataKeys, raw_grant

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["file+sqlite", "s3+postgres"])
def collector(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CollectorProcess]:
    if request.param == "file+sqlite":
        proc = configure(tmp_path / "srv", f"sqlite:///{tmp_path}/srv-data/collector.db",
                         f"file://{tmp_path}/srv-data/chunks")
        (tmp_path / "srv-data").mkdir(mode=0o700)
    else:
        request.applymarker(pytest.mark.postgres)
        request.applymarker(pytest.mark.s3)
        pg: Postgres = request.getfixturevalue("postgres_server")
        s3: S3Server = request.getfixturevalue("s3_env")
        proc = configure(tmp_path / "srv", pg.create_database(),
                         f"s3://{s3.create_bucket()}/apprentice?endpoint={s3.endpoint}", s3.env())
    proc.start()
    yield proc
    proc.stop()


def _every_stored_byte(proc: CollectorProcess, tmp_path: Path) -> Iterator[bytes]:
    if proc.database_url.startswith("sqlite"):
        for path in (tmp_path / "srv-data").rglob("*"):
            if path.is_file():
                yield path.read_bytes()
    else:
        url = proc.database_url.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(url) as conn:
            tables = [r[0] for r in conn.execute(
                "select tablename from pg_tables where schemaname = 'public'")]
            for table in tables:
                for row in conn.execute(f'select * from "{table}"'):
                    yield repr(row).encode()
    blobs = open_blob_store(proc.blob_url)
    for key in blobs.keys():  # noqa: SIM118 (a BlobStore method, not a dict)
        yield key.encode() + blobs.get(key, grant=raw_grant(key))


def test_record_enrol_upload_read_and_forget(collector: CollectorProcess, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    recorded = record(spool)
    device_dir = tmp_path / "device"
    device_dir.mkdir()
    identity = enroll(collector.url, collector.issue_token("alice"), device_dir)
    uploader = Uploader(identity)
    stats = SpoolUploader(spool, spool_key(spool), uploader).run_once()
    assert stats.new >= 1

    # (1) only ciphertext: the canary typed during recording is nowhere on the server side
    stored = list(_every_stored_byte(collector, tmp_path))
    assert stored and not any(CANARY.encode() in data for data in stored)

    # (2) the pipeline identity (master.key, which the collector never had) reads it back
    metadata = open_metadata(collector.database_url, migrate=False)
    blobs = open_blob_store(collector.blob_url)
    pipeline = PipelineKeyAccess(MetadataKeys(metadata), open_master_unwrapper(f"local://{collector.master_key}"))
    alice = metadata.chunk_ids(contributor_id="alice")
    sealed = [blobs.get(blob_key(cid), grant=raw_grant(cid)) for cid in alice]
    events = [e for s in sealed for e in payload_events(pipeline.open(s)[1])]
    assert sorted(events, key=lambda e: e.seq) == recorded

    # (3) forget-me: afterwards even a saved copy of the ciphertext cannot be opened
    assert uploader.forget_me()["chunks_deleted"] == len(sealed)
    for copy in sealed:
        with pytest.raises(DecryptionError):
            pipeline.open(copy)
    assert list(blobs.keys()) == [] and metadata.count_chunks() == 0
    uploader.close()
    metadata.close()


def test_kill_9_during_uploads_stores_every_chunk_exactly_once(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir(mode=0o700)
    proc = configure(tmp_path / "srv", f"sqlite:///{tmp_path}/data/c.db", f"file://{tmp_path}/data/chunks")
    proc.start()
    device_dir = tmp_path / "device"
    device_dir.mkdir()
    identity = enroll(proc.url, proc.issue_token("alice"), device_dir)
    chunks = []
    for i in range(60):
        header = ChunkHeader("alice", identity.device_id, identity.key_id, f"s:{i}")
        chunks.append(seal_chunk(bytes([i % 251]) * 200_000, identity.contributor_public_key, header))
    halfway = threading.Event()
    errors: list[BaseException] = []

    def stream() -> None:
        up = Uploader(identity, max_attempts=40, base_delay=0.05, max_delay=0.5)
        try:
            for i, sealed in enumerate(chunks):
                up.put_chunk(chunk_id(sealed), sealed)
                if i == 20:
                    halfway.set()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            up.close()

    worker = threading.Thread(target=stream)
    worker.start()
    assert halfway.wait(60)
    proc.kill9()
    proc.start()  # same port, same data
    worker.join(120)
    assert not errors and not worker.is_alive()
    metadata = open_metadata(proc.database_url, migrate=False)
    blobs = open_blob_store(proc.blob_url)
    assert sorted(metadata.chunk_ids()) == sorted(chunk_id(s) for s in chunks)
    assert sorted(blobs.keys()) == sorted(blob_key(chunk_id(s)) for s in chunks)
    for sealed in chunks:
        assert blobs.get(blob_key(chunk_id(sealed)), grant=raw_grant(chunk_id(sealed))) == sealed
    metadata.close()
    proc.stop()


def test_several_worker_processes_store_everything_and_refuse_replays(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir(mode=0o700)
    proc = configure(tmp_path / "srv", f"sqlite:///{tmp_path}/data/c.db", f"file://{tmp_path}/data/chunks")
    proc.args = ("--workers", "2")
    proc.start()
    try:
        identities = []
        for name in ("alice", "bob"):
            (tmp_path / name).mkdir()
            identities.append(enroll(proc.url, proc.issue_token(name), tmp_path / name))
        sent: list[bytes] = []

        def upload(identity: DeviceIdentity) -> None:
            up = Uploader(identity)
            try:
                for i in range(15):
                    header = ChunkHeader(identity.contributor_id, identity.device_id, identity.key_id,
                                         f"w:{i}")
                    sealed = seal_chunk(bytes([i]) * 50_000, identity.contributor_public_key, header)
                    up.put_chunk(chunk_id(sealed), sealed)
                    sent.append(sealed)
            finally:
                up.close()

        threads = [threading.Thread(target=upload, args=(i,)) for i in identities]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        metadata = open_metadata(proc.database_url, migrate=False)
        assert sorted(metadata.chunk_ids()) == sorted(chunk_id(s) for s in sent) and len(sent) == 30
        metadata.close()

        # one signed request, sent again and again over fresh connections (whichever worker
        # takes each one): stored once, every copy after the first refused as a replay
        identity = identities[0]
        header = ChunkHeader(identity.contributor_id, identity.device_id, identity.key_id, "w:replay")
        sealed = seal_chunk(b"once", identity.contributor_public_key, header)
        request = httpx.Request("PUT", f"{proc.url}/api/v1/chunks/{chunk_id(sealed)}", content=sealed)
        signed = next(DeviceSigner(identity).auth_flow(request))
        statuses = []
        for _ in range(6):
            with httpx.Client(timeout=30) as client:
                statuses.append(client.send(signed).status_code)
        assert statuses[0] == 201 and statuses[1:] == [401] * 5
    finally:
        proc.stop()


def test_a_stalled_upload_is_dropped_and_frees_its_slot(tmp_path: Path) -> None:
    """A client sends half a chunk and stops (a dead link, or a slowloris): after
    upload_idle_timeout_s the real server answers 408 and closes the connection, and the one
    upload slot is free again for the next device. A raw socket, because HTTP clients do not
    stall on purpose."""
    (tmp_path / "data").mkdir(mode=0o700)
    proc = configure(tmp_path / "srv", f"sqlite:///{tmp_path}/data/c.db", f"file://{tmp_path}/data/chunks",
                     max_inflight_uploads=1, upload_queue_s=0, upload_idle_timeout_s=1.0)
    proc.start()
    try:
        (tmp_path / "dev").mkdir()
        identity = enroll(proc.url, proc.issue_token("alice"), tmp_path / "dev")
        header = ChunkHeader(identity.contributor_id, identity.device_id, identity.key_id, "stall:1")
        sealed = seal_chunk(b"x" * 200_000, identity.contributor_public_key, header)
        path = f"/api/v1/chunks/{chunk_id(sealed)}"
        signed = next(DeviceSigner(identity).auth_flow(httpx.Request("PUT", proc.url + path, content=sealed)))
        head = [f"PUT {path} HTTP/1.1", f"Host: {signed.url.netloc.decode()}",
                f"Content-Length: {len(sealed)}", "Content-Type: application/octet-stream"]
        head += [f"{k}: {v}" for k, v in signed.headers.items() if k.lower().startswith("x-apprentice-")]
        port = int(proc.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=15) as raw:
            raw.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + sealed[: len(sealed) // 2])
            started = time.monotonic()
            reply = b""
            while chunk := raw.recv(65536):  # until the server closes the connection
                reply += chunk
            waited = time.monotonic() - started
        assert reply.startswith(b"HTTP/1.1 408") and b"body_timeout" in reply, reply[:200]
        assert 0.9 <= waited < 10
        up = Uploader(identity)
        try:
            assert up.put_chunk(chunk_id(sealed), sealed)  # the slot was given back: stored
        finally:
            up.close()
    finally:
        proc.stop()
