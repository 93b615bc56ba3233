"""The governance workflow end to end: the real collector process, a real ``apprentice agent``
process syncing every half second (no recorder: its gate reads the files checked here), and
the privacy officer and the contributor acting through the HTTP API.

No DPIA -> the device state says capture is disabled (dpia_pending); DPIA approved, policy
published and consent accepted in the portal -> policy.yaml and consent.json on the device;
a pause from the portal -> pause.json; an approved exemption -> the device state is exempt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apprentice.client import enroll
from apprentice.policy import load_notice
from tests.integration.collector_proc import CollectorProcess, configure
from tests.unit.server.governance_world import POLICY

pytestmark = pytest.mark.e2e


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[CollectorProcess]:
    (tmp_path / "srv-data").mkdir(mode=0o700)
    proc = configure(tmp_path / "srv", f"sqlite:///{tmp_path}/srv-data/collector.db",
                     f"file://{tmp_path}/srv-data/chunks")
    for path in (tmp_path / "srv-data").iterdir():  # the account was created under the test's umask
        path.chmod(0o600)
    proc.start()
    yield proc
    proc.stop()


def _wait(what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


def test_the_agent_follows_dpia_consent_pause_and_exemption(collector: CollectorProcess,
                                                           tmp_path: Path) -> None:
    officer = {"Authorization": f"Bearer {collector.admin_token}", "X-Apprentice-Purpose": "governance"}
    contributor = {"Authorization": f"Bearer {collector.create_account('contributor', 'alice')}",
                   "X-Apprentice-Purpose": "self_service"}
    device_dir, state = tmp_path / "device", tmp_path / "state"
    device_dir.mkdir(mode=0o700)
    enroll(collector.url, collector.issue_token("alice"), device_dir)
    env = {**os.environ, "APPRENTICE_CONFIG_DIR": str(state), "APPRENTICE_DEVICE_DIR": str(device_dir),
           "APPRENTICE_KEY_DIR": str(tmp_path / "keys")}
    log = tmp_path / "agent.log"
    with open(log, "wb") as out:
        command = [sys.executable, "-m", "apprentice", "agent", "--spool", str(tmp_path / "spool"),
                   "--sync-interval", "0.5"]
        agent = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    http = httpx.Client(base_url=collector.url, timeout=10)
    try:
        organisation = state / "organisation.json"
        first = _wait("the first sync", lambda: _read(organisation))
        assert first["capture_enabled"] is False and first["reason"] == "dpia_pending"
        assert not (state / "policy.yaml").exists() and not (state / "consent.json").exists()

        dpia = http.post("/api/v1/dpias", headers=officer,
                         json={"title": "Agent data", "summary": "Assessed."})
        assert http.post(f"/api/v1/dpias/{dpia.json()['id']}/approve", headers=officer).status_code == 200
        put = http.put("/api/v1/policy", headers={**officer, "Content-Type": "application/yaml"},
                       content=POLICY.encode())
        assert put.status_code == 200, put.text
        notice = http.get("/api/v1/me/notice", headers=contributor).json()
        assert notice["sha256"] == load_notice().sha256
        accepted = http.post("/api/v1/me/consent", headers=contributor,
                             json={"accept": True, "notice_version": notice["version"],
                                   "notice_sha256": notice["sha256"]})
        assert accepted.status_code == 200, accepted.text
        consent = _wait("consent.json", lambda: _read(state / "consent.json"))
        assert consent["notice_sha256"] == notice["sha256"]
        assert (state / "policy.yaml").read_text() == POLICY
        assert _wait("capture enabled", lambda: (_read(organisation) or {}).get("capture_enabled"))

        paused = http.post("/api/v1/me/pause", headers=contributor, json={"minutes": 5})
        assert paused.status_code == 200
        pause = _wait("pause.json", lambda: _read(state / "pause.json"))
        assert pause["until"][:16] == paused.json()["until"][:16]

        request = http.post("/api/v1/me/exemption-requests", headers=contributor, json={"reason": "personal"})
        approved = http.post(f"/api/v1/exemption-requests/{request.json()['id']}/approve", headers=officer)
        assert approved.status_code == 200
        exempt = _wait("exemption", lambda: (_read(organisation) or {}).get("exempt"))
        assert exempt is True

        devices = http.get("/api/v1/me/devices", headers=contributor).json()["devices"]
        assert len(devices) == 1 and devices[0]["agent_version"]
        assert agent.poll() is None, log.read_text()[-2000:]
    finally:
        http.close()
        agent.terminate()
        agent.wait(20)
    assert "Traceback" not in log.read_text()
