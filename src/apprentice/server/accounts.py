"""Accounts of the people and services that call the collector with a bearer token.

A token is ``apa_`` plus 32 random bytes (base64url); only its SHA-256 is stored, so the
database cannot hand it out again. ``create_account`` returns the token once; the caller
shows it to the person it is for and nowhere else (never a log).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from apprentice.authz import ROLES
from apprentice.server.storage.metadata import AccountRow, MetadataStore

TOKEN_PREFIX = "apa_"
_CONTRIBUTOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def create_account(metadata: MetadataStore, role: str, now: datetime,
                   contributor: str | None = None) -> tuple[AccountRow, str]:
    """Create an account and return it with its token (shown once, stored as SHA-256 only).

    ValueError (with what to do) for an unknown role, or a contributor id missing for role
    ``contributor`` / given for any other role.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose from {', '.join(sorted(ROLES))}")
    if role == "contributor":
        if contributor is None or not _CONTRIBUTOR_ID.match(contributor):
            raise ValueError("a contributor account needs --contributor ID (1-64 of [A-Za-z0-9._-])")
    elif contributor is not None:
        raise ValueError(f"only contributor accounts name a contributor; drop --contributor for {role}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = AccountRow("acc-" + secrets.token_hex(16), role, contributor, now, False)
    metadata.add_account(row, token_sha256(token))
    return row, token


def ensure_first_privacy_officer(metadata: MetadataStore, now: datetime) -> str | None:
    """Create a privacy-officer account when there is no enabled one; return its token (to
    print once), or None when one already exists."""
    if metadata.count_accounts("privacy_officer") > 0:
        return None
    return create_account(metadata, "privacy_officer", now)[1]
