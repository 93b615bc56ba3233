"""Contributor key pairs as the collector sees them: create, hand out the public half, destroy.

One X25519 key pair per contributor. The private half is wrapped by the master key the
moment it is generated and only the wrapped form is stored; the collector never keeps, logs
or returns it. Destroying the wrapped key is crypto-shredding: every chunk sealed to the
contributor becomes unreadable, wherever copies of the ciphertext are.
"""

from __future__ import annotations

from datetime import datetime

from apprentice.crypto.sealed import generate_key_pair, key_id
from apprentice.keys.base import MasterKeyWrapper
from apprentice.server.storage.metadata import ContributorKeyRow, MetadataStore


class ContributorKeys:
    def __init__(self, metadata: MetadataStore, wrapper: MasterKeyWrapper) -> None:
        self._metadata = metadata
        self._wrapper = wrapper

    def ensure(self, contributor_id: str, now: datetime) -> ContributorKeyRow:
        """Return the contributor's key pair record, creating (and wrapping) it if new."""
        existing = self._metadata.contributor_key(contributor_id)
        if existing is not None:
            return existing
        private, public = generate_key_pair()
        kid = key_id(public)
        wrapped = self._wrapper.wrap(private, contributor_id, kid)
        del private
        self._metadata.add_contributor_key(ContributorKeyRow(contributor_id, kid, public, wrapped), now)
        # Another replica may have won the race; theirs is the one to use.
        row = self._metadata.contributor_key(contributor_id)
        assert row is not None
        return row

    def public_key(self, contributor_id: str) -> tuple[str, bytes] | None:
        """(key id, public key) of the contributor, or None if they have none (or were forgotten)."""
        row = self._metadata.contributor_key(contributor_id)
        return None if row is None else (row.key_id, row.public_key)

    def destroy(self, contributor_id: str) -> bool:
        """Crypto-shred the contributor's private key. True if there was one to destroy."""
        return self._metadata.delete_contributor_key(contributor_id)
