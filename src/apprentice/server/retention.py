"""Retention and forgetting: the only code that deletes what the collector holds.

``forget_contributor`` is crypto-shredding plus clean-up, in an order that fails safe:
(1) revoke every device of the contributor, so nothing new arrives; (2) destroy the wrapped
private key — from this moment no one can read any chunk of theirs, including copies in
backups of the bucket; (3) delete their blobs and chunk rows; (4) record a tombstone, so
that the pipeline withdraws anything derived from them. Running it again finishes a run
that was interrupted. ``purge_expired`` deletes chunks older than the retention period.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apprentice.server.keys import ContributorKeys
from apprentice.server.storage.blobs import BlobStore
from apprentice.server.storage.metadata import MetadataStore, TombstoneRow

log = logging.getLogger("apprentice.server.retention")


def blob_key(chunk_id: str) -> str:
    """Where a chunk lives in the blob store: its hash only, nothing about its owner."""
    return f"chunks/{chunk_id[:2]}/{chunk_id}"


def forget_contributor(
    metadata: MetadataStore, blobs: BlobStore, keys: ContributorKeys, contributor_id: str,
    requested_by: str, now: datetime,
) -> TombstoneRow:
    metadata.revoke_devices(now, contributor_id=contributor_id)  # (1)
    keys.destroy(contributor_id)  # (2)
    deleted = _delete_chunks(metadata, blobs, metadata.chunk_ids(contributor_id=contributor_id))  # (3)
    existing = metadata.tombstone(contributor_id)
    if existing is not None:
        return existing
    row = TombstoneRow(contributor_id, now, requested_by, deleted)
    metadata.add_tombstone(row)  # (4)
    log.info("contributor forgotten", extra={"fields": {"chunks_deleted": deleted, "by": requested_by}})
    return row


def purge_expired(metadata: MetadataStore, blobs: BlobStore, max_age: timedelta, now: datetime,
                  batch: int = 500) -> int:
    """Delete every chunk received before ``now - max_age``; return how many went."""
    total = 0
    while True:
        ids = metadata.chunk_ids(received_before=now - max_age, limit=batch)
        if not ids:
            break
        total += _delete_chunks(metadata, blobs, ids)
    metadata.forget_nonces(now)
    if total:
        log.info("retention purge", extra={"fields": {"chunks_deleted": total}})
    return total


def delete_chunk_ids(metadata: MetadataStore, blobs: BlobStore, chunk_ids: list[str]) -> int:
    """Delete these chunks (blobs, then rows); return how many rows went. A contributor's
    own deletion of a time range uses it (server/governance.py)."""
    return _delete_chunks(metadata, blobs, chunk_ids)


def _delete_chunks(metadata: MetadataStore, blobs: BlobStore, chunk_ids: list[str]) -> int:
    # Blob first, then row: a crash in between leaves a row whose blob is gone, which the
    # next run deletes; never a blob that no row points to.
    for chunk_id in chunk_ids:
        blobs.delete(blob_key(chunk_id))
    return metadata.delete_chunks(chunk_ids)
