"""The first quick-start command, ``apprentice up --demo``, end to end, and ``apprentice up`` itself.

The demo runs as a real subprocess: the embedded collector, portal, pipeline and agent in one
process, its own Xvfb, a scripted officer (API) and contributor (portal forms). The test then
checks what it left behind with tools a person would use: ``datasets`` loads the exported
dataset, ``apprentice audit verify`` checks the log against the demo's checkpoint, ``apprentice
audit about`` lists the pipeline's raw-chunk reads, and no canary is in any file (Parquet values
included) or in Tesseract's reading of any exported screenshot.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from apprentice.demo.scripted import CANARIES, exported_images, find_canaries, ocr_canaries, parquet_text

APPRENTICE = [sys.executable, "-m", "apprentice"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DISPLAY", None)  # the demo brings its own virtual display; `up` then does not record
    for name in ("CONFIG_DIR", "KEY_DIR", "DEVICE_DIR", "AUDIT_KEY"):
        env.pop(f"APPRENTICE_{name}", None)
    return env


@pytest.mark.display
def test_up_demo_builds_a_dataset_audits_every_read_and_keeps_no_canary(xserver: object,
                                                                         tmp_path: Path) -> None:
    data, keys = tmp_path / "data", tmp_path / "data-keys"
    done = subprocess.run([*APPRENTICE, "up", "--demo", "--data-dir", str(data)], env=_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    dataset = data / "datasets" / "demo" / "v1"
    assert str(dataset) in done.stdout and "audit verify" in done.stdout

    import datasets

    steps = datasets.load_dataset(str(dataset), "steps", split="train")
    episodes = datasets.load_dataset(str(dataset), "episodes", split="train")
    assert {"Draft the quarterly report", "Note a follow-up task"} <= set(episodes["instruction"])
    assert len(steps) >= 8
    assert {"click", "type", "double_click", "scroll", "hotkey"} <= set(steps["action_type"])
    assert any("<CREDIT_CARD>" in (t or "") for t in steps["text"])  # the card was typed, and redacted

    # No canary in any file under the data or key folders (Parquet decoded), nor in any image's OCR.
    assert find_canaries([data, keys]) == set()
    images = exported_images(dataset)
    assert images and ocr_canaries(images) == set()
    assert (dataset / "osworld").is_dir() or any(dataset.rglob("traj.jsonl"))  # the other formats too
    assert all(value not in done.stdout + done.stderr for value in CANARIES.values())

    # Pseudonymous: no contributor id, user name or host name in the exported files.
    contributor = json.loads((keys / "up.json").read_text())["contributor_id"]
    names = [contributor, getpass.getuser(), socket.gethostname()]
    for path in dataset.rglob("*"):
        if path.suffix in (".parquet", ".json", ".md"):
            text = parquet_text(path) if path.suffix == ".parquet" else path.read_text()
            found = [n for n in names if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text)]
            assert found == [], f"{path.name} names {found}"

    # The audit log verifies against the demo's checkpoint and holds the pipeline's raw reads.
    (checkpoint,) = (data / "audit-checkpoints").glob("*.txt")
    config = keys / "collector.toml"
    verify = subprocess.run([*APPRENTICE, "audit", "verify", "--config", str(config), "--checkpoint",
                             str(checkpoint)], env=_env(), capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    about = subprocess.run([*APPRENTICE, "audit", "about", contributor, "--config", str(config), "--json"],
                           env=_env(), capture_output=True, text=True, timeout=120, check=True)
    entries = [json.loads(line) for line in about.stdout.splitlines()]
    raw_reads = [e for e in entries if e["role"] == "Pipeline" and e["action"] == "read"
                 and e["resource"].startswith("RawChunk:") and e["decision"] == "allow"]
    assert raw_reads and all(e["purpose"] == "processing" for e in raw_reads)
    # the contributor's consent and pause in the portal, the device's sync and uploads: all about them
    assert {"consent", "control", "sync", "upload"} <= {e["action"] for e in entries}


def _start_up(data: Path, log: Path) -> tuple[subprocess.Popen[str], str, str]:
    with open(log, "w") as out:
        proc = subprocess.Popen([*APPRENTICE, "up", "--data-dir", str(data), "--port", "0"], env=_env(),
                                stdout=subprocess.PIPE, stderr=out, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Ctrl+C stops everything"):
            text = "".join(lines)
            (url,) = re.findall(r"portal (http://127\.0\.0\.1:\d+)/login", text)
            return proc, url, text
    proc.kill()
    proc.wait()
    proc.stdout.close()
    raise AssertionError("".join(lines) + log.read_text())


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(60) == 0
    finally:
        assert proc.stdout is not None
        proc.stdout.close()


def test_up_serves_the_portal_enrols_the_agent_and_waits_for_the_dpia(tmp_path: Path) -> None:
    data, keys = tmp_path / "data", tmp_path / "data-keys"
    proc, url, first = _start_up(data, tmp_path / "up1.log")
    try:
        assert "First start" in first and re.search(r"API token: apa_\S+", first)
        assert "approve the DPIA" in first and "login officer" in first
        assert httpx.get(url + "/login", timeout=10).status_code == 200
        device = json.loads((keys / "device" / "device.json").read_text())
        assert device["contributor_id"] == json.loads((keys / "up.json").read_text())["contributor_id"]
        organisation = keys / "organisation.json"
        deadline = time.monotonic() + 60
        while not organisation.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        state = json.loads(organisation.read_text())
        assert state["capture_enabled"] is False and state["reason"] == "dpia_pending"
        assert not (keys / "consent.json").exists()  # nobody consented for the contributor
        for folder in (data, keys, keys / "master", keys / "pipeline"):
            assert folder.stat().st_mode & 0o077 == 0, folder
        assert (keys / "pipeline" / "pipeline.token").stat().st_mode & 0o777 == 0o600
    finally:
        _stop(proc)
    proc, url, second = _start_up(data, tmp_path / "up2.log")
    try:
        assert "apa_" not in second and "First start" not in second and "password" not in second
        assert httpx.get(url + "/login", timeout=10).status_code == 200
    finally:
        _stop(proc)
    assert "Traceback" not in (tmp_path / "up1.log").read_text() + (tmp_path / "up2.log").read_text()
