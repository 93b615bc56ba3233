"""Where audit entries are kept: a small append-only protocol and the in-memory store.

A store assigns indexes (dense, 0-based, in commit order), keeps each entry with the leaf
hash computed when it was written, and has no way to update or delete one. The SQL store for
the collector's database is ``apprentice.server.storage.metadata.audit.SqlAuditStore``; it
lives beside the other SQL so SQLAlchemy keeps one home and the schema one migration chain.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from apprentice.audit.entry import AuditEntry, AuditRecord


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row as the store holds it. ``fields`` are untrusted until :meth:`entry` checks them."""

    index: int
    fields: dict[str, Any]
    leaf_hash: bytes

    def entry(self) -> AuditEntry:
        """The entry; ValueError if the stored fields are not a valid entry (tampering)."""
        return AuditEntry(self.index, **self.fields)


class AuditStore(Protocol):
    def log_id(self) -> str:
        """A random id fixed when the log was created (names the log in checkpoints)."""
        ...

    def append(self, records: Sequence[AuditRecord]) -> list[AuditEntry]:
        """Durably add ``records`` in order at the next free indexes; return them as entries."""
        ...

    def size(self) -> int:
        """How many entries are present (one past the highest index)."""
        ...

    def appended(self) -> int:
        """How many entries were ever appended (the store's own counter; a gap shows deletion)."""
        ...

    def leaf_hashes(self, start: int, stop: int) -> list[bytes]:
        """Stored leaf hashes of indexes ``start`` ≤ i < ``stop``, in order."""
        ...

    def rows(self, start: int = 0, stop: int | None = None) -> Iterator[StoredRow]:
        """Stored rows in index order (the verifier reads every one)."""
        ...

    def rows_about(self, subject: str) -> list[StoredRow]:
        """Rows whose subject is ``subject``, in index order."""
        ...


@dataclass
class MemoryAuditStore:
    """The store for tests and the embedded demo: a list behind a lock, gone at exit."""

    _log_id: str = field(default_factory=lambda: secrets.token_hex(8))
    _rows: list[StoredRow] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def log_id(self) -> str:
        return self._log_id

    def append(self, records: Sequence[AuditRecord]) -> list[AuditEntry]:
        with self._lock:
            first = len(self._rows)
            entries = [r.at_index(first + i) for i, r in enumerate(records)]
            for e in entries:
                fields = {k: getattr(e, k) for k in _FIELDS}
                self._rows.append(StoredRow(e.index, fields, e.leaf_hash()))
        return entries

    def size(self) -> int:
        with self._lock:
            return self._rows[-1].index + 1 if self._rows else 0

    def appended(self) -> int:
        return self.size()

    def leaf_hashes(self, start: int, stop: int) -> list[bytes]:
        with self._lock:
            return [r.leaf_hash for r in self._rows[start:stop]]

    def rows(self, start: int = 0, stop: int | None = None) -> Iterator[StoredRow]:
        with self._lock:
            snapshot = [r for r in self._rows if r.index >= start and (stop is None or r.index < stop)]
        return iter(snapshot)

    def rows_about(self, subject: str) -> list[StoredRow]:
        with self._lock:
            return [r for r in self._rows if r.fields.get("subject") == subject]


_FIELDS = ("at", "actor", "role", "action", "resource", "subject", "purpose", "decision")
