"""Portal sign-in: a login name and a password hash on accounts, and browser sessions.

A session row is keyed by the SHA-256 of the random session id (the cookie holds the id,
the database only its hash, like API tokens) and carries its CSRF token and expiry.

Revision ID: 20261201_wp_portal
Revises: 20261128_wp_gov
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261201_wp_portal"
down_revision = "20261128_wp_gov"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("login", sa.String(64), nullable=True))
        batch.add_column(sa.Column("password_hash", sa.String(256), nullable=True))
        batch.create_unique_constraint("uq_accounts_login", ["login"])
    op.create_table(
        "portal_sessions",
        sa.Column("id_sha256", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Index("ix_portal_sessions_expires_at", "expires_at"),
    )


def downgrade() -> None:
    op.drop_table("portal_sessions")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint("uq_accounts_login", type_="unique")
        batch.drop_column("password_hash")
        batch.drop_column("login")
