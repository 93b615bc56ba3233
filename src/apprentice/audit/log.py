"""The audit log: record access decisions and writes, prove what was recorded, sign checkpoints.

``AuditLog.record`` has exactly the signature of ``AuditSink`` (INTERFACES §3), so the
collector can hand it straight to ``create_app(audit=…)``. A call returns once the entry is
durable in the store; the store gives it its index.

Group commit: when several threads record at once, one of them writes every waiting record
in a single store transaction while the others wait for it, so a burst of requests costs one
database round trip instead of one each (the order between concurrent callers is the order
they queued in). A failed write raises in every caller whose record was in it.

The tree is held in memory (:class:`~apprentice.audit.merkle.MerkleTree`) and brought up to
date from the store's leaf hashes before each read, so entries appended by other collector
replicas are included. Catching up costs O(k) for k new entries; roots and proofs cost
O(log n) / O(log² n); nothing rehashes the whole log except the verifier, on purpose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apprentice.audit.checkpoint import ORIGIN_PREFIX, Checkpoint, CheckpointSigner
from apprentice.audit.entry import AuditEntry, AuditRecord
from apprentice.audit.merkle import MerkleTree
from apprentice.audit.store import AuditStore
from apprentice.errors import AuditError

_SYNC_BATCH = 50_000


class _Batch:
    def __init__(self) -> None:
        self.records: list[AuditRecord] = []
        self.done = threading.Event()
        self.error: BaseException | None = None


class AuditLog:
    def __init__(self, store: AuditStore) -> None:
        self.store = store
        self._tree = MerkleTree()
        self._tree_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._pending: _Batch | None = None
        self._writer = threading.Lock()

    # -- writing ------------------------------------------------------------------------
    def record(self, *, actor: str, role: str, action: str, resource: str, subject: str | None,
               purpose: str, decision: str, at: datetime) -> None:
        """Append one entry (never content); returns when it is durable. ValueError on bad fields."""
        rec = AuditRecord(at, actor, role, action, resource, subject, purpose, decision)
        with self._queue_lock:
            if self._pending is None:
                self._pending = _Batch()
            batch = self._pending
            batch.records.append(rec)
        with self._writer:
            if not batch.done.is_set():
                # We are the first writer to see this batch: close it and write it all.
                with self._queue_lock:
                    if self._pending is batch:
                        self._pending = None
                try:
                    self.store.append(batch.records)
                except BaseException as exc:
                    batch.error = exc
                finally:
                    batch.done.set()
        if batch.error is not None:
            raise batch.error

    def record_in(self, *, actor: str, role: str, action: str, resource: str, subject: str | None,
                  purpose: str, decision: str, at: datetime) -> Callable[[Any], None] | None:
        """The entry as an operation on an open transaction of the store's database, to be
        committed together with the write it allowed (so the entry is durable exactly when
        the write is); None if the store cannot join a transaction (then call :meth:`record`).
        ValueError on bad fields, now rather than in the transaction."""
        append_in = getattr(self.store, "append_in", None)
        if append_in is None:
            return None
        rec = AuditRecord(at, actor, role, action, resource, subject, purpose, decision)

        def op(conn: Any) -> None:
            append_in(conn, [rec])

        return op

    # -- reading ------------------------------------------------------------------------
    def size(self) -> int:
        return self.store.size()

    def entries(self, start: int = 0, stop: int | None = None) -> list[AuditEntry]:
        return [row.entry() for row in self.store.rows(start, stop)]

    def entries_about(self, subject: str) -> list[AuditEntry]:
        """Every entry whose subject is this contributor: who accessed their data, when, why."""
        return [row.entry() for row in self.store.rows_about(subject)]

    def root(self, size: int | None = None) -> bytes:
        with self._tree_lock:
            return self._synced(size).root(size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        with self._tree_lock:
            return self._synced(size).inclusion_proof(index, size)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        with self._tree_lock:
            return self._synced(new).consistency_proof(old, new)

    def leaf_hash(self, index: int) -> bytes:
        with self._tree_lock:
            return self._synced(index + 1).leaf(index)

    def checkpoint(self, signer: CheckpointSigner, *, now: datetime | None = None) -> Checkpoint:
        """Sign the log's current size and root."""
        with self._tree_lock:
            tree = self._synced(None)
            size, root = tree.size, tree.root()
        when = (now or datetime.now(UTC)).replace(microsecond=0)
        return Checkpoint(ORIGIN_PREFIX + self.store.log_id(), size, root, when).signed(signer)

    def _synced(self, size: int | None) -> MerkleTree:
        """The tree, caught up with the store (at least to ``size``). Caller holds _tree_lock."""
        target = self.store.size()
        if size is not None and size > target:
            raise ValueError(f"the log has {target} entries, fewer than the {size} asked for")
        while self._tree.size < target:
            start = self._tree.size
            stop = min(target, start + _SYNC_BATCH)
            hashes = self.store.leaf_hashes(start, stop)
            if len(hashes) != stop - start:
                raise AuditError(f"the audit log has a gap between entries {start} and {stop - 1}; "
                                 "run: apprentice audit verify")
            for h in hashes:
                self._tree.append(h)
        return self._tree

