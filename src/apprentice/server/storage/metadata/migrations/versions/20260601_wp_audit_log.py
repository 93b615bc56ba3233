"""Audit log: append-only audit_entries and the audit_head counter row.

Revision ID: 20260601_wp_audit
Revises: 0001
Create Date: 2026-06-01

The head row is created here with a random log id, so every database gets its own log.
Triggers (SQLite and PostgreSQL) refuse UPDATE and DELETE of entries, TRUNCATE on
PostgreSQL, deleting the head row, changing the log id and lowering the counter. They stop
mistakes and application bugs; someone who owns the database can drop them, which is why
the log is also a Merkle tree with signed checkpoints.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "20260601_wp_audit"
down_revision = "20261127_authz"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)

_PG_STATEMENTS = (
    """CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           RAISE EXCEPTION USING MESSAGE = 'audit entries are append-only: ' || TG_OP || ' refused',
                                 ERRCODE = 'insufficient_privilege';
       END $$""",
    """CREATE FUNCTION audit_head_monotonic() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           IF TG_OP = 'DELETE' OR NEW.size < OLD.size OR NEW.log_id <> OLD.log_id OR NEW.id <> OLD.id THEN
               RAISE EXCEPTION USING MESSAGE = 'the audit head only grows: ' || TG_OP || ' refused',
                                     ERRCODE = 'insufficient_privilege';
           END IF;
           RETURN NEW;
       END $$""",
    """CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries
       FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()""",
    """CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
       FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()""",
    """CREATE TRIGGER audit_head_only_grows BEFORE UPDATE OR DELETE ON audit_head
       FOR EACH ROW EXECUTE FUNCTION audit_head_monotonic()""",
    """CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
       FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()""",
)

_SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only (UPDATE refused)'); END""",
    """CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only (DELETE refused)'); END""",
    """CREATE TRIGGER audit_head_only_grows BEFORE UPDATE ON audit_head
       WHEN NEW.size < OLD.size OR NEW.log_id <> OLD.log_id OR NEW.id <> OLD.id
       BEGIN SELECT RAISE(ABORT, 'the audit head only grows (UPDATE refused)'); END""",
    """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
       BEGIN SELECT RAISE(ABORT, 'the audit head only grows (DELETE refused)'); END""",
)


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(160), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_index("ix_audit_entries_subject", "audit_entries", ["subject"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("log_id", sa.String(32), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "log_id": secrets.token_hex(8), "size": 0}])
    dialect = op.get_bind().dialect.name
    for statement in {"postgresql": _PG_STATEMENTS, "sqlite": _SQLITE_TRIGGERS}.get(dialect, ()):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TABLE audit_head, audit_entries")
        op.execute("DROP FUNCTION audit_entries_append_only(), audit_head_monotonic()")
        return
    op.drop_table("audit_head")
    op.drop_table("audit_entries")
