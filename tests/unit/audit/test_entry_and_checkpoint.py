"""Audit entries (canonical bytes, no room for content) and signed checkpoints (C2SP text)."""

from __future__ import annotations

import os
import stat
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from apprentice.audit import (
    AuditEntry,
    AuditLog,
    Checkpoint,
    CheckpointSigner,
    MemoryAuditStore,
    VerifierKey,
    create_signing_key,
    load_signer,
)
from apprentice.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from apprentice.errors import CheckpointError, KeyFileError

AT = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
SIGNER = CheckpointSigner(bytes(range(32)))


def _entry(**over: object) -> AuditEntry:
    fields: dict[str, object] = dict(index=7, at=AT, actor="account:acc-1f", role="Pipeline", action="read",
                                     resource="RawChunk:ab12", subject="alice", purpose="processing",
                                     decision="allow")
    fields.update(over)
    return AuditEntry(**fields)  # type: ignore[arg-type]


def _record(log: AuditLog, i: int, subject: str | None = "alice") -> None:
    log.record(actor=f"device:dev-{i % 3}", role="Device", action="upload", resource=f"RawChunk:{i:04x}",
               subject=subject, purpose="collection", decision="allow", at=AT + timedelta(seconds=i))


def test_canonical_bytes_are_sorted_compact_json_with_utc_microseconds() -> None:
    entry = _entry(at=AT.astimezone(timezone(timedelta(hours=2))))
    assert entry.canonical() == (
        b'{"action":"read","actor":"account:acc-1f","at":"2026-03-01T12:00:00.123456Z",'
        b'"decision":"allow","index":7,"purpose":"processing","resource":"RawChunk:ab12",'
        b'"role":"Pipeline","subject":"alice"}'
    )
    assert entry.leaf_hash() == leaf_hash(entry.canonical())
    assert _entry(subject=None).canonical().endswith(b'"subject":null}')
    assert _entry(index=8).leaf_hash() != entry.leaf_hash()  # the position is part of the leaf


@pytest.mark.parametrize("over", [
    {"decision": "maybe"},
    {"resource": "RawChunk:x\nkeystrokes: hunter2"},   # control characters: no free text
    {"resource": "x" * 201},                          # too long to carry content
    {"actor": ""},
    {"subject": "é"},
    {"at": datetime(2026, 3, 1)},                     # naive time
    {"index": -1},
])
def test_entries_refuse_fields_that_could_carry_content_or_ambiguity(over: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        _entry(**over)


def test_record_matches_the_audit_sink_protocol_and_is_safe_from_many_threads() -> None:
    log = AuditLog(MemoryAuditStore())
    threads = [threading.Thread(target=lambda n=n: [_record(log, n * 100 + i) for i in range(50)])
               for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = log.entries()
    assert [e.index for e in entries] == list(range(400))
    assert len({e.resource for e in entries}) == 400  # nothing lost, nothing doubled


def test_proofs_from_the_log_verify_against_its_root() -> None:
    log = AuditLog(MemoryAuditStore())
    for i in range(37):
        _record(log, i, subject="alice" if i % 3 == 0 else "bob")
    old_root = log.root(20)
    for i in range(37, 50):
        _record(log, i)
    root = log.root()
    for index in (0, 19, 36, 49):
        leaf = log.entries(index, index + 1)[0].leaf_hash()
        assert verify_inclusion(leaf, index, 50, log.inclusion_proof(index, 50), root)
    assert verify_consistency(20, 50, old_root, root, log.consistency_proof(20, 50))
    about_alice = [i for i in range(37) if i % 3 == 0] + list(range(37, 50))
    assert [e.index for e in log.entries_about("alice")] == about_alice
    with pytest.raises(ValueError):
        log.root(51)


def test_checkpoint_text_round_trips_and_verifies() -> None:
    log = AuditLog(MemoryAuditStore())
    for i in range(5):
        _record(log, i)
    cp = log.checkpoint(SIGNER, now=AT)
    text = cp.text()
    lines = text.split("\n")
    assert lines[0] == "apprentice.audit/" + log.store.log_id() and lines[1] == "5"
    assert lines[3] == "time 2026-03-01T12:00:00Z" and lines[4] == ""
    assert lines[5].startswith("— apprentice-audit ")
    again = Checkpoint.parse(text)
    assert again == cp and again.root == log.root()
    again.verify(SIGNER.verifier)
    assert VerifierKey.parse(str(SIGNER.verifier)) == SIGNER.verifier


def test_a_changed_or_foreign_checkpoint_is_refused() -> None:
    log = AuditLog(MemoryAuditStore())
    _record(log, 1)
    text = log.checkpoint(SIGNER, now=AT).text()
    forged = Checkpoint.parse(text.replace("\n1\n", "\n2\n", 1))
    with pytest.raises(CheckpointError, match="does not verify"):
        forged.verify(SIGNER.verifier)
    other = CheckpointSigner(b"\x07" * 32)
    with pytest.raises(CheckpointError, match="not signed by the audit key"):
        Checkpoint.parse(text).verify(other.verifier)
    same_name_other_key = VerifierKey(SIGNER.name, other.verifier.public_key)
    with pytest.raises(CheckpointError):
        Checkpoint.parse(text).verify(same_name_other_key)


@pytest.mark.parametrize("text, why", [
    ("", "newline"),
    ("apprentice.audit/x\n1\nAAAA\ntime 2026-03-01T12:00:00Z\n\n", "root hash"),
    ("other/x\n1\n" + "A" * 43 + "=\ntime 2026-03-01T12:00:00Z\n\n", "origin"),
    ("apprentice.audit/x\n01\n" + "A" * 43 + "=\ntime 2026-03-01T12:00:00Z\n\n", "tree size"),
    ("apprentice.audit/x\n1\n" + "A" * 43 + "=\nwhen?\n\n", "time"),
    ("apprentice.audit/x\n1\n" + "A" * 43 + "=\ntime 2026-03-01T12:00:00Z\n\n", "no signature"),
    ("apprentice.audit/x\n1\n" + "A" * 43 + "=\ntime 2026-03-01T12:00:00Z\n\n-- k QUJD\n", "em dash"),
])
def test_malformed_checkpoints_say_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(CheckpointError, match=why):
        Checkpoint.parse(text)


def test_signing_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "audit" / "audit-signing.key"
    signer = create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_signer(path).verifier == signer.verifier
    assert signer.seed.hex() not in repr(signer)
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        create_signing_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_signer(path)
    with pytest.raises(KeyFileError, match="apprentice audit init-key"):
        load_signer(tmp_path / "missing.key")
