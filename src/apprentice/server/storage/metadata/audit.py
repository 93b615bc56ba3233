"""The audit log's store in the collector's database (``apprentice.audit.AuditStore``).

Index assignment across threads and collector replicas: the one ``audit_head`` row is the
lock. An append first runs ``UPDATE audit_head SET size = size + k`` and reads the new size
back in the same transaction; PostgreSQL holds that row lock until commit and SQLite holds
its single writer lock, so concurrent appenders queue behind each other, each gets the next
k indexes, and entry n is committed strictly after entry n-1. Readers therefore always see a
gap-free prefix — which a Merkle log needs and which a sequence or autoincrement column
cannot promise (their values are handed out before commit, and a rolled-back transaction
leaves a hole). The primary key on ``idx`` is the backstop: a duplicate index cannot exist.
The price is that appends are serialised; AuditLog's group commit writes every record that
queued meanwhile in one transaction, so a burst costs one round trip.

No update or delete method exists, and the migration's triggers refuse both in SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from apprentice.audit.entry import AuditEntry, AuditRecord
from apprentice.audit.store import StoredRow
from apprentice.errors import AuditError
from apprentice.server.storage.metadata import tables as t

_FIELDS = ("at", "actor", "role", "action", "resource", "subject", "purpose", "decision")
_SCAN_BATCH = 10_000


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SqlAuditStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._log_id: str | None = None

    def log_id(self) -> str:
        if self._log_id is None:
            with self.engine.connect() as conn:
                row = conn.execute(select(t.audit_head.c.log_id).where(t.audit_head.c.id == 1)).first()
            if row is None:
                raise AuditError("the audit log table is not set up; run the collector's migrations")
            self._log_id = str(row[0])
        return self._log_id

    def append(self, records: Sequence[AuditRecord]) -> list[AuditEntry]:
        if not records:
            return []
        with self.engine.begin() as conn:
            return self.append_in(conn, records)

    def append_in(self, conn: Connection, records: Sequence[AuditRecord]) -> list[AuditEntry]:
        """:meth:`append` inside the caller's transaction on this store's database: the entries
        commit (or roll back) with whatever else it writes (an upload's chunk row)."""
        if not records:
            return []
        head = t.audit_head
        # The write comes first: it takes the lock before anything is read (see above).
        done = conn.execute(update(head).where(head.c.id == 1).values(size=head.c.size + len(records)))
        if done.rowcount != 1:
            raise AuditError("the audit log table is not set up; run the collector's migrations")
        new_size = int(conn.execute(select(head.c.size).where(head.c.id == 1)).scalar_one())
        first = new_size - len(records)
        entries = [r.at_index(first + i) for i, r in enumerate(records)]
        conn.execute(insert(t.audit_entries), [
            {"idx": e.index, **{k: getattr(e, k) for k in _FIELDS}, "leaf_hash": e.leaf_hash()}
            for e in entries
        ])
        return entries

    def size(self) -> int:
        with self.engine.connect() as conn:
            top = conn.execute(select(func.max(t.audit_entries.c.idx))).scalar_one()
        return 0 if top is None else int(top) + 1

    def appended(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(t.audit_head.c.size).where(t.audit_head.c.id == 1)).scalar_one()
        return int(value)

    def leaf_hashes(self, start: int, stop: int) -> list[bytes]:
        c = t.audit_entries.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.leaf_hash).where(c.idx >= start, c.idx < stop).order_by(c.idx))
            return [bytes(r[0]) for r in rows]

    def rows(self, start: int = 0, stop: int | None = None) -> Iterator[StoredRow]:
        c = t.audit_entries.c
        after = start - 1
        while True:
            query = select(t.audit_entries).where(c.idx > after).order_by(c.idx).limit(_SCAN_BATCH)
            if stop is not None:
                query = query.where(c.idx < stop)
            with self.engine.connect() as conn:
                batch = [_row(r._mapping) for r in conn.execute(query)]
            yield from batch
            if len(batch) < _SCAN_BATCH:
                return
            after = batch[-1].index

    def rows_about(self, subject: str) -> list[StoredRow]:
        c = t.audit_entries.c
        with self.engine.connect() as conn:
            result = conn.execute(select(t.audit_entries).where(c.subject == subject).order_by(c.idx))
            return [_row(r._mapping) for r in result]


def _row(m: Any) -> StoredRow:
    fields = {k: m[k] for k in _FIELDS}
    fields["at"] = _utc(fields["at"])
    return StoredRow(int(m["idx"]), fields, bytes(m["leaf_hash"]))
