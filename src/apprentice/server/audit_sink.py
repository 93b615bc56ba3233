"""Where authorisation decisions go: every allow and every deny the collector makes is one
``record(...)`` call (INTERFACES §3). The tamper-evident log (``apprentice.audit.AuditLog``)
implements this protocol; :class:`MemoryAuditSink` keeps records in a list for tests.

A record names who (``actor``: "device:dev-…", "account:acc-…" or "anonymous"), as what
(``role``: the principal type), did what to which resource, about whom (``subject``: the
contributor the resource belongs to), for which purpose, and the decision. Never content.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class AuditSink(Protocol):
    def record(self, *, actor: str, role: str, action: str, resource: str, subject: str | None,
               purpose: str, decision: str, at: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class AuditRecord:
    actor: str
    role: str
    action: str
    resource: str
    subject: str | None
    purpose: str
    decision: str
    at: datetime


class MemoryAuditSink:
    """Keeps records in memory, in order (tests and ``--demo``); with ``maxlen``, only the
    newest ``maxlen`` (so a long-running process does not grow without bound)."""

    def __init__(self, maxlen: int | None = None) -> None:
        self._records: deque[AuditRecord] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    @property
    def records(self) -> list[AuditRecord]:
        with self._lock:
            return list(self._records)

    def record(self, *, actor: str, role: str, action: str, resource: str, subject: str | None,
               purpose: str, decision: str, at: datetime) -> None:
        entry = AuditRecord(actor, role, action, resource, subject, purpose, decision, at)
        with self._lock:
            self._records.append(entry)
