"""The command line end to end: `apprentice pipeline run --once` against a small HTTP server
of this test's own serving INTERFACES.md §2 from a MemoryChunkSource (the collector's real
endpoints come from wp-authz), then `pipeline status`, `dataset build --version`,
`dataset export --purpose model_training`."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from apprentice.pipeline.service import MemoryChunkSource
from tests.unit.pipeline.service.conftest import Recorded

ROOT = Path(__file__).resolve().parents[4]


def _serve(source: MemoryChunkSource, token: str) -> tuple[ThreadingHTTPServer, str]:
    class Api(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            if (
                self.headers.get("Authorization") != f"Bearer {token}"
                or self.headers.get("X-Apprentice-Purpose") != "processing"
            ):
                return self._send(403, b'{"error": {"code": "forbidden", "message": "no"}}')
            url = urlsplit(self.path)
            parts = url.path.split("/")
            if url.path == "/api/v1/pipeline/chunks":
                q = parse_qs(url.query)
                page = source.list_chunks(q.get("after", [None])[0], int(q["limit"][0]))
                chunks = [
                    {
                        "chunk_id": r.chunk_id,
                        "contributor_id": r.contributor_id,
                        "device_id": r.device_id,
                        "key_id": r.key_id,
                        "size": r.size,
                        "received_at": r.received_at,
                        "cursor": r.cursor,
                    }
                    for r in page.chunks
                ]
                return self._send(200, json.dumps({"chunks": chunks, "next": page.next}).encode())
            if url.path.startswith("/api/v1/pipeline/chunks/"):
                sealed = source.fetch(parts[-1])
                return (
                    self._send(404, b"{}")
                    if sealed is None
                    else self._send(200, sealed, "application/octet-stream")
                )
            if url.path.startswith("/api/v1/pipeline/keys/"):
                key = source.wrapped_key(parts[-1])
                if key is None:
                    return self._send(410, b'{"error": {"code": "forgotten", "message": "gone"}}')
                wrapped = base64.urlsafe_b64encode(key.wrapped_private_key).rstrip(b"=").decode()
                return self._send(
                    200,
                    json.dumps(
                        {
                            "contributor_id": key.contributor_id,
                            "key_id": key.key_id,
                            "wrapped_private_key": wrapped,
                        }
                    ).encode(),
                )
            if url.path == "/api/v1/pipeline/tombstones":
                items = [
                    {"contributor_id": t.contributor_id, "forgotten_at": t.forgotten_at}
                    for t in source.tombstones()
                ]
                return self._send(200, json.dumps({"tombstones": items}).encode())
            if url.path == "/api/v1/pipeline/deletions":
                q = parse_qs(url.query)
                entries = source.deletions(q.get("after", [None])[0])[: int(q["limit"][0])]
                items = [
                    {"deletion_id": d.deletion_id, "contributor_id": d.contributor_id,
                     "received_from": d.received_from, "received_to": d.received_to,
                     "requested_at": d.requested_at, "chunk_ids": list(d.chunk_ids), "cursor": d.cursor}
                    for d in entries
                ]
                nxt = items[-1]["cursor"] if len(items) == int(q["limit"][0]) else None
                return self._send(200, json.dumps({"deletions": items, "next": nxt}).encode())
            return self._send(404, b"{}")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture
def collector_url(recorded: Recorded) -> Iterator[str]:
    httpd, url = _serve(recorded.collector.source, "apa_pipeline")
    yield url
    httpd.shutdown()
    httpd.server_close()


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apprentice", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_pipeline_run_status_build_export(recorded: Recorded, collector_url: str) -> None:
    token = recorded.tmp / "pipeline.token"
    token.write_text("apa_pipeline\n")
    data, keys = recorded.tmp / "pipe", recorded.tmp / "pipe-keys"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    done = _cli(
        "pipeline",
        "run",
        "--once",
        "--collector",
        collector_url,
        "--token-file",
        str(token),
        "--master-key",
        recorded.collector.master_key_url,
        "--data-dir",
        str(data),
        "--key-dir",
        str(keys),
        "--executor",
        "inline",
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "built 2 episodes" in done.stderr and "apa_pipeline" not in done.stdout + done.stderr
    status = json.loads(_cli("pipeline", "status", "--data-dir", str(data), "--json", env=env).stdout)
    assert status["chunks"] == {"staged": len(recorded.collector.source.chunks)} and status["episodes"] == 2
    built = _cli(
        "dataset",
        "build",
        "--version",
        "cli",
        "--data-dir",
        str(data),
        "--key-dir",
        str(keys),
        "--min-steps",
        "1",
        env=env,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    refused = _cli(
        "dataset",
        "export",
        "--version",
        "cli@1",
        "--data-dir",
        str(data),
        "--key-dir",
        str(keys),
        "--out",
        str(recorded.tmp / "x"),
        "--purpose",
        "governance",
        env=env,
    )
    assert refused.returncode != 0 and "model_training" in refused.stderr
    out = recorded.tmp / "cli-export"
    exported = _cli(
        "dataset",
        "export",
        "--version",
        "cli@1",
        "--data-dir",
        str(data),
        "--key-dir",
        str(keys),
        "--out",
        str(out),
        "--purpose",
        "model_training",
        "--format",
        "parquet,osworld,agentnet,computer13,wds",
        env=env,
    )
    assert exported.returncode == 0, exported.stderr[-2000:]
    summary = json.loads((out / "dataset.json").read_text())
    assert summary["episodes"] == 2
    assert sorted(summary["formats"]) == ["agentnet", "computer13", "osworld", "parquet", "wds"]
    assert (out / "agentnet" / "trajectories.jsonl").is_file() and list((out / "wds").glob("*.tar"))
    # the local-spool build still works as before, and needs its arguments
    legacy = _cli("dataset", "build", "--out", str(recorded.tmp / "y"), env=env)
    assert legacy.returncode != 0 and "--from" in legacy.stderr
