"""The collector's metadata tables (SQLAlchemy Core). The schema is owned by the Alembic
migrations in ``migrations/``; this module must describe the same tables (a test checks).

Minimal by design: ids, sizes, times and public keys. No content, no window titles, no
file names — the blobs hold ciphertext and these rows say only whose it is.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()

contributors = Table(
    "contributors",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

contributor_keys = Table(
    "contributor_keys",
    metadata,
    Column("contributor_id", String(128), ForeignKey("contributors.id"), primary_key=True),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("wrapped_private_key", LargeBinary(256), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

enrolment_tokens = Table(
    "enrolment_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("contributor_id", String(128), ForeignKey("contributors.id"), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
)

devices = Table(
    "devices",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("contributor_id", String(128), ForeignKey("contributors.id"), nullable=False),
    Column("public_key", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

chunks = Table(
    "chunks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("contributor_id", String(128), ForeignKey("contributors.id"), nullable=False),
    Column("device_id", String(64), ForeignKey("devices.id"), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_chunks_contributor", "contributor_id"),
    Index("ix_chunks_received_at", "received_at"),
)

request_nonces = Table(
    "request_nonces",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_request_nonces_expires_at", "expires_at"),
)

tombstones = Table(
    "tombstones",
    metadata,
    Column("contributor_id", String(128), primary_key=True),
    Column("forgotten_at", DateTime(timezone=True), nullable=False),
    Column("requested_by", String(32), nullable=False),
    Column("chunks_deleted", Integer, nullable=False),
)

# Bearer-token accounts (docs/authorization.md): the token is stored only as its SHA-256.
accounts = Table(
    "accounts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("subject", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    # Portal sign-in (docs/portal.md): a login name and a scrypt password hash, both optional.
    Column("login", String(64), nullable=True, unique=True),
    Column("password_hash", String(256), nullable=True),
)

# Portal browser sessions: the cookie holds a random id, this table only its SHA-256.
portal_sessions = Table(
    "portal_sessions",
    metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_portal_sessions_expires_at", "expires_at"),
)

# The order chunks were received in, for the pipeline's cursor. A trigger on ``chunks``
# (see the migration) adds one row per inserted chunk; deleting the chunk deletes its row.
chunk_sequence = Table(
    "chunk_sequence",
    metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("chunk_id", String(64), ForeignKey("chunks.id", ondelete="CASCADE"), nullable=False, unique=True),
    sqlite_autoincrement=True,
)

# The audit log (apprentice.audit). Append-only: the migration adds triggers that refuse
# UPDATE and DELETE of entries, and any shrinking of the head row's counter.
audit_entries = Table(
    "audit_entries",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(160), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("resource", String(200), nullable=False),
    Column("subject", String(128), nullable=True),
    Column("purpose", String(32), nullable=False),
    Column("decision", String(8), nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Index("ix_audit_entries_subject", "subject"),
)

# One row (id 1): the log's random id and how many entries were ever appended. Appenders
# increment it first, which serialises them across collector replicas and hands out indexes.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("log_id", String(32), nullable=False),
    Column("size", BigInteger, nullable=False),
)

# -- governance (docs/governance.md): DPIA, policy versions, consent, exemptions, device sync,
# deletions. Governance text (DPIA summaries, exemption reasons) is written by people for
# governance, never captured content; device reports are states and counts, never content.

dpias = Table(
    "dpias",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("summary", Text, nullable=False),
    Column("status", String(16), nullable=False),  # draft | approved | withdrawn
    Column("created_by", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(40), nullable=True),
    Column("approved_at", DateTime(timezone=True), nullable=True),
    Column("withdrawn_at", DateTime(timezone=True), nullable=True),
)

capture_policies = Table(
    "capture_policies",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("yaml", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_by", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

consent_events = Table(
    "consent_events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("contributor_id", String(128), ForeignKey("contributors.id"), nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("notice_version", Integer, nullable=True),
    Column("notice_sha256", String(64), nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_consent_events_contributor", "contributor_id"),
    sqlite_autoincrement=True,
)

exemption_requests = Table(
    "exemption_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("contributor_id", String(128), ForeignKey("contributors.id"), nullable=False),
    Column("reason", Text, nullable=True),
    Column("status", String(16), nullable=False),  # pending | approved | denied
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(40), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Index("ix_exemption_requests_contributor", "contributor_id"),
)

device_commands = Table(
    "device_commands",
    metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("contributor_id", String(128), ForeignKey("contributors.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # pause | resume
    Column("until", DateTime(timezone=True), nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Index("ix_device_commands_contributor", "contributor_id"),
    sqlite_autoincrement=True,
)

device_reports = Table(
    "device_reports",
    metadata,
    Column("device_id", String(64), ForeignKey("devices.id"), primary_key=True),
    Column("contributor_id", String(128), ForeignKey("contributors.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("paused_until", DateTime(timezone=True), nullable=True),
    Column("gap_reason", String(48), nullable=True),
    Column("agent_version", String(32), nullable=True),
    Column("last_upload_at", DateTime(timezone=True), nullable=True),
    Column("spool_bytes", BigInteger, nullable=True),
    Column("reported_at", DateTime(timezone=True), nullable=False),
)

# A contributor's deletion of their data (a time range by receipt, or everything), for the
# pipeline to withdraw what it derived; deleted_chunks lists the chunk ids it covered.
deletions = Table(
    "deletions",
    metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("contributor_id", String(128), nullable=False),
    Column("received_from", DateTime(timezone=True), nullable=True),
    Column("received_to", DateTime(timezone=True), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("chunks_deleted", Integer, nullable=False),
    Index("ix_deletions_contributor", "contributor_id"),
    sqlite_autoincrement=True,
)

deleted_chunks = Table(
    "deleted_chunks",
    metadata,
    Column("deletion_seq", BigInteger().with_variant(Integer(), "sqlite"),
           ForeignKey("deletions.seq", ondelete="CASCADE"), primary_key=True),
    Column("chunk_id", String(64), primary_key=True),
)
