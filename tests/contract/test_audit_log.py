"""The audit log against every store (memory, SQLite, real PostgreSQL): appends from many
threads, append-only enforcement in SQL, and every kind of tampering caught by the verifier.
How each attack is carried out: see tests/contract/audit_support.py.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from apprentice.audit import AuditLog, Checkpoint, CheckpointSigner, verify_log
from apprentice.audit.merkle import verify_consistency, verify_inclusion
from apprentice.server.storage.metadata import SqlAuditStore, open_metadata
from tests.contract.audit_support import AT, KEY, SIGNER, Harness, fill, open_harness
from tests.contract.services import Postgres


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    return open_harness(request, tmp_path, request.param)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    return open_harness(request, tmp_path, request.param)


def _verify(h: Harness, *checkpoints: Checkpoint):  # type: ignore[no-untyped-def]
    return verify_log(h.log.store, KEY, checkpoints)


def test_appends_from_many_threads_get_dense_indexes_and_round_trip(harness: Harness) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            fill(harness.log, 25, start=n * 1000)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    entries = harness.log.entries()
    assert [e.index for e in entries] == list(range(150)) and harness.log.size() == 150
    assert len({e.resource for e in entries}) == 150
    assert entries[0].at == AT and entries[0].subject == "alice"  # the time survives the database exactly
    report = _verify(harness)
    assert report.ok and report.root == harness.log.root()


def test_proofs_and_checkpoints_from_the_store(harness: Harness) -> None:
    fill(harness.log, 40)
    cp = harness.log.checkpoint(SIGNER)
    fill(harness.log, 33, start=40)
    root = harness.log.root()
    leaf = harness.log.entries(17, 18)[0].leaf_hash()
    assert verify_inclusion(leaf, 17, 73, harness.log.inclusion_proof(17, 73), root)
    assert verify_consistency(40, 73, cp.root, root, harness.log.consistency_proof(40))
    assert [e.index for e in harness.log.entries_about("bob")] == list(range(1, 73, 3))
    report = _verify(harness, cp)
    assert report.ok and report.checkpoints_ok == [cp]


def test_an_edited_entry_is_found_and_located(harness: Harness) -> None:
    fill(harness.log, 30)
    cp = harness.log.checkpoint(SIGNER)
    harness.edit(12)
    report = _verify(harness, cp)
    assert {"edited", "root_mismatch"} <= report.codes() and report.first_bad_index == 12


def test_an_edit_with_rewritten_hashes_is_caught_by_the_checkpoint(harness: Harness) -> None:
    fill(harness.log, 30)
    early = harness.log.checkpoint(SIGNER)
    fill(harness.log, 10, start=30)
    late = harness.log.checkpoint(SIGNER)
    harness.edit(33, keep_leaf=False)
    assert _verify(harness).ok  # without a checkpoint a careful attacker is invisible …
    report = _verify(harness, early, late)
    assert report.codes() == {"root_mismatch"}  # … with one, not
    assert report.checkpoints_ok == [early]
    assert "entries 30–39" in report.problems[0].message and report.first_bad_index == 30


def test_a_dropped_entry_is_found(harness: Harness) -> None:
    fill(harness.log, 20)
    cp = harness.log.checkpoint(SIGNER)
    harness.drop(7)
    report = _verify(harness, cp)
    assert "missing" in report.codes() and report.first_bad_index == 7
    assert "entry 7 is missing" in report.problems[0].message


def test_reordered_entries_are_found(harness: Harness) -> None:
    fill(harness.log, 20)
    cp = harness.log.checkpoint(SIGNER)
    harness.swap(4, 9)
    report = _verify(harness, cp)
    assert {"edited", "root_mismatch"} <= report.codes()
    assert {p.index for p in report.problems if p.code == "edited"} == {4, 9}


def test_a_truncated_log_is_found_with_and_without_a_checkpoint(harness: Harness) -> None:
    fill(harness.log, 20)
    cp = harness.log.checkpoint(SIGNER)
    if harness.db is not None:
        harness.truncate(15, fix_counter=False)
        assert "truncated" in _verify(harness).codes()  # the head counter remembers 20
    harness.truncate(15, fix_counter=True)
    report = _verify(harness, cp)
    assert "truncated" in report.codes() and report.first_bad_index == 15
    assert "covers 20 entries but the log now has only 15" in " ".join(p.message for p in report.problems)


def test_a_forked_checkpoint_is_found(harness: Harness) -> None:
    fill(harness.log, 10)
    honest = harness.log.checkpoint(SIGNER)
    # The signer is made to sign a different history of the same size.
    forked = replace(honest, root=b"\x42" * 32, signatures=()).signed(SIGNER)
    report = _verify(harness, honest, forked)
    assert "fork" in report.codes() and "root_mismatch" in report.codes()
    assert report.checkpoints_ok == [honest]


def test_a_checkpoint_signed_by_another_key_is_refused(harness: Harness) -> None:
    fill(harness.log, 5)
    other = harness.log.checkpoint(CheckpointSigner(b"\x22" * 32))
    report = _verify(harness, other)
    assert report.codes() == {"signature"} and "not signed by the audit key" in report.problems[0].message


def test_a_checkpoint_of_another_log_is_refused(harness: Harness) -> None:
    fill(harness.log, 5)
    cp = harness.log.checkpoint(SIGNER)
    foreign = replace(cp, origin="apprentice.audit/0000000000000000", signatures=()).signed(SIGNER)
    assert _verify(harness, foreign).codes() == {"other_log"}


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET actor = 'x' WHERE idx = 1",
    "DELETE FROM audit_entries WHERE idx = 1",
    "UPDATE audit_head SET size = 0",
    "DELETE FROM audit_head",
])
def test_the_database_refuses_to_change_or_delete_audit_rows(sql_harness: Harness, statement: str) -> None:
    harness = sql_harness
    assert harness.db is not None
    fill(harness.log, 3)
    with pytest.raises(DBAPIError, match="audit"), harness.db.engine.begin() as conn:
        conn.execute(text(statement))
    assert _verify(harness).ok and harness.log.size() == 3


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql(postgres_server: Postgres) -> None:
    db = open_metadata(postgres_server.create_database())
    try:
        fill(AuditLog(SqlAuditStore(db.engine)), 3)
        for table in ("audit_entries", "audit_head"):
            with pytest.raises(DBAPIError, match="TRUNCATE refused"), db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {table}"))
    finally:
        db.close()


def test_two_replicas_share_one_dense_log(sql_harness: Harness) -> None:
    """Two AuditLog objects on one database stand for two collector replicas."""
    harness = sql_harness
    assert harness.db is not None
    other = AuditLog(SqlAuditStore(harness.db.engine))
    barrier = threading.Barrier(2)

    def run(log: AuditLog, base: int) -> None:
        barrier.wait()
        fill(log, 40, start=base)

    pairs = ((harness.log, 0), (other, 10_000))
    threads = [threading.Thread(target=run, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e.index for e in other.entries()] == list(range(80))
    assert other.root() == harness.log.root()  # each replica's tree caught up with the other's appends


