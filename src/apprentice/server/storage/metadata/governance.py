"""Reading and writing the governance tables (docs/governance.md): DPIA records, policy
versions, consent history, exemption requests, device commands and reports, deletion records.

Like ``repository.py``: every method is one short transaction, uniqueness is the database's
job, and times are passed in (UTC), never read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from apprentice.server.storage.metadata import tables as t


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class DpiaRow:
    id: str
    title: str
    summary: str
    status: str  # draft | approved | withdrawn
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    withdrawn_at: datetime | None


@dataclass(frozen=True, slots=True)
class PolicyVersionRow:
    version: int
    yaml: str
    sha256: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConsentEventRow:
    seq: int
    contributor_id: str
    accepted: bool
    notice_version: int | None
    notice_sha256: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ExemptionRow:
    id: str
    contributor_id: str
    reason: str | None
    status: str  # pending | approved | denied
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class CommandRow:
    seq: int
    contributor_id: str
    kind: str  # pause | resume
    until: datetime | None
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class DeviceReportRow:
    device_id: str
    contributor_id: str
    state: str
    paused_until: datetime | None
    gap_reason: str | None
    agent_version: str | None
    last_upload_at: datetime | None
    spool_bytes: int | None
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class DeletionRow:
    seq: int
    contributor_id: str
    received_from: datetime | None
    received_to: datetime | None
    requested_at: datetime
    chunks_deleted: int


class GovernanceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- DPIA ---------------------------------------------------------------------------
    def add_dpia(self, row: DpiaRow) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(t.dpias).values(**_fields(row)))

    def dpia(self, dpia_id: str) -> DpiaRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.dpias).where(t.dpias.c.id == dpia_id)).first()
        return None if row is None else _dpia(row)

    def dpias(self) -> list[DpiaRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.dpias).order_by(t.dpias.c.created_at, t.dpias.c.id))
            return [_dpia(r) for r in rows]

    def set_dpia_status(self, dpia_id: str, from_status: tuple[str, ...], status: str, *,
                        by: str | None = None, at: datetime) -> bool:
        """Move a DPIA from one of ``from_status`` to ``status``; False if it was not in one
        (a compare-and-set, so two officers cannot both approve or resurrect one)."""
        values: dict[str, object] = {"status": status}
        if status == "approved":
            values.update(approved_by=by, approved_at=at)
        elif status == "withdrawn":
            values.update(withdrawn_at=at)
        with self.engine.begin() as conn:
            result = conn.execute(update(t.dpias).where(
                t.dpias.c.id == dpia_id, t.dpias.c.status.in_(from_status)).values(**values))
        return result.rowcount == 1

    def has_approved_dpia(self) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.dpias.c.id).where(t.dpias.c.status == "approved").limit(1)).first()
        return row is not None

    # -- policy versions ----------------------------------------------------------------
    def current_policy(self) -> PolicyVersionRow | None:
        p = t.capture_policies
        with self.engine.connect() as conn:
            row = conn.execute(select(p).order_by(p.c.version.desc()).limit(1)).first()
        return None if row is None else PolicyVersionRow(row.version, row.yaml, row.sha256, row.created_by,
                                                         _utc(row.created_at))  # type: ignore[arg-type]

    def policy_version(self, version: int) -> PolicyVersionRow | None:
        p = t.capture_policies
        with self.engine.connect() as conn:
            row = conn.execute(select(p).where(p.c.version == version)).first()
        return None if row is None else PolicyVersionRow(row.version, row.yaml, row.sha256, row.created_by,
                                                         _utc(row.created_at))  # type: ignore[arg-type]

    def policy_versions(self) -> list[PolicyVersionRow]:
        p = t.capture_policies
        with self.engine.connect() as conn:
            return [PolicyVersionRow(r.version, "", r.sha256, r.created_by, _utc(r.created_at))  # type: ignore[arg-type]
                    for r in conn.execute(select(p.c.version, p.c.sha256, p.c.created_by, p.c.created_at)
                                          .order_by(p.c.version))]

    def add_policy_version(self, yaml_text: str, sha256: str, by: str, at: datetime) -> int | None:
        """Store the next version; None if another writer took that number first (retry)."""
        p = t.capture_policies
        try:
            with self.engine.begin() as conn:
                last = conn.execute(select(func.max(p.c.version))).scalar()
                version = int(last or 0) + 1
                conn.execute(insert(p).values(version=version, yaml=yaml_text, sha256=sha256, created_by=by,
                                              created_at=at))
        except IntegrityError:
            return None
        return version

    # -- consent ------------------------------------------------------------------------
    def add_consent_event(self, contributor_id: str, accepted: bool, notice_version: int | None,
                          notice_sha256: str | None, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(t.consent_events).values(
                contributor_id=contributor_id, accepted=accepted, notice_version=notice_version,
                notice_sha256=notice_sha256, at=at))

    def consent_history(self, contributor_id: str) -> list[ConsentEventRow]:
        c = t.consent_events.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.consent_events).where(c.contributor_id == contributor_id)
                                .order_by(c.seq))
            return [ConsentEventRow(r.seq, r.contributor_id, bool(r.accepted), r.notice_version,
                                    r.notice_sha256,
                                    _utc(r.at)) for r in rows]  # type: ignore[arg-type]

    def current_consent(self, contributor_id: str) -> ConsentEventRow | None:
        c = t.consent_events.c
        with self.engine.connect() as conn:
            r = conn.execute(select(t.consent_events).where(c.contributor_id == contributor_id)
                             .order_by(c.seq.desc()).limit(1)).first()
        if r is None:
            return None
        return ConsentEventRow(r.seq, r.contributor_id, bool(r.accepted), r.notice_version,
                                                      r.notice_sha256, _utc(r.at))  # type: ignore[arg-type]

    # -- exemptions ---------------------------------------------------------------------
    def add_exemption_request(self, row: ExemptionRow) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(t.exemption_requests).values(**_fields(row)))

    def exemption_request(self, request_id: str) -> ExemptionRow | None:
        e = t.exemption_requests
        with self.engine.connect() as conn:
            row = conn.execute(select(e).where(e.c.id == request_id)).first()
        return None if row is None else _exemption(row)

    def exemption_requests(self, *, contributor_id: str | None = None, status: str | None = None
                           ) -> list[ExemptionRow]:
        e = t.exemption_requests
        query = select(e).order_by(e.c.requested_at, e.c.id)
        if contributor_id is not None:
            query = query.where(e.c.contributor_id == contributor_id)
        if status is not None:
            query = query.where(e.c.status == status)
        with self.engine.connect() as conn:
            return [_exemption(r) for r in conn.execute(query)]

    def decide_exemption(self, request_id: str, status: str, by: str, at: datetime) -> bool:
        """pending -> approved/denied; False if it was no longer pending."""
        e = t.exemption_requests
        with self.engine.begin() as conn:
            result = conn.execute(update(e).where(e.c.id == request_id, e.c.status == "pending")
                                  .values(status=status, decided_by=by, decided_at=at))
        return result.rowcount == 1

    def is_exempt(self, contributor_id: str) -> bool:
        e = t.exemption_requests.c
        with self.engine.connect() as conn:
            row = conn.execute(select(e.id).where(e.contributor_id == contributor_id, e.status == "approved")
                               .limit(1)).first()
        return row is not None

    # -- device commands and reports ------------------------------------------------------
    def add_command(self, contributor_id: str, kind: str, until: datetime | None, at: datetime) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(insert(t.device_commands).values(
                contributor_id=contributor_id, kind=kind, until=until, issued_at=at))
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def commands_after(self, contributor_id: str, after: int, issued_since: datetime) -> list[CommandRow]:
        c = t.device_commands.c
        query = (select(t.device_commands).where(c.contributor_id == contributor_id, c.seq > after,
                                                 c.issued_at >= issued_since).order_by(c.seq).limit(100))
        with self.engine.connect() as conn:
            return [CommandRow(r.seq, r.contributor_id, r.kind, _utc(r.until), _utc(r.issued_at))  # type: ignore[arg-type]
                    for r in conn.execute(query)]

    def last_command_seq(self, contributor_id: str) -> int:
        c = t.device_commands.c
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(c.seq), 0))
                                    .where(c.contributor_id == contributor_id)).scalar_one())

    def put_device_report(self, row: DeviceReportRow) -> None:
        """Insert or replace the device's latest report (one row per device)."""
        values = _fields(row)
        with self.engine.begin() as conn:
            dialect = conn.dialect.name
            if dialect in ("sqlite", "postgresql"):
                builder = sqlite_insert if dialect == "sqlite" else pg_insert
                stmt = builder(t.device_reports).values(**values)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[t.device_reports.c.device_id],
                    set_={k: v for k, v in values.items() if k != "device_id"})
                conn.execute(stmt)
            else:  # pragma: no cover - only SQLite and PostgreSQL are supported
                raise RuntimeError(f"unsupported database {dialect}")

    def device_reports(self, contributor_id: str) -> list[DeviceReportRow]:
        d = t.device_reports
        with self.engine.connect() as conn:
            rows = conn.execute(select(d).where(d.c.contributor_id == contributor_id).order_by(d.c.device_id))
            return [DeviceReportRow(r.device_id, r.contributor_id, r.state, _utc(r.paused_until),
                                    r.gap_reason,
                                    r.agent_version, _utc(r.last_upload_at), r.spool_bytes,
                                    _utc(r.reported_at)) for r in rows]  # type: ignore[arg-type]

    # -- deletions ----------------------------------------------------------------------
    def add_deletion(self, contributor_id: str, received_from: datetime | None, received_to: datetime | None,
                     at: datetime, chunk_ids: list[str]) -> DeletionRow:
        with self.engine.begin() as conn:
            result = conn.execute(insert(t.deletions).values(
                contributor_id=contributor_id, received_from=received_from, received_to=received_to,
                requested_at=at, chunks_deleted=len(chunk_ids)))
            seq = int(result.inserted_primary_key[0])  # type: ignore[index]
            if chunk_ids:
                conn.execute(insert(t.deleted_chunks),
                             [{"deletion_seq": seq, "chunk_id": c} for c in chunk_ids])
        return DeletionRow(seq, contributor_id, received_from, received_to, at, len(chunk_ids))

    def deletions_after(self, after: int, limit: int, *, contributor_id: str | None = None
                        ) -> list[tuple[DeletionRow, list[str]]]:
        d = t.deletions
        query = select(d).where(d.c.seq > after).order_by(d.c.seq).limit(limit)
        if contributor_id is not None:
            query = query.where(d.c.contributor_id == contributor_id)
        out = []
        with self.engine.connect() as conn:
            for r in conn.execute(query).all():
                dc = t.deleted_chunks.c
                ids = list(conn.execute(select(dc.chunk_id).where(dc.deletion_seq == r.seq)
                                        .order_by(dc.chunk_id)).scalars())
                out.append((DeletionRow(r.seq, r.contributor_id, _utc(r.received_from), _utc(r.received_to),
                                        _utc(r.requested_at), r.chunks_deleted), ids))  # type: ignore[arg-type]
        return out


def _fields(row: object) -> dict[str, object]:
    return {name: getattr(row, name) for name in row.__slots__}  # type: ignore[attr-defined]


def _dpia(r: object) -> DpiaRow:
    m = r._mapping  # type: ignore[attr-defined]
    return DpiaRow(m["id"], m["title"], m["summary"], m["status"], m["created_by"], _utc(m["created_at"]),  # type: ignore[arg-type]
                   m["approved_by"], _utc(m["approved_at"]), _utc(m["withdrawn_at"]))


def _exemption(r: object) -> ExemptionRow:
    m = r._mapping  # type: ignore[attr-defined]
    return ExemptionRow(m["id"], m["contributor_id"], m["reason"], m["status"], _utc(m["requested_at"]),  # type: ignore[arg-type]
                        m["decided_by"], _utc(m["decided_at"]))
