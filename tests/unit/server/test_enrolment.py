"""Enrolment and the admin API: one-time expiring tokens, device keys, admin credential."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from apprentice.client import enroll, load_identity
from apprentice.errors import ConfigError, UploadRejected
from apprentice.server.accounts import token_sha256
from tests.unit.server.collector import ADMIN, ADMIN_TOKEN, Collector


def test_enrolment_creates_a_private_device_key_and_identity(collector: Collector, tmp_path: Path) -> None:
    identity = collector.enrol(tmp_path / "dev")
    assert stat.S_IMODE((tmp_path / "dev" / "device.key").stat().st_mode) == 0o600
    assert load_identity(tmp_path / "dev").device_id == identity.device_id
    public = collector.keys.public_key("alice")
    assert public is not None and public[1] == identity.contributor_public_key


def test_a_token_works_once(collector: Collector, tmp_path: Path) -> None:
    token = collector.issue_token()
    enroll("http://testserver", token, tmp_path / "a", client=collector.http)
    with pytest.raises(UploadRejected) as err:
        enroll("http://testserver", token, tmp_path / "b", client=collector.http)
    assert err.value.status == 401 and "used or expired" in str(err.value)


def test_an_expired_token_is_refused(collector: Collector, tmp_path: Path) -> None:
    token = collector.issue_token(ttl_s=60)
    collector.clock.advance(61)
    with pytest.raises(UploadRejected) as err:
        enroll("http://testserver", token, tmp_path / "a", client=collector.http)
    assert err.value.status == 401


def test_enrolling_twice_in_one_folder_is_refused(collector: Collector, tmp_path: Path) -> None:
    collector.enrol(tmp_path / "a")
    with pytest.raises(ConfigError):
        collector.enrol(tmp_path / "a")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}])
def test_admin_api_needs_the_admin_credential(collector: Collector, headers: dict[str, str]) -> None:
    reply = collector.http.post("/api/v1/admin/enrolment-tokens", headers=headers,
                                json={"contributor_id": "alice"})
    assert reply.status_code == 401
    assert not collector.metadata.contributor_exists("alice")


@pytest.mark.parametrize("body", [
    {"contributor_id": "bad id"}, {"contributor_id": "a", "ttl_s": 5},
    {"contributor_id": "a", "extra": 1}, {},
])
def test_invalid_token_requests_are_422(collector: Collector, body: dict[str, object]) -> None:
    reply = collector.http.post("/api/v1/admin/enrolment-tokens", headers=ADMIN, json=body)
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "invalid_request"


def test_malformed_json_is_422_with_a_clear_message(collector: Collector) -> None:
    reply = collector.http.post("/api/v1/enrolments", content=b'{"token": ',
                                headers={"Content-Type": "application/json"})
    assert reply.status_code == 422
    assert reply.json()["error"] == {"code": "invalid_json", "message": "request body is not valid JSON"}


def test_validation_errors_do_not_echo_the_input(collector: Collector) -> None:
    body = {"token": "x", "device_public_key": "SECRET!" * 9}
    reply = collector.http.post("/api/v1/enrolments", json=body)
    assert reply.status_code == 422 and "SECRET" not in reply.text


def test_enrolment_with_a_bad_key_is_422(collector: Collector) -> None:
    token = collector.issue_token()
    reply = collector.http.post("/api/v1/enrolments", json={"token": token, "device_public_key": "AAAA"})
    assert reply.status_code == 422


def test_the_same_device_key_cannot_enrol_twice(collector: Collector, tmp_path: Path) -> None:
    identity = collector.enrol(tmp_path / "a")
    from apprentice.client.identity import b64
    from apprentice.crypto import signing_public_key

    reply = collector.http.post("/api/v1/enrolments", json={
        "token": collector.issue_token(), "device_public_key": b64(signing_public_key(identity.signing_seed)),
    })
    assert reply.status_code == 409


def test_a_disabled_or_unknown_account_token_is_refused(collector: Collector) -> None:
    c = collector
    account = c.metadata.account_by_token(token_sha256(ADMIN_TOKEN))
    assert account is not None and c.metadata.disable_account(account.id)
    for headers in (ADMIN, {**ADMIN, "Authorization": "Bearer apa_not-a-known-token"}):
        reply = c.http.post("/api/v1/admin/enrolment-tokens", headers=headers, json={"contributor_id": "a"})
        assert reply.status_code == 401 and "unknown or disabled" in reply.json()["error"]["message"]


def test_revoking_an_unknown_device_is_404(collector: Collector) -> None:
    reply = collector.http.post(f"/api/v1/admin/devices/dev-{'0' * 32}/revoke", headers=ADMIN)
    assert reply.status_code == 404
