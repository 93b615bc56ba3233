"""The two halves of the master key, kept apart on purpose.

The collector holds a :class:`MasterKeyWrapper`: it can wrap a new contributor private key
for storage, and nothing else. Only the pipeline identity holds a
:class:`MasterKeyUnwrapper`. With the local default the master key is an X25519 key pair
(the collector gets the public half); with AWS KMS the collector's role is granted
``kms:Encrypt`` and the pipeline's role ``kms:Decrypt``. Either way a compromised collector
— or a copy of its database — cannot read a contributor key.
"""

from __future__ import annotations

from typing import Protocol


class MasterKeyWrapper(Protocol):
    def wrap(self, secret: bytes, contributor_id: str, key_id: str) -> bytes:
        """Return ``secret`` wrapped under the master key, bound to the contributor and key id."""


class MasterKeyUnwrapper(Protocol):
    def unwrap(self, wrapped: bytes, contributor_id: str, key_id: str) -> bytes:
        """Return the secret, or raise DecryptionError (wrong key, context or tampering)."""
