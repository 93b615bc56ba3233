"""The misconfiguration drill (issue #6): a real collector holding uploaded data has its whole
data folder made world-readable; it must refuse to start, naming the folder, and even reading
every byte under that folder yields none of the recorded plaintext.

(The drill's second half, a wildcard authorisation grant, joins this test once the
authorisation policy exists; see docs/exposure-guard.md.)
"""

from __future__ import annotations

import shutil
import ssl
import struct
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from apprentice.authz.loader import POLICY_FOLDER
from apprentice.client import SpoolUploader, Uploader, enroll
from apprentice.keys.unwrap import PipelineKeyAccess, open_master_unwrapper
from apprentice.server.retention import blob_key
from apprentice.server.storage.blobs import open_blob_store
from apprentice.server.storage.metadata import open_metadata
from tests.integration.collector_proc import configure
from tests.unit.client.test_agent import CANARY, record, spool_key
from tests.unit.server.collector import MetadataKeys, raw_grant

pytestmark = pytest.mark.e2e


def _records(payload: bytes) -> list[bytes]:
    """The spool records in a chunk payload: "APPAYLD1" ‖ meta_len ‖ meta ‖ (len ‖ record)*."""
    assert payload[:8] == b"APPAYLD1"
    at = 12 + struct.unpack(">I", payload[8:12])[0]
    records = []
    while at < len(payload):
        (size,) = struct.unpack(">I", payload[at:at + 4])
        records.append(payload[at + 4:at + 4 + size])
        at += 4 + size
    return records


def test_world_readable_data_folder_refuses_start_and_exposes_no_plaintext(tmp_path: Path) -> None:
    data = tmp_path / "srv-data"
    data.mkdir(mode=0o700)
    proc = configure(tmp_path / "srv", f"sqlite:///{data}/collector.db", f"file://{data}/chunks")
    proc.start()  # a private deployment passes the guard
    spool = tmp_path / "spool"
    record(spool)
    (tmp_path / "device").mkdir()
    identity = enroll(proc.url, proc.issue_token("alice"), tmp_path / "device")
    uploader = Uploader(identity)
    assert SpoolUploader(spool, spool_key(spool), uploader).run_once().new >= 1
    uploader.close()
    proc.stop()

    # The canary is typed key by key and the records are compressed, so its string alone would
    # not show a plaintext leak; every decrypted spool record (its first 32 bytes) is a needle too.
    metadata = open_metadata(proc.database_url, migrate=False)
    pipeline = PipelineKeyAccess(MetadataKeys(metadata), open_master_unwrapper(f"local://{proc.master_key}"))
    blobs = open_blob_store(proc.blob_url)
    needles = [CANARY.encode()]
    for cid in metadata.chunk_ids():
        sealed = blobs.get(blob_key(cid), grant=raw_grant(cid))
        needles += [record[:32] for record in _records(pipeline.open(sealed)[1])]
    metadata.close()
    assert len(needles) > 2 and all(len(n) == 32 for n in needles[1:])

    # The drill: the whole data folder world-readable, and a policy that permits anyone anything.
    subprocess.run(["chmod", "-R", "o+r", str(data)], check=True)
    policies = tmp_path / "policies"
    shutil.copytree(POLICY_FOLDER, policies)
    (policies / "oops.cedar").write_text("permit (principal, action, resource);\n")
    with proc.config.open("a") as config:
        config.write(f'authz_policy_dir = "{policies}"\n')
    done = subprocess.run([sys.executable, "-m", "apprentice", "server", "--config", str(proc.config)],
                          env=proc.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    refusals = [line for line in done.stderr.splitlines() if line.startswith("refusing to start: ")]
    assert any(line.startswith(f"refusing to start: blob folder {data}/chunks is accessible to other users")
               and f"fix: chmod -R go-rwx {data}/chunks" in line for line in refusals), done.stderr
    assert any(line.startswith(f"refusing to start: database folder {data} is accessible to other users")
               for line in refusals), done.stderr
    assert any(line.startswith(f"refusing to start: authorisation policy ({policies})")
               and "oops.cedar" in line for line in refusals), done.stderr

    files = [path for path in data.rglob("*") if path.is_file()]
    assert any(path.suffix == ".blob" for path in files)
    assert any(path.name == "collector.db" for path in files)
    for path in files:
        content = path.read_bytes()
        for needle in needles:
            assert needle not in content, f"{needle!r} in plaintext in {path}"


def test_collector_serves_https_when_tls_is_configured(tmp_path: Path) -> None:
    """tls_cert_file/tls_key_file reach uvicorn: the health check answers over HTTPS only."""
    tls = tmp_path / "tls"
    tls.mkdir(mode=0o700)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(tls / "key.pem"), "-out", str(tls / "cert.pem"), "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    (tls / "key.pem").chmod(0o600)
    (tmp_path / "data").mkdir(mode=0o700)
    proc = configure(tmp_path / "srv", f"sqlite:///{tmp_path}/data/c.db", f"file://{tmp_path}/data/chunks",
                     tls_cert_file=str(tls / "cert.pem"), tls_key_file=str(tls / "key.pem"))
    server = subprocess.Popen([sys.executable, "-m", "apprentice", "server", "--config", str(proc.config)],
                              env=proc.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    https = proc.url.replace("http://", "https://") + "/api/v1/health"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, "collector exited"
            try:
                reply = httpx.get(https, verify=ssl.create_default_context(cafile=str(tls / "cert.pem")))
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "no HTTPS answer"
                time.sleep(0.05)
        assert reply.status_code == 200
        with pytest.raises(httpx.TransportError):  # plain HTTP is not served
            httpx.get(proc.url + "/api/v1/health")
    finally:
        server.terminate()
        server.wait(10)
