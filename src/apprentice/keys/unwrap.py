"""The pipeline identity's half of the keys: unwrap a contributor key and open chunks.

Only the processing pipeline imports this module (a test walks the import graph); the
collector never does, and ``create_app`` takes no unwrapper. The wrapped key comes from
wherever the pipeline is allowed to read it — the collector's pipeline API
(``GET /api/v1/pipeline/keys/{contributor}``) in production, a metadata store in tests —
through the small :class:`WrappedKeySource` protocol. After a contributor is forgotten
their wrapped key is gone and :meth:`PipelineKeyAccess.open` raises DecryptionError for
every chunk of theirs, forever.

Unwrapped keys live in memory only, are never logged, and are cached at most for the life
of one :class:`PipelineKeyAccess` (one pipeline run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from apprentice.crypto import ChunkHeader, open_chunk, read_header
from apprentice.errors import DecryptionError, MalformedChunk
from apprentice.keys.base import MasterKeyUnwrapper, WrappedKey, kms_client, parse_master_key_url

__all__ = [
    "MasterKeyUnwrapper",
    "PipelineKeyAccess",
    "WrappedKey",
    "WrappedKeySource",
    "open_master_unwrapper",
]


class WrappedKeySource(Protocol):
    def wrapped_key(self, contributor_id: str) -> WrappedKey | None:
        """The contributor's wrapped private key, or None if they have none (or were forgotten)."""


def open_master_unwrapper(url: str) -> MasterKeyUnwrapper:
    """The pipeline identity's half of the master key named by ``url``."""
    scheme, where, options = parse_master_key_url(url)
    if scheme == "local":
        from apprentice.keys import _local

        return _local.load_unwrapper(Path(where))
    from apprentice.keys import _aws_kms

    return _aws_kms.AwsKmsUnwrapper(kms_client(options), where)


class PipelineKeyAccess:
    def __init__(self, keys: WrappedKeySource, unwrapper: MasterKeyUnwrapper, *, cache: bool = False) -> None:
        self._keys = keys
        self._unwrapper = unwrapper
        self._cache: dict[str, bytes] | None = {} if cache else None

    def private_key(self, contributor_id: str) -> bytes:
        """Unwrap the contributor's private key; DecryptionError if it was destroyed."""
        if self._cache is not None and contributor_id in self._cache:
            return self._cache[contributor_id]
        row = self._keys.wrapped_key(contributor_id)
        if row is None:
            raise DecryptionError("no key for this contributor (never created, or forgotten)")
        key = self._unwrapper.unwrap(row.wrapped_private_key, contributor_id, row.key_id)
        if self._cache is not None:
            self._cache[contributor_id] = key
        return key

    def open(self, sealed: bytes) -> tuple[ChunkHeader, bytes]:
        """Open one sealed chunk in memory. DecryptionError if it cannot be read."""
        try:
            header = read_header(sealed)
        except MalformedChunk:
            raise DecryptionError() from None
        return open_chunk(sealed, self.private_key(header.contributor))

    def forget(self) -> None:
        """Drop every cached unwrapped key (end of a run, or a tombstone arrived)."""
        if self._cache is not None:
            self._cache.clear()
