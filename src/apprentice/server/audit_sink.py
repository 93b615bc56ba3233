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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from apprentice.audit.entry import AuditRecord


class AuditSink(Protocol):
    def record(self, *, actor: str, role: str, action: str, resource: str, subject: str | None,
               purpose: str, decision: str, at: datetime) -> None: ...


@dataclass
class DeferredRecord:
    """An allow decision's audit entry, to commit in the same transaction as the write it
    allowed (an upload's nonce and chunk row, ``AuditLog.record_in``): ``op`` appends it on
    that transaction; whoever runs it sets ``written`` once the transaction has committed.
    If the request fails before that, :meth:`flush` records it through the sink instead, so
    every decision still leaves exactly one entry before the response is sent."""

    op: Callable[[Any], None]
    fields: dict[str, Any] = field(repr=False)
    written: bool = False

    def flush(self, sink: AuditSink) -> None:
        if not self.written:
            sink.record(**self.fields)
            self.written = True


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
        # The log's own record type: the memory sink enforces the same field limits (no room
        # for content) as the tamper-evident log.
        entry = AuditRecord(at=at, actor=actor, role=role, action=action, resource=resource,
                            subject=subject, purpose=purpose, decision=decision)
        with self._lock:
            self._records.append(entry)
