"""The tamper-evident audit log: every access decision and write, in an RFC 9162 Merkle tree
with Ed25519-signed checkpoints. See docs/audit.md.

    entry.py       AuditEntry and its canonical bytes (never content)
    merkle.py      RFC 9162 hashing, inclusion and consistency proofs
    store.py       the append-only store protocol; MemoryAuditStore
    log.py         AuditLog: record (the AuditSink of INTERFACES §3), roots, proofs, checkpoints
    checkpoint.py  signed checkpoints (C2SP tlog-checkpoint / signed-note text)
    verify.py      check a log against checkpoints and name what was tampered with

The SQL store is ``apprentice.server.storage.metadata.SqlAuditStore`` (beside the other SQL).
Layer: core and ``crypto`` only.
"""

from apprentice.audit.checkpoint import (
    Checkpoint,
    CheckpointSigner,
    VerifierKey,
    create_signing_key,
    load_signer,
)
from apprentice.audit.entry import AuditEntry, AuditRecord
from apprentice.audit.log import AuditLog
from apprentice.audit.store import AuditStore, MemoryAuditStore, StoredRow
from apprentice.audit.verify import Problem, VerifyReport, verify_log

__all__ = [
    "AuditEntry",
    "AuditLog",
    "AuditRecord",
    "AuditStore",
    "Checkpoint",
    "CheckpointSigner",
    "MemoryAuditStore",
    "Problem",
    "StoredRow",
    "VerifierKey",
    "VerifyReport",
    "create_signing_key",
    "load_signer",
    "verify_log",
]
