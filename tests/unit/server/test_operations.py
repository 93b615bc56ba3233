"""Health, metrics, OpenAPI, settings and logs: what operators see — and what they never see."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from apprentice.crypto import ChunkHeader, chunk_id, seal_chunk
from apprentice.errors import ConfigError
from apprentice.server import load_settings
from apprentice.server.logs import JsonFormatter
from tests.unit.server.collector import Collector, add_account


def test_health_reports_the_database(collector: Collector) -> None:
    reply = collector.http.get("/api/v1/health")
    assert reply.status_code == 200 and reply.json() == {"status": "ok", "database": "ok"}


def test_metrics_count_uploads_without_ids(collector: Collector, tmp_path: Path) -> None:
    identity = collector.enrol(tmp_path / "a")
    sealed = seal_chunk(b"x", identity.contributor_public_key,
                        ChunkHeader("alice", identity.device_id, identity.key_id, "o:1"))
    collector.uploader(identity).put_chunk(chunk_id(sealed), sealed)
    assert collector.http.get("/metrics").status_code == 401  # operators only
    operator = {**add_account(collector.metadata, "operator"), "X-Apprentice-Purpose": "operations"}
    text = collector.http.get("/metrics", headers=operator).text
    assert 'apprentice_chunks_total{outcome="stored"} 1.0' in text
    assert "apprentice_uploads_queued 0.0" in text
    assert "alice" not in text and identity.device_id not in text


def test_openapi_document_is_versioned(collector: Collector) -> None:
    doc = collector.http.get("/openapi.json").json()
    assert all(p.startswith("/api/v1/") or p == "/metrics" for p in doc["paths"])


def test_access_log_lines_carry_no_content_or_ids(collector: Collector, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="apprentice")
    identity = collector.enrol(tmp_path / "a")
    sealed = seal_chunk(b"canary-secret", identity.contributor_public_key,
                        ChunkHeader("alice", identity.device_id, identity.key_id, "o:1"))
    collector.uploader(identity).put_chunk(chunk_id(sealed), sealed)
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    assert any('"route":"/api/v1/chunks/{chunk_id}"' in line for line in lines)
    for line in lines:
        json.loads(line)
        assert "canary" not in line and identity.device_id not in line and "alice" not in line
        assert chunk_id(sealed) not in line


def test_settings_come_from_a_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "collector.toml"
    path.write_text('[server]\nmaster_key_url = "local:///k/master.pub"\nport = 9000\n')
    settings = load_settings(path, {"APPRENTICE_SERVER_PORT": "9100"})
    assert settings.port == 9100 and settings.master_key_url == "local:///k/master.pub"


@pytest.mark.parametrize("text,needle", [
    ("[server\n", "not valid TOML"),
    ('[server]\nmaster_key_url = "x"\nbogus = 1\n', "bogus"),
    ('[server]\nmaster_key_url = "x"\nport = 0\n', "port"),
    ("[server]\n", "master_key_url"),
    ('[other]\nx = 1\n', "unknown sections"),
])
def test_bad_settings_stop_the_server_with_the_key_named(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "collector.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        load_settings(path, {})


def test_unknown_routes_are_json_404(collector: Collector) -> None:
    reply = collector.http.get("/api/v1/nothing")
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"
