"""The pipeline identity's view of the keys: unwrap a contributor key and open chunks.

Nothing in the collector app constructs this class (``create_app`` takes no unwrapper);
only the processing pipeline does, with the master key's unwrapping half. After a
contributor is forgotten their wrapped key is gone and :meth:`open` raises DecryptionError
for every chunk of theirs, forever.
"""

from __future__ import annotations

from apprentice.crypto import ChunkHeader, open_chunk, read_header
from apprentice.errors import DecryptionError, MalformedChunk
from apprentice.server.keys.base import MasterKeyUnwrapper
from apprentice.server.storage.metadata import MetadataStore


class PipelineKeyAccess:
    def __init__(self, metadata: MetadataStore, unwrapper: MasterKeyUnwrapper) -> None:
        self._metadata = metadata
        self._unwrapper = unwrapper

    def private_key(self, contributor_id: str) -> bytes:
        """Unwrap the contributor's private key; DecryptionError if it was destroyed."""
        row = self._metadata.contributor_key(contributor_id)
        if row is None:
            raise DecryptionError("no key for this contributor (never created, or forgotten)")
        return self._unwrapper.unwrap(row.wrapped_private_key, contributor_id, row.key_id)

    def open(self, sealed: bytes) -> tuple[ChunkHeader, bytes]:
        """Open one sealed chunk in memory. DecryptionError if it cannot be read."""
        try:
            header = read_header(sealed)
        except MalformedChunk:
            raise DecryptionError() from None
        return open_chunk(sealed, self.private_key(header.contributor))
