"""Authenticated encryption of spool records (AES-256-GCM, NIST SP 800-38D).

Threat: someone who can read or write the spool folder (another user, a backup, a stolen
disk) must learn nothing about the content, and any change to a record, or moving a record
to another place in the spool, must be detected. So each record is sealed with a fresh
random 96-bit nonce, and its position (segment id, stream, record index) is bound in as
associated data. Record keys are derived per segment with HKDF-SHA256 from the device key,
which keeps the number of nonces per key far below the GCM random-nonce limit (2^32).

Never: reuse a nonce on purpose, return plaintext that did not authenticate, or put key
bytes in an exception or log.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from apprentice.errors import DecryptionError

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
_INFO = b"apprentice spool segment v1"


class RecordCipher:
    """Seals and opens the records of one spool segment."""

    __slots__ = ("_aead",)

    def __init__(self, device_key: bytes, segment_id: bytes) -> None:
        if len(device_key) != KEY_SIZE:
            raise ValueError(f"device key must be {KEY_SIZE} bytes")
        if len(segment_id) != 16:
            raise ValueError("segment id must be 16 bytes")
        segment_key = HKDF(
            algorithm=hashes.SHA256(), length=KEY_SIZE, salt=segment_id, info=_INFO
        ).derive(device_key)
        self._aead = AESGCM(segment_key)

    def seal(self, plaintext: bytes, associated_data: bytes, nonce: bytes | None = None) -> bytes:
        """Return nonce ‖ ciphertext ‖ tag. ``nonce`` is for test vectors only."""
        nonce = os.urandom(NONCE_SIZE) if nonce is None else nonce
        if len(nonce) != NONCE_SIZE:
            raise ValueError(f"nonce must be {NONCE_SIZE} bytes")
        return nonce + self._aead.encrypt(nonce, plaintext, associated_data)

    def open(self, sealed: bytes, associated_data: bytes) -> bytes:
        """Return the plaintext, or raise DecryptionError if anything does not authenticate."""
        if len(sealed) < NONCE_SIZE + TAG_SIZE:
            raise DecryptionError("sealed record is too short")
        try:
            return self._aead.decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], associated_data)
        except InvalidTag:
            raise DecryptionError() from None
