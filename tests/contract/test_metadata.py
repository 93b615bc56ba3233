"""The metadata repository contract on SQLite and a real PostgreSQL (same migrations)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from apprentice.server.storage.metadata import (
    AccountRow,
    ChunkRow,
    ContributorKeyRow,
    MetadataStore,
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
