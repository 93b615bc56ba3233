"""Shared by the audit log tests: a log on each store, and the attacks of someone who owns the
database (for SQL the append-only triggers are dropped first, then rows are changed with plain
SQL; the memory store's rows are changed through its private list, there is no other way in)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from apprentice.audit import AuditLog, CheckpointSigner, MemoryAuditStore, StoredRow
from apprentice.server.storage.metadata import MetadataStore, SqlAuditStore, open_metadata
from tests.contract.services import Postgres

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SIGNER = CheckpointSigner(b"\x11" * 32)
KEY = SIGNER.verifier


@dataclass
class Harness:
    log: AuditLog
    kind: str
    db: MetadataStore | None

    def sql(self, statement: str, **params: object) -> None:
        """Run SQL as the database owner, after removing the append-only triggers."""
        assert self.db is not None
        with self.db.engine.begin() as conn:
            if self.kind == "sqlite":
                for name in ("audit_entries_no_update", "audit_entries_no_delete",
                             "audit_head_only_grows", "audit_head_no_delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
            else:
                conn.execute(text("DROP TRIGGER IF EXISTS audit_entries_no_change ON audit_entries"))
                conn.execute(text("DROP TRIGGER IF EXISTS audit_head_only_grows ON audit_head"))
            conn.execute(text(statement), params)

    def rows(self) -> list[StoredRow]:
        assert isinstance(self.log.store, MemoryAuditStore)
        return self.log.store._rows  # the only way into the memory store; see the module docstring

    # -- the attacks --------------------------------------------------------------------
    def edit(self, index: int, *, keep_leaf: bool = True) -> None:
        """Change who did it; optionally also rewrite the stored leaf hash to match."""
        if self.db is None:
            old = self.rows()[index]
            fields = {**old.fields, "actor": "account:acc-innocent"}
            new = replace(old, fields=fields)
            if not keep_leaf:
                new = replace(new, leaf_hash=new.entry().leaf_hash())
            self.rows()[index] = new
            return
        self.sql("UPDATE audit_entries SET actor = 'account:acc-innocent' WHERE idx = :i", i=index)
        if not keep_leaf:
            new = self.log.entries(index, index + 1)[0].leaf_hash()
            self.sql("UPDATE audit_entries SET leaf_hash = :h WHERE idx = :i", h=new, i=index)

    def drop(self, index: int) -> None:
        if self.db is None:
            del self.rows()[index]
        else:
            self.sql("DELETE FROM audit_entries WHERE idx = :i", i=index)

    def swap(self, a: int, b: int) -> None:
        """Exchange two entries' positions (their rows keep their stored leaf hashes)."""
        if self.db is None:
            rows = self.rows()
            ra, rb = rows[a], rows[b]
            rows[a], rows[b] = replace(rb, index=a), replace(ra, index=b)
        else:
            self.sql("UPDATE audit_entries SET idx = -1 WHERE idx = :a", a=a)
            self.sql("UPDATE audit_entries SET idx = :a WHERE idx = :b", a=a, b=b)
            self.sql("UPDATE audit_entries SET idx = :b WHERE idx = -1", b=b)

    def truncate(self, keep: int, *, fix_counter: bool) -> None:
        if self.db is None:
            del self.rows()[keep:]
            return
        self.sql("DELETE FROM audit_entries WHERE idx >= :k", k=keep)
        if fix_counter:
            self.sql("UPDATE audit_head SET size = :k", k=keep)


def open_harness(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> Harness:
    if kind == "memory":
        return Harness(AuditLog(MemoryAuditStore()), "memory", None)
    if kind == "sqlite":
        db = open_metadata(f"sqlite:///{tmp_path}/m.db")
    else:
        request.applymarker(pytest.mark.postgres)
        server: Postgres = request.getfixturevalue("postgres_server")
        db = open_metadata(server.create_database())
    request.addfinalizer(db.close)
    return Harness(AuditLog(SqlAuditStore(db.engine)), kind, db)


def fill(log: AuditLog, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        log.record(actor=f"account:acc-{i % 4}", role="Pipeline", action="read", resource=f"RawChunk:{i:05x}",
                   subject=("alice", "bob", None)[i % 3], purpose="processing",
                   decision="deny" if i % 5 == 0 else "allow", at=AT + timedelta(milliseconds=i))
