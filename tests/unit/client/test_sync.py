"""Device sync against the in-process collector: what the collector says lands in the
device-state files the recorder's gate reads, and only what changed is rewritten."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from apprentice.capture.device_state import DeviceState
from apprentice.client import DeviceSync, Uploader
from apprentice.policy import load_notice, load_policy
from tests.unit.server.collector import ADMIN
from tests.unit.server.governance_world import POLICY, World, make_world


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = make_world(tmp_path / "devices")
    yield world
    world.close()


def _syncer(w: World, state: DeviceState, who: str = "alice") -> DeviceSync:
    up = Uploader(w.devices[who], client=w.http, clock=w.clock.timestamp, sleep=lambda _s: None)
    return DeviceSync(up, state, clock=w.clock)


def test_sync_writes_the_capture_switch_policy_consent_exemption_and_pause(w: World, tmp_path: Path) -> None:
    state = DeviceState(tmp_path / "state")
    sync = _syncer(w, state)
    first = sync.run_once({"state": "not_running"})
    assert first.capture_enabled is False and first.reason == "dpia_pending"
    assert state.organisation().capture_disabled == "dpia_pending"
    assert not state.policy_path.exists() and state.consent.load() is None

    w.approve_dpia()
    w.publish_policy()
    notice = load_notice()
    w.http.post("/api/v1/me/consent", headers=w.me("alice"),
                json={"accept": True, "notice_version": notice.version, "notice_sha256": notice.sha256})
    second = sync.run_once({"state": "not_running"})
    assert set(second.changed) == {"policy.yaml", "consent.json", "organisation.json"}
    assert state.policy_path.read_text() == POLICY and load_policy(state.policy_path).pause_cap_minutes == 20
    assert state.consent.consent_version(notice) == notice.version
    assert state.organisation().capture_disabled is None
    assert sync.run_once({"state": "recording"}).changed == []  # nothing rewritten when nothing changed

    w.http.post("/api/v1/me/pause", headers=w.me("alice"), json={"minutes": 10})
    assert sync.run_once({"state": "recording"}).changed == ["pause.json"]
    assert state.paused_until() == w.clock.now + timedelta(minutes=10)
    w.http.post("/api/v1/me/resume", headers=w.me("alice"))
    sync.run_once({"state": "paused"})
    assert state.paused_until() is None

    w.http.post("/api/v1/me/consent", headers=w.me("alice"), json={"accept": False})
    assert "consent.json" in sync.run_once({"state": "recording"}).changed
    assert state.consent.load() is None

    request = w.http.post("/api/v1/me/exemption-requests", headers=w.me("alice"), json={}).json()
    w.http.post(f"/api/v1/exemption-requests/{request['id']}/approve", headers=ADMIN)
    exempt = sync.run_once({"state": "stopped"})
    assert exempt.exempt is True and state.organisation().exempt is True
    assert json.loads(state.organisation_path.read_text())["exempt"] is True


def test_a_policy_this_agent_cannot_load_is_not_written(w: World, tmp_path: Path) -> None:
    state = DeviceState(tmp_path / "state")
    sync = _syncer(w, state)
    answer = {"capture_enabled": True, "reason": None, "exempt": False, "commands": [],
              "consent": {"state": "none"}, "policy": {"version": 9, "sha256": "0" * 64,
                                                       "yaml": "version: 2\nallow: {}\n"}}
    assert "policy.yaml" not in sync.apply(answer).changed and not state.policy_path.exists()


def test_a_damaged_organisation_file_disables_capture(tmp_path: Path) -> None:
    state = DeviceState(tmp_path)
    assert state.organisation().capture_disabled is None  # never synced: a standalone device
    state.organisation_path.write_text("{not json")
    assert state.organisation().capture_disabled == "capture_disabled"
