"""The metadata repository contract on SQLite and a real PostgreSQL (same migrations)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from apprentice.server.storage.metadata import (
    AccountRow,
    ChunkRow,
    ContributorKeyRow,
    MetadataStore,
    NonceClaim,
    TombstoneRow,
    open_metadata,
)
from apprentice.server.storage.metadata.tables import metadata as declared
from tests.contract.services import Postgres

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    if request.param == "sqlite":
        store = open_metadata(f"sqlite:///{tmp_path}/m.db")
    else:
        request.applymarker(pytest.mark.postgres)
        server: Postgres = request.getfixturevalue("postgres_server")
        store = open_metadata(server.create_database())
    yield store
    store.close()


def _seed(db: MetadataStore) -> None:
    db.add_contributor("alice", NOW)
    db.add_device("dev-1", "alice", b"k" * 32, NOW)


def test_migrations_create_exactly_the_declared_tables(db: MetadataStore) -> None:
    tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set(declared.tables)
    db.migrate()  # idempotent


def test_a_chunk_id_is_recorded_once(db: MetadataStore) -> None:
    _seed(db)
    row = ChunkRow("a" * 64, "alice", "dev-1", "kid", 10, NOW)
    assert db.add_chunk(row) is True and db.add_chunk(row) is False
    assert db.count_chunks() == 1 and db.chunk("a" * 64) == row


def test_a_token_is_consumed_once_and_not_after_expiry(db: MetadataStore) -> None:
    db.add_contributor("alice", NOW)
    db.add_token("h1", "alice", NOW + timedelta(minutes=5))
    db.add_token("h2", "alice", NOW + timedelta(minutes=5))
    assert db.consume_token("h1", NOW) == "alice"
    assert db.consume_token("h1", NOW) is None
    assert db.consume_token("h2", NOW + timedelta(minutes=6)) is None


def test_nonces_are_remembered_and_expire(db: MetadataStore) -> None:
    assert db.remember_nonce("dev-1", "n" * 32, NOW) is True
    assert db.remember_nonce("dev-1", "n" * 32, NOW) is False
    assert db.remember_nonce("dev-2", "n" * 32, NOW) is True
    assert db.forget_nonces(NOW + timedelta(seconds=1)) == 2


def test_key_destruction_and_tombstones(db: MetadataStore) -> None:
    _seed(db)
    db.add_contributor_key(ContributorKeyRow("alice", "kid", b"p" * 32, b"w" * 64), NOW)
    assert db.add_contributor_key(ContributorKeyRow("alice", "kid2", b"q" * 32, b"w" * 64), NOW) is False
    assert db.delete_contributor_key("alice") is True and db.contributor_key("alice") is None
    db.add_tombstone(TombstoneRow("alice", NOW, "contributor", 3))
    assert db.tombstone("alice") == TombstoneRow("alice", NOW, "contributor", 3)


def test_devices_are_revoked_by_id_or_contributor(db: MetadataStore) -> None:
    _seed(db)
    db.add_device("dev-2", "alice", b"j" * 32, NOW)
    assert db.add_device("dev-3", "alice", b"j" * 32, NOW) is False  # key reuse
    assert db.revoke_devices(NOW, device_id="dev-1") == 1
    assert db.revoke_devices(NOW, contributor_id="alice") == 1
    device = db.device("dev-2")
    assert device is not None and device.revoked
    with pytest.raises(ValueError):
        db.revoke_devices(NOW)


def test_chunks_are_listed_by_owner_and_age(db: MetadataStore) -> None:
    _seed(db)
    for i in range(3):
        db.add_chunk(ChunkRow(f"{i}" * 64, "alice", "dev-1", "kid", 1, NOW + timedelta(days=i)))
    assert db.chunk_ids(received_before=NOW + timedelta(days=1)) == ["0" * 64]
    assert db.chunk_ids(contributor_id="alice", limit=2) == ["0" * 64, "1" * 64]
    assert db.delete_chunks(["0" * 64, "1" * 64]) == 2 and db.delete_chunks([]) == 0


def test_accounts_are_found_by_token_hash_and_can_be_disabled(db: MetadataStore) -> None:
    row = AccountRow("acc-1", "pipeline", None, NOW, False)
    db.add_account(row, "f" * 64)
    assert db.account_by_token("f" * 64) == row and db.account_by_token("e" * 64) is None
    assert db.count_accounts("pipeline") == 1 and db.disable_account("acc-1")
    assert db.account_by_token("f" * 64).disabled and db.count_accounts("pipeline") == 0  # type: ignore[union-attr]


def test_chunks_are_numbered_in_receipt_order_and_numbers_are_never_reused(db: MetadataStore) -> None:
    _seed(db)
    for i in range(3):
        db.add_chunk(ChunkRow(f"{i}" * 64, "alice", "dev-1", "kid", 10, NOW + timedelta(seconds=i)))
    numbered = db.chunks_after(0, 10)
    assert [r.id for _, r in numbered] == ["0" * 64, "1" * 64, "2" * 64]
    last = numbered[-1][0]
    db.delete_chunks(["2" * 64])  # the newest
    db.add_chunk(ChunkRow("3" * 64, "alice", "dev-1", "kid", 10, NOW))
    assert [(s > last, r.id) for s, r in db.chunks_after(numbered[1][0], 10)] == [(True, "3" * 64)]
    assert db.activity("alice").chunks == 3 and db.activity("bob").chunks == 0


def test_an_upload_records_its_nonce_and_chunk_together(db: MetadataStore) -> None:
    _seed(db)
    row = ChunkRow("b" * 64, "alice", "dev-1", "kid", 10, NOW)
    first = NonceClaim("dev-1", "1" * 32, NOW)
    assert db.record_upload(row, first) == "created"
    assert db.record_upload(row, first) == "replayed"  # same nonce: refused, nothing changes
    assert db.record_upload(row, NonceClaim("dev-1", "2" * 32, NOW)) == "duplicate"
    assert db.count_chunks() == 1 and db.chunk("b" * 64) == row
    # a replayed nonce records no chunk either
    other = ChunkRow("c" * 64, "alice", "dev-1", "kid", 10, NOW)
    assert db.record_upload(other, first) == "replayed" and db.chunk("c" * 64) is None
    assert db.remember_nonce("dev-1", "2" * 32, NOW) is False


def _hold_writer(db: MetadataStore) -> tuple[threading.Event, threading.Thread]:
    """Keep the group-commit writer busy, so that what is submitted next queues into one batch."""
    gate, running = threading.Event(), threading.Event()

    def hold(_conn: object) -> bool:
        running.set()
        return gate.wait(30)

    blocker = threading.Thread(target=db.group_commit.run, args=(hold,))
    blocker.start()
    assert running.wait(30)
    return gate, blocker


def _wait_queued(db: MetadataStore, count: int) -> None:
    deadline = time.monotonic() + 30
    while db.group_commit.queued < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert db.group_commit.queued == count


def test_concurrent_uploads_share_one_commit(db: MetadataStore) -> None:
    _seed(db)
    gate, blocker = _hold_writer(db)
    rows = [ChunkRow(f"{i:064x}", "alice", "dev-1", "kid", 1, NOW) for i in range(20)]
    with ThreadPoolExecutor(21) as pool:
        uploads = [pool.submit(db.record_upload, r, NonceClaim("dev-1", f"{i:032x}", NOW))
                   for i, r in enumerate(rows)]
        replay = pool.submit(db.record_upload, rows[0], NonceClaim("dev-1", f"{0:032x}", NOW))
        _wait_queued(db, 21)
        commits = db.group_commit.commits
        gate.set()
        outcomes = [f.result(timeout=30) for f in uploads] + [replay.result(timeout=30)]
    blocker.join()
    assert db.group_commit.commits - commits == 2  # the blocker's, then all 21 in one
    # the two requests with nonce 0 were in the same transaction: exactly one of them counts
    assert sorted(outcomes).count("replayed") == 1 and outcomes.count("created") == 20
    assert db.count_chunks() == 20


def test_a_write_that_fails_in_a_shared_commit_fails_alone(db: MetadataStore) -> None:
    _seed(db)
    gate, blocker = _hold_writer(db)
    good = ChunkRow("d" * 64, "alice", "dev-1", "kid", 1, NOW)
    orphan = ChunkRow("e" * 64, "alice", "dev-unknown", "kid", 1, NOW)  # breaks a foreign key
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(db.record_upload, good, NonceClaim("dev-1", "3" * 32, NOW))
        bad = pool.submit(db.add_chunk, orphan)
        nonce = pool.submit(db.remember_nonce, "dev-1", "4" * 32, NOW)
        _wait_queued(db, 3)
        gate.set()
        assert first.result(timeout=30) == "created" and nonce.result(timeout=30) is True
        assert bad.result(timeout=30) is False
    blocker.join()
    assert db.chunk("d" * 64) == good and db.chunk("e" * 64) is None
