"""The governance workflow over HTTP (in-process app, SQLite memory stores, the real audit
log): DPIA gating capture, policy distribution, consent and exemptions through the API,
portal commands, device sync, and every refusal on the way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from apprentice.errors import UploadRejected
from apprentice.policy import load_notice
from tests.unit.server.collector import ADMIN
from tests.unit.server.governance_world import POLICY, World, make_world


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = make_world(tmp_path)
    yield world
    world.close()


def _changes(w: World, subject: str | None = None) -> list[str]:
    return [e.action for e in w.audit.entries() if e.action.startswith("changed:")
            and (subject is None or e.subject == subject)]


# -- DPIA -----------------------------------------------------------------------------------------

def test_capture_is_off_until_a_dpia_is_approved_and_a_policy_published(w: World) -> None:
    first = w.sync("alice").json()
    assert first["capture_enabled"] is False and first["reason"] == "dpia_pending" and first["policy"] is None
    made = w.http.post("/api/v1/dpias", headers=ADMIN, json={"title": "Agent data", "summary": "Risks: …"})
    assert made.status_code == 201 and made.json()["status"] == "draft"
    assert w.sync("alice").json()["reason"] == "dpia_pending"  # a draft enables nothing
    dpia = made.json()["id"]
    approved = w.http.post(f"/api/v1/dpias/{dpia}/approve", headers=ADMIN).json()
    assert approved["status"] == "approved" and approved["approved_by"].startswith("acc-")
    assert approved["approved_at"] is not None
    assert w.sync("alice").json()["reason"] == "no_policy"
    assert w.publish_policy().status_code == 200
    enabled = w.sync("alice").json()
    assert enabled["capture_enabled"] is True and enabled["reason"] is None
    assert enabled["policy"]["version"] == 1 and enabled["policy"]["yaml"] == POLICY
    status = w.http.get("/api/v1/governance/status", headers=ADMIN).json()
    assert status == {"capture_enabled": True, "reason": None, "policy_version": 1,
                      "notice_version": load_notice().version}
    withdrawn = w.http.post(f"/api/v1/dpias/{dpia}/withdraw", headers=ADMIN)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"] is not None
    assert w.sync("alice").json()["reason"] == "dpia_pending"
    assert _changes(w) == ["changed:dpia_created", "changed:dpia_approved", "changed:policy_published",
                           "changed:dpia_withdrawn"]


def test_dpia_refusals(w: World) -> None:
    dpia = w.approve_dpia()
    again = w.http.post(f"/api/v1/dpias/{dpia}/approve", headers=ADMIN)
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_draft"
    w.http.post(f"/api/v1/dpias/{dpia}/withdraw", headers=ADMIN)
    revived = w.http.post(f"/api/v1/dpias/{dpia}/approve", headers=ADMIN)
    assert revived.status_code == 409  # a withdrawn DPIA is not revived
    assert w.http.post(f"/api/v1/dpias/{dpia}/withdraw", headers=ADMIN).status_code == 409
    assert w.http.get("/api/v1/dpias/dpia-0000000000000000", headers=ADMIN).status_code == 404
    assert w.http.post("/api/v1/dpias", headers=ADMIN, json={"title": ""}).status_code == 422
    # A contributor cannot create or approve one; an officer must say why (purpose).
    denied = w.http.post("/api/v1/dpias", headers=w.me("alice"), json={"title": "x", "summary": "y"})
    assert denied.status_code == 403
    no_purpose = {"Authorization": ADMIN["Authorization"]}
    assert w.http.post(f"/api/v1/dpias/{dpia}/approve", headers=no_purpose).status_code == 403
    listed = w.http.get("/api/v1/dpias", headers=ADMIN).json()["dpias"]
    assert [d["status"] for d in listed] == ["withdrawn"]


# -- policy -------------------------------------------------------------------------------------------

def test_policy_is_validated_versioned_previewed_and_read_by_devices(w: World) -> None:
    bad = w.publish_policy("version: 1\nallow:\n  appz: []\n")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_policy"
    assert "policy.yaml:3" in bad.json()["error"]["message"] and "apps" in bad.json()["error"]["message"]
    assert w.http.get("/api/v1/policy", headers=ADMIN).json()["error"]["code"] == "no_policy"
    first = w.publish_policy().json()
    assert first["created"] is True and first["version"] == 1 and first["current_version"] is None
    same = w.publish_policy().json()
    assert same["created"] is False and same["version"] == 1 and same["diff"] == ""
    changed = POLICY.replace("pause_cap_minutes: 20", "pause_cap_minutes: 25")
    preview = w.http.put("/api/v1/policy?preview=true", content=changed.encode(), headers=ADMIN).json()
    assert preview["preview"] is True and preview["version"] is None and preview["current_version"] == 1
    assert "-pause_cap_minutes: 20\n+pause_cap_minutes: 25" in preview["diff"]
    assert w.http.get("/api/v1/policy", headers=ADMIN).json()["version"] == 1  # the preview stored nothing
    second = w.publish_policy(changed).json()
    assert second["version"] == 2 and second["created"] is True
    versions = w.http.get("/api/v1/policy/versions", headers=ADMIN).json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert w.http.get("/api/v1/policy/versions/1", headers=ADMIN).json()["yaml"] == POLICY
    device = w.http.get("/api/v1/policy", auth=w.signed("alice"))
    assert device.status_code == 200 and device.json()["yaml"] == changed
    # The device is told the YAML only when it does not hold this version already.
    sha = device.json()["sha256"]
    assert w.sync("alice", policy_sha256=sha).json()["policy"] == {"version": 2, "sha256": sha, "yaml": None}
    assert w.publish_policy("version: 1\n" + "#" * (1024 * 1024)).status_code == 413
    assert w.http.put("/api/v1/policy", content=POLICY.encode(), headers=w.me("alice")).status_code == 403


# -- consent ------------------------------------------------------------------------------------------

def test_consent_is_given_and_withdrawn_in_the_portal_and_reaches_the_device(w: World) -> None:
    notice = w.http.get("/api/v1/me/notice", headers=w.me("alice")).json()
    local = load_notice()
    assert (notice["version"], notice["sha256"], notice["text"]) == (local.version, local.sha256, local.text)
    assert notice["consent"]["state"] == "none"
    stale = w.http.post("/api/v1/me/consent", headers=w.me("alice"),
                        json={"accept": True, "notice_version": local.version, "notice_sha256": "0" * 64})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_notice"
    missing = w.http.post("/api/v1/me/consent", headers=w.me("alice"), json={"accept": True})
    assert missing.status_code == 422
    accepted = w.http.post("/api/v1/me/consent", headers=w.me("alice"),
                           json={"accept": True, "notice_version": local.version,
                                 "notice_sha256": local.sha256})
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    synced = w.sync("alice").json()["consent"]
    assert synced["state"] == "accepted" and synced["notice_sha256"] == local.sha256
    assert w.sync("bob").json()["consent"]["state"] == "none"  # bob's is his own
    w.clock.advance(60)
    assert w.http.post("/api/v1/me/consent", headers=w.me("alice"), json={"accept": False}).json()["state"] \
        == "withdrawn"
    assert w.sync("alice").json()["consent"]["state"] == "withdrawn"
    history = w.http.get("/api/v1/me/consent", headers=w.me("alice")).json()["history"]
    assert [h["accepted"] for h in history] == [True, False]
    assert _changes(w, "alice") == ["changed:consent_accepted", "changed:consent_withdrawn"]
    # Nobody consents for someone else: there is no route that names another contributor,
    # and an officer cannot use the contributor's route.
    assert w.http.post("/api/v1/me/consent", headers=ADMIN, json={"accept": False}).status_code == 403


# -- exemptions -----------------------------------------------------------------------------------------

def test_an_approved_exemption_stops_the_device_and_uploads(w: World) -> None:
    w.approve_dpia()
    w.publish_policy()
    w.upload("alice")
    made = w.http.post("/api/v1/me/exemption-requests", headers=w.me("alice"), json={"reason": "personal"})
    assert made.status_code == 201 and made.json()["status"] == "pending"
    twice = w.http.post("/api/v1/me/exemption-requests", headers=w.me("alice"), json={})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "request_pending"
    pending = w.http.get("/api/v1/exemption-requests?status=pending", headers=ADMIN).json()["requests"]
    assert [(r["id"], r["contributor_id"], r["reason"]) for r in pending] == [(made.json()["id"], "alice",
                                                                               "personal")]
    assert w.sync("alice").json()["exempt"] is False
    approved = w.http.post(f"/api/v1/exemption-requests/{made.json()['id']}/approve", headers=ADMIN)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    synced = w.sync("alice").json()
    assert synced["exempt"] is True and synced["capture_enabled"] is False and synced["reason"] == "exempt"
    with pytest.raises(UploadRejected) as refused:
        w.upload("alice")
    assert refused.value.status == 403 and "exempt" in str(refused.value)
    assert w.upload("bob")  # others are unaffected
    again = w.http.post(f"/api/v1/exemption-requests/{made.json()['id']}/deny", headers=ADMIN)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_decided"
    after = w.http.post("/api/v1/me/exemption-requests", headers=w.me("alice"), json={})
    assert after.json()["error"]["code"] == "already_exempt"
    decision = [e for e in w.audit.entries() if e.action == "approve" and e.subject is not None]
    assert [(e.resource, e.subject, e.decision) for e in decision] == [
        (f"ExemptionRequest:{made.json()['id']}", "alice", "allow")]
    assert "changed:exemption_approved" in _changes(w, "alice")


def test_exemption_requests_are_private_and_can_be_denied(w: World) -> None:
    made = w.http.post("/api/v1/me/exemption-requests", headers=w.me("bob"), json={}).json()
    assert w.http.get("/api/v1/me/exemption-requests", headers=w.me("alice")).json()["requests"] == []
    assert len(w.http.get("/api/v1/me/exemption-requests", headers=w.me("bob")).json()["requests"]) == 1
    # A contributor cannot decide requests, their own included.
    own = w.http.post(f"/api/v1/exemption-requests/{made['id']}/approve", headers=w.me("bob"))
    assert own.status_code == 403
    assert w.http.get("/api/v1/exemption-requests", headers=w.me("bob")).status_code == 403
    denied = w.http.post(f"/api/v1/exemption-requests/{made['id']}/deny", headers=ADMIN).json()
    assert denied["status"] == "denied" and w.sync("bob").json()["exempt"] is False
    unknown = w.http.post("/api/v1/exemption-requests/exr-0000000000000000/approve", headers=ADMIN)
    assert unknown.status_code == 404


# -- portal commands and device reports ---------------------------------------------------------------

def test_pause_and_resume_from_the_portal_reach_the_device_once(w: World) -> None:
    w.publish_policy()  # cap 20 minutes
    paused = w.http.post("/api/v1/me/pause", headers=w.me("alice"), json={"minutes": 45}).json()
    assert paused["clipped"] is True
    assert paused["until"].startswith((w.clock.now + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M"))
    first = w.sync("alice").json()  # first sync of an agent run: the pause in force
    assert [c["kind"] for c in first["commands"]] == ["pause"]
    cursor = first["commands_cursor"]
    assert w.sync("alice", commands_after=cursor).json()["commands"] == []  # delivered once
    assert w.sync("bob").json()["commands"] == []  # bob's devices are not paused
    w.http.post("/api/v1/me/resume", headers=w.me("alice"))
    then = w.sync("alice", commands_after=cursor).json()
    assert [c["kind"] for c in then["commands"]] == ["resume"] and then["commands_cursor"] > cursor
    assert w.sync("alice").json()["commands"] == []  # a fresh agent: the newest command is a resume
    w.http.post("/api/v1/me/pause", headers=w.me("alice"), json={"minutes": 5})
    w.clock.advance(6 * 60)
    assert w.sync("alice").json()["commands"] == []  # that pause has run out


def test_device_reports_are_validated_and_shown_only_to_their_contributor(w: World) -> None:
    bad = w.sync("alice", state="recording", gap_reason="Window: Secret Plans")
    assert bad.status_code == 422 and "Secret" not in bad.text
    assert w.sync("alice", state="dancing").status_code == 422
    assert w.sync("alice", state="paused", gap_reason="paused", agent_version="0.1.0", spool_bytes=1234,
                  last_upload_at="2026-03-01T08:59:00Z").status_code == 200
    mine = w.http.get("/api/v1/me/devices", headers=w.me("alice")).json()["devices"]
    assert [(d["device_id"], d["state"], d["spool_bytes"]) for d in mine] == [
        (w.devices["alice"].device_id, "paused", 1234)]
    assert w.http.get("/api/v1/me/devices", headers=w.me("bob")).json()["devices"] == []
    for headers in (ADMIN, {"Authorization": ADMIN["Authorization"], "X-Apprentice-Purpose": "self_service"}):
        assert w.http.get("/api/v1/me/devices", headers=headers).status_code == 403
    unsigned = w.http.post("/api/v1/device/sync", json={"state": "recording"})
    assert unsigned.status_code == 401
