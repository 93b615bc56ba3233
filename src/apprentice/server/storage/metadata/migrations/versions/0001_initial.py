"""Initial collector schema: contributors, keys, enrolment tokens, devices, chunks, nonces,
tombstones.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "contributors",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "contributor_keys",
        sa.Column("contributor_id", sa.String(128), sa.ForeignKey("contributors.id"), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
        sa.Column("wrapped_private_key", sa.LargeBinary(256), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "enrolment_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("contributor_id", sa.String(128), sa.ForeignKey("contributors.id"), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("contributor_id", sa.String(128), sa.ForeignKey("contributors.id"), nullable=False),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
    )
    op.create_table(
        "chunks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("contributor_id", sa.String(128), sa.ForeignKey("contributors.id"), nullable=False),
        sa.Column("device_id", sa.String(64), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("received_at", _TS, nullable=False),
    )
    op.create_index("ix_chunks_contributor", "chunks", ["contributor_id"])
    op.create_index("ix_chunks_received_at", "chunks", ["received_at"])
    op.create_table(
        "request_nonces",
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("expires_at", _TS, nullable=False),
    )
    op.create_index("ix_request_nonces_expires_at", "request_nonces", ["expires_at"])
    op.create_table(
        "tombstones",
        sa.Column("contributor_id", sa.String(128), primary_key=True),
        sa.Column("forgotten_at", _TS, nullable=False),
        sa.Column("requested_by", sa.String(32), nullable=False),
        sa.Column("chunks_deleted", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("tombstones", "request_nonces", "chunks", "devices", "enrolment_tokens",
                  "contributor_keys", "contributors"):
        op.drop_table(table)
