"""``HttpChunkSource`` against a tiny HTTP server of this test's own, written to INTERFACES.md
§2 — the collector's real pipeline endpoints are built in parallel (wp-authz); the lead adds
the test against them after merging. What is checked here is the client: headers, paging,
base64url keys, 404/410 meaning "gone", retries on 503/429, a refused token."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from apprentice.errors import SourceError
from apprentice.pipeline.service import HttpChunkSource

TOKEN = "apa_test-token"
CHUNKS = [
    {
        "chunk_id": f"{i:064x}",
        "contributor_id": "c-1",
        "device_id": "dev-1",
        "key_id": "k1",
        "size": 3,
        "received_at": "2026-03-01T09:00:00Z",
        "cursor": str(i),
    }
    for i in range(1, 6)
]


class _Api(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []
    flaky = {"count": 0}

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        self.seen.append(
            {
                "path": url.path,
                "auth": self.headers.get("Authorization"),
                "purpose": self.headers.get("X-Apprentice-Purpose"),
            }
        )
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, b'{"error": {"code": "unauthenticated", "message": "no"}}')
        if url.path == "/api/v1/pipeline/chunks":
            q = parse_qs(url.query)
            after, limit = int(q.get("after", ["0"])[0]), int(q["limit"][0])
            page = [c for c in CHUNKS if int(c["cursor"]) > after][:limit]
            more = page and page[-1] is not CHUNKS[-1]
            return self._send(
                200, json.dumps({"chunks": page, "next": page[-1]["cursor"] if more else None}).encode()
            )
        if url.path.startswith("/api/v1/pipeline/chunks/"):
            if self.flaky["count"] < 2:
                self.flaky["count"] += 1
                return self._send(503 if self.flaky["count"] == 1 else 429, b"{}", **{"Retry-After": "0"})
            if url.path.endswith("gone"):
                return self._send(404, b'{"error": {"code": "not_found", "message": "gone"}}')
            return self._send(200, b"\x00sealed", "application/octet-stream")
        if url.path == "/api/v1/pipeline/keys/c-1":
            wrapped = base64.urlsafe_b64encode(b"\xffwrapped-key").rstrip(b"=").decode()
            return self._send(
                200,
                json.dumps(
                    {"contributor_id": "c-1", "key_id": "k1", "wrapped_private_key": wrapped}
                ).encode(),
            )
        if url.path == "/api/v1/pipeline/keys/c-gone":
            return self._send(410, b'{"error": {"code": "forgotten", "message": "forgotten"}}')
        if url.path == "/api/v1/pipeline/tombstones":
            return self._send(200, b'{"tombstones": [{"contributor_id": "c-gone", "forgotten_at": "x"}]}')
        return self._send(404, b"{}")


@pytest.fixture
def server() -> Iterator[str]:
    _Api.seen.clear()
    _Api.flaky["count"] = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _source(url: str, tmp_path: Path, token: str = TOKEN) -> HttpChunkSource:
    token_file = tmp_path / "pipeline.token"
    token_file.write_text(token + "\n")
    return HttpChunkSource(url, token_file, sleep=lambda s: None, base_delay=0.01)


def test_pages_follow_the_cursor_with_token_and_purpose(server: str, tmp_path: Path) -> None:
    source = _source(server, tmp_path)
    cursor, seen = None, []
    while True:
        page = source.list_chunks(cursor, 2)
        seen += [c.chunk_id for c in page.chunks]
        cursor = page.chunks[-1].cursor
        if page.next is None:
            break
    assert seen == [c["chunk_id"] for c in CHUNKS]
    assert all(r["auth"] == f"Bearer {TOKEN}" and r["purpose"] == "processing" for r in _Api.seen)


def test_chunks_and_keys_with_retries_and_gone(server: str, tmp_path: Path) -> None:
    source = _source(server, tmp_path)
    assert source.fetch("a" * 64) == b"\x00sealed"  # after a 503 and a 429
    assert source.fetch("gone") is None
    key = source.wrapped_key("c-1")
    assert key is not None and key.wrapped_private_key == b"\xffwrapped-key" and key.key_id == "k1"
    assert source.wrapped_key("c-gone") is None
    assert [t.contributor_id for t in source.tombstones()] == ["c-gone"]


def test_a_refused_token_is_a_clear_error_without_the_token(server: str, tmp_path: Path) -> None:
    source = _source(server, tmp_path, token="apa_wrong")
    with pytest.raises(SourceError, match="401") as caught:
        source.list_chunks(None, 10)
    assert "apa_wrong" not in str(caught.value)


def test_an_unreachable_collector_is_retried_then_reported(tmp_path: Path) -> None:
    source = _source("http://127.0.0.1:9", tmp_path)
    source.max_attempts = 2
    with pytest.raises(SourceError, match="did not answer"):
        source.tombstones()


def test_the_source_pickles_without_its_token(server: str, tmp_path: Path) -> None:
    import pickle

    source = _source(server, tmp_path)
    source.list_chunks(None, 1)
    data = pickle.dumps(source)
    assert TOKEN.encode() not in data
    assert len(pickle.loads(data).list_chunks(None, 10).chunks) == 5
