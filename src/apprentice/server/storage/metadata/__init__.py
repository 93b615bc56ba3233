"""Collector metadata in SQL (SQLite by default, PostgreSQL in production), chosen by URL."""

from apprentice.server.storage.metadata.audit import SqlAuditStore
from apprentice.server.storage.metadata.repository import (
    AccountRow,
    Activity,
    ChunkRow,
    ContributorKeyRow,
    DeviceRow,
    MetadataStore,
    NonceClaim,
    TombstoneRow,
    UploadContext,
    UploadOutcome,
    open_metadata,
)

__all__ = [
    "AccountRow",
    "Activity",
    "ChunkRow",
    "ContributorKeyRow",
    "DeviceRow",
    "MetadataStore",
    "SqlAuditStore",
    "NonceClaim",
    "TombstoneRow",
    "UploadContext",
    "UploadOutcome",
    "open_metadata",
]
