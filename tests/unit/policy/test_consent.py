"""The versioned notice and the local consent record."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime

import pytest

from apprentice.policy import ConsentError, ConsentStore, load_notice, parse_notice

NOW = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
NOTICE_V1 = parse_notice("<!-- apprentice-notice version: 1 -->\nWe record work apps.\n")
NOTICE_V2 = parse_notice("<!-- apprentice-notice version: 2 -->\nWe record work apps.\n")


def test_shipped_notice_has_a_version_and_text():
    notice = load_notice()
    assert notice.version >= 1
    assert "never recorded" in notice.text
    assert len(notice.sha256) == 64


def test_notice_without_version_line_is_refused():
    with pytest.raises(ConsentError, match="no version line"):
        parse_notice("# Notice\n")


def test_when_nothing_was_accepted_then_there_is_no_consent(tmp_path):
    store = ConsentStore(tmp_path / "consent.json")
    assert store.load() is None
    assert store.consent_version(NOTICE_V1) is None


def test_accept_then_withdraw(tmp_path):
    store = ConsentStore(tmp_path / "state" / "consent.json")
    record = store.accept(NOTICE_V1, NOW)
    assert record.notice_version == 1 and record.accepted_at == NOW
    assert store.load() == record
    assert store.consent_version(NOTICE_V1) == 1
    assert store.withdraw() is True
    assert store.consent_version(NOTICE_V1) is None
    assert store.withdraw() is False


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_record_is_private_to_the_user(tmp_path):
    store = ConsentStore(tmp_path / "consent.json")
    store.accept(NOTICE_V1, NOW)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["consent.json"]


def test_when_notice_version_changes_then_consent_is_needed_again(tmp_path):
    store = ConsentStore(tmp_path / "consent.json")
    store.accept(NOTICE_V1, NOW)
    assert store.consent_version(NOTICE_V2) is None


def test_when_notice_text_changes_without_new_version_then_consent_is_needed_again(tmp_path):
    store = ConsentStore(tmp_path / "consent.json")
    store.accept(NOTICE_V1, NOW)
    edited = parse_notice("<!-- apprentice-notice version: 1 -->\nWe record everything.\n")
    assert store.consent_version(edited) is None


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"{}",
        json.dumps({"notice_version": "x", "notice_sha256": "a", "accepted_at": "2024"}).encode(),
        json.dumps(
            {"notice_version": 1, "notice_sha256": "a", "accepted_at": "2024-01-15T12:00:00"}
        ).encode(),
        b"[1, 2]",
    ],
)
def test_when_record_is_damaged_then_error_and_no_consent(tmp_path, content):
    path = tmp_path / "consent.json"
    path.write_bytes(content)
    with pytest.raises(ConsentError, match="damaged"):
        ConsentStore(path).consent_version(NOTICE_V1)


def test_when_record_is_unreadable_then_error(tmp_path):
    with pytest.raises(ConsentError, match="cannot read"):
        ConsentStore(tmp_path).load()  # a directory, not a file


def test_consent_needs_an_aware_time(tmp_path):
    with pytest.raises(ValueError):
        ConsentStore(tmp_path / "c.json").accept(NOTICE_V1, datetime(2024, 1, 15))
