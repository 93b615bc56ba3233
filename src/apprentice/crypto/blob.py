"""Sealing whole files the pipeline keeps at rest: staged chunks, episodes, dataset shards.

Threat: the pipeline's folders (staging, episode store, dataset versions) hold decrypted,
partly processed work. Anyone who can read the folder — a backup, a wrong permission, a
copied volume — must learn nothing, and a file swapped for another must not be accepted.
So every file is AES-256-GCM sealed with a key that lives outside the data folders, and
its role and name are bound in as associated data.

Deterministic nonces (a synthetic IV, as in RFC 5297's SIV idea): the 96-bit nonce is
HMAC-SHA256(nonce key, associated data ‖ plaintext) truncated. The same file always seals
to the same bytes — so two executors building the same dataset produce byte-identical
shards, and a crash-and-retry rewrites identical bytes — and a nonce repeats only for an
identical (associated data, plaintext) pair, which then gives identical ciphertext: it
reveals equality and nothing else. Keys for the two roles are derived with HKDF-SHA256.

    sealed = "APBLOB01" (8) ‖ nonce (12) ‖ ciphertext ‖ tag (16)
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from apprentice.errors import DecryptionError

MAGIC = b"APBLOB01"
NONCE_SIZE = 12
TAG_SIZE = 16


def derive_key(key: bytes, purpose: str, length: int = 32) -> bytes:
    """A sub-key of ``key`` for one named purpose (HKDF-SHA256, no salt)."""
    if len(key) < 32:
        raise ValueError("key derivation needs a 32-byte key")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None,
                info=b"apprentice derive v1\x00" + purpose.encode()).derive(key)


def keyed_hash(key: bytes, value: str, size: int = 16) -> str:
    """HMAC-SHA256 of ``value`` under ``key``, ``size`` hex digits: a stable pseudonym."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:size]


class BlobCipher:
    """Seals and opens files under one 32-byte key (deterministic, see the module doc)."""

    __slots__ = ("_aead", "_nonce_key")

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("blob key must be 32 bytes")
        self._aead = AESGCM(derive_key(key, "blob aead"))
        self._nonce_key = derive_key(key, "blob nonce")

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        mac = hmac.new(self._nonce_key, len(associated_data).to_bytes(4, "big"), hashlib.sha256)
        mac.update(associated_data)
        mac.update(plaintext)
        nonce = mac.digest()[:NONCE_SIZE]
        return MAGIC + nonce + self._aead.encrypt(nonce, plaintext, associated_data)

    def open(self, sealed: bytes, associated_data: bytes) -> bytes:
        """The plaintext, or DecryptionError if the file is not ours or was changed."""
        if len(sealed) < len(MAGIC) + NONCE_SIZE + TAG_SIZE or sealed[: len(MAGIC)] != MAGIC:
            raise DecryptionError("not a sealed pipeline file")
        nonce = sealed[len(MAGIC) : len(MAGIC) + NONCE_SIZE]
        try:
            return self._aead.decrypt(nonce, sealed[len(MAGIC) + NONCE_SIZE :], associated_data)
        except InvalidTag:
            raise DecryptionError() from None
