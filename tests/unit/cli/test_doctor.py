"""``apprentice doctor`` and ``apprentice server`` refusing to start, as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from apprentice.keys import create_master_key

FAKE_ACCESS_KEY = "AKIA" + "GUARDTEST0000000"  # assembled so no scanner flags this file


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "apprentice", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=60)


def _config(tmp_path: Path, *extra: str) -> Path:
    """A collector config on loopback with private data and key folders; ``extra`` lines appended."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    pub = create_master_key(tmp_path / "master")
    config = tmp_path / "collector.toml"
    config.write_text("\n".join([
        "[server]", 'host = "127.0.0.1"', "port = 8750",
        f'database_url = "sqlite:///{data}/collector.db"', f'blob_url = "file://{data}/chunks"',
        f'master_key_url = "local://{pub}"', *extra]) + "\n")
    return config


def test_doctor_passes_a_private_loopback_collector(tmp_path: Path) -> None:
    done = _cli("doctor", "--config", str(_config(tmp_path)), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    statuses = {c["check"]: c["status"] for c in doc["targets"]["collector"]}
    assert doc["ok"] is True
    assert statuses["data_permissions"] == "pass" and statuses["bind_tls"] == "pass"
    assert statuses["debug"] == "pass" and statuses["config_secrets"] == "pass"
    assert statuses["bucket_policy"] == "skip"  # a file:// store has no bucket
    assert statuses["foreign_keys"] == "warn"  # master.key sits beside master.pub in this test


def test_doctor_table_names_each_refusal_and_exits_1(tmp_path: Path) -> None:
    config = _config(tmp_path, "debug = true")
    (tmp_path / "data").chmod(0o755)
    done = _cli("doctor", "--config", str(config))
    assert done.returncode == 1
    table = " ".join(done.stdout.split())  # Rich folds long cells; compare without line breaks
    assert "data_permissions │ refuse" in table and "debug │ refuse" in table
    assert "refused: fix the problems above" in table


def test_server_refuses_to_start_naming_every_problem(tmp_path: Path) -> None:
    config = _config(tmp_path, "debug = true", f"# previous key {FAKE_ACCESS_KEY}")
    config.write_text(config.read_text().replace('host = "127.0.0.1"', 'host = "0.0.0.0"'))
    (tmp_path / "data").chmod(0o755)
    done = _cli("server", "--config", str(config))
    assert done.returncode == 3, done.stderr
    refusals = [line for line in done.stderr.splitlines() if line.startswith("refusing to start: ")]
    data = tmp_path / "data"
    assert refusals == [
        f"refusing to start: database folder {data} is accessible to other users: 1 path is "
        f"group/world accessible, first {data} (mode 755) — fix: chmod go-rwx {data}",
        "refusing to start: collector binds to 0.0.0.0 (not loopback) without TLS — fix: set tls_cert_file "
        'and tls_key_file, or bind host = "127.0.0.1" behind a TLS proxy on this host',
        "refusing to start: collector has debug mode on (debug = true) — fix: remove debug from the config "
        "and unset APPRENTICE_SERVER_DEBUG",
        f"refusing to start: config file {config}: line 8 contains what looks like a secret (a key, token or "
        "password) — fix: remove it from the file and pass it through the environment or a secrets manager",
    ]
    assert FAKE_ACCESS_KEY not in done.stderr + done.stdout
    assert not (tmp_path / "data" / "collector.db").exists()  # refused before opening anything
