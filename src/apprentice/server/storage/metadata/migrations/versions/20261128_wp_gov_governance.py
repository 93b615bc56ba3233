"""Governance: DPIA records, capture-policy versions, consent history, exemption requests,
device commands and reports, and deletion records (docs/governance.md).

Revision ID: 20261128_wp_gov
Revises: 20260601_wp_audit
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261128_wp_gov"
down_revision = "20260601_wp_audit"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER only


def upgrade() -> None:
    op.create_table(
        "dpias",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("approved_by", sa.String(40), nullable=True),
        sa.Column("approved_at", _TS, nullable=True),
        sa.Column("withdrawn_at", _TS, nullable=True),
    )
    op.create_table(
        "capture_policies",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("yaml", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "consent_events",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("contributor_id", sa.String(128), sa.ForeignKey("contributors.id"), nullable=False),
        sa.Column("accepted", sa.Boolean, nullable=False),
        sa.Column("notice_version", sa.Integer, nullable=True),
        sa.Column("notice_sha256", sa.String(64), nullable=True),
        sa.Column("at", _TS, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_consent_events_contributor", "consent_events", ["contributor_id"])
    op.create_table(
        "exemption_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("contributor_id", sa.String(128), sa.ForeignKey("contributors.id"), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", _TS, nullable=False),
        sa.Column("decided_by", sa.String(40), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
    )
    op.create_index("ix_exemption_requests_contributor", "exemption_requests", ["contributor_id"])
    op.create_table(
        "device_commands",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("contributor_id", sa.String(128), sa.ForeignKey("contributors.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("until", _TS, nullable=True),
        sa.Column("issued_at", _TS, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_device_commands_contributor", "device_commands", ["contributor_id"])
    op.create_table(
        "device_reports",
        sa.Column("device_id", sa.String(64), sa.ForeignKey("devices.id"), primary_key=True),
        sa.Column("contributor_id", sa.String(128), sa.ForeignKey("contributors.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("paused_until", _TS, nullable=True),
        sa.Column("gap_reason", sa.String(48), nullable=True),
        sa.Column("agent_version", sa.String(32), nullable=True),
        sa.Column("last_upload_at", _TS, nullable=True),
        sa.Column("spool_bytes", sa.BigInteger, nullable=True),
        sa.Column("reported_at", _TS, nullable=False),
    )
    op.create_table(
        "deletions",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("contributor_id", sa.String(128), nullable=False),
        sa.Column("received_from", _TS, nullable=True),
        sa.Column("received_to", _TS, nullable=True),
        sa.Column("requested_at", _TS, nullable=False),
        sa.Column("chunks_deleted", sa.Integer, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_deletions_contributor", "deletions", ["contributor_id"])
    op.create_table(
        "deleted_chunks",
        sa.Column("deletion_seq", _SEQ, sa.ForeignKey("deletions.seq", ondelete="CASCADE"), primary_key=True),
        sa.Column("chunk_id", sa.String(64), primary_key=True),
    )


def downgrade() -> None:
    for table in ("deleted_chunks", "deletions", "device_reports", "device_commands", "exemption_requests",
                  "consent_events", "capture_policies", "dpias"):
        op.drop_table(table)
