"""Accounts (bearer tokens per role, stored as SHA-256) and a receipt sequence for chunks, so
the pipeline can page through them with a cursor that never goes backwards.

The sequence lives in its own table, filled by a trigger on ``chunks``, so that every way of
inserting a chunk (one at a time or in a group commit) numbers it without the insert knowing.

Revision ID: 20261127_authz
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261127_authz"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER only

_PG_FUNCTION = """
CREATE FUNCTION apprentice_number_chunk() RETURNS trigger AS $$
BEGIN
    INSERT INTO chunk_sequence (chunk_id) VALUES (NEW.id);
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = ("CREATE TRIGGER chunks_number AFTER INSERT ON chunks "
               "FOR EACH ROW EXECUTE FUNCTION apprentice_number_chunk()")
_SQLITE_TRIGGER = ("CREATE TRIGGER chunks_number AFTER INSERT ON chunks "
                   "BEGIN INSERT INTO chunk_sequence (chunk_id) VALUES (NEW.id); END")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "chunk_sequence",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("chunk_id", sa.String(64), sa.ForeignKey("chunks.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sqlite_autoincrement=True,  # never reuse a number, even after the newest chunk is deleted
    )
    op.execute("INSERT INTO chunk_sequence (chunk_id) SELECT id FROM chunks ORDER BY received_at, id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS chunks_number" +
               (" ON chunks" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS apprentice_number_chunk()")
    op.drop_table("chunk_sequence")
    op.drop_table("accounts")
