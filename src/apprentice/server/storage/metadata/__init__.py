"""Collector metadata in SQL (SQLite by default, PostgreSQL in production), chosen by URL."""

from apprentice.server.storage.metadata.repository import (
    ChunkRow,
    ContributorKeyRow,
    DeviceRow,
    MetadataStore,
    NonceClaim,
    TombstoneRow,
    UploadOutcome,
    open_metadata,
)

__all__ = [
    "ChunkRow",
    "ContributorKeyRow",
    "DeviceRow",
    "MetadataStore",
    "NonceClaim",
    "TombstoneRow",
    "UploadOutcome",
    "open_metadata",
]
