"""The audit log as the portal shows it: "who accessed my data" and the officer's
verification status.

Works over the tamper-evident ``apprentice.audit.AuditLog`` (entries about a subject,
verified against the newest signed checkpoint) and, for tests and ``--demo`` where no Merkle
log is wired, over the in-memory ``MemoryAuditSink`` (status "not verifiable").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apprentice.audit import AuditLog, Checkpoint, VerifierKey, verify_log
from apprentice.server.audit_sink import AuditSink, MemoryAuditSink


@dataclass(frozen=True, slots=True)
class AuditStatus:
    state: str  # ok | problem | unverifiable
    entries: int
    detail: str
    checkpoint_size: int | None = None


class AccessHistory:
    def __init__(self, sink: AuditSink, verifier: VerifierKey | None = None,
                 checkpoints: Callable[[], Sequence[Checkpoint]] = tuple) -> None:
        self.sink = sink
        self.verifier = verifier
        self.checkpoints = checkpoints

    def about(self, subject: str, limit: int = 500) -> list[dict[str, Any]]:
        """Entries about ``subject``, newest first: when, who (account or device), as what
        role, what, for which purpose, and the decision."""
        if isinstance(self.sink, AuditLog):
            rows: list[Any] = list(self.sink.entries_about(subject))
        elif isinstance(self.sink, MemoryAuditSink):
            rows = [r for r in self.sink.records if r.subject == subject]
        else:
            rows = []
        out = [{"at": r.at.isoformat(), "actor": r.actor, "role": r.role, "action": r.action,
                "resource": r.resource, "purpose": r.purpose, "decision": r.decision} for r in rows]
        out.sort(key=lambda e: e["at"], reverse=True)
        return out[:limit]

    def status(self) -> AuditStatus:
        if not isinstance(self.sink, AuditLog):
            return AuditStatus("unverifiable", len(getattr(self.sink, "records", ())),
                               "the audit records are kept in memory, not in the Merkle log; "
                               "wire apprentice.audit.AuditLog to verify them")
        if self.verifier is None:
            return AuditStatus("unverifiable", self.sink.size(),
                               "no checkpoint verifier key is configured")
        checkpoints = list(self.checkpoints())
        report = verify_log(self.sink.store, self.verifier, checkpoints)
        newest = max((c.size for c in checkpoints), default=None)
        if report.ok:
            return AuditStatus("ok", self.sink.size(), f"verified against {len(checkpoints)} checkpoint(s)",
                               newest)
        first = report.first_bad_index
        where = f" (first bad entry {first})" if first is not None else ""
        return AuditStatus("problem", self.sink.size(),
                           f"verification failed: {', '.join(sorted(report.codes()))}{where}", newest)


def when(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")
