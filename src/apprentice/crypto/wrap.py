"""Wrapping contributor private keys to a master key pair, so the wrapper cannot unwrap.

Threat: the collector creates contributor key pairs and stores them, but must never be able
to read a contributor's private key — otherwise a compromised collector, or a copy of its
database, could open every chunk. So the master key is itself an X25519 key pair: the
collector holds only the master *public* key and seals each private key to it with HPKE
(RFC 9180, same suite as :mod:`apprentice.crypto.sealed`); only the pipeline identity holds
the master private key. The contributor id and key id are bound in as ``info``, so a
wrapped key moved to another contributor's row does not unwrap.

    wrapped = "APWRAP01" (8) ‖ enc (32) ‖ ciphertext (32) ‖ tag (16)

Never: return a key that did not authenticate, or put key bytes in an exception or log.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from apprentice.errors import DecryptionError

MAGIC = b"APWRAP01"
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


def _info(context: bytes) -> bytes:
    return b"apprentice key wrap v1\x00" + context


def wrap_key(secret: bytes, master_public_key: bytes, context: bytes) -> bytes:
    """Seal ``secret`` (a 32-byte private key) to the master public key, bound to ``context``."""
    if len(secret) != 32 or len(master_public_key) != 32:
        raise ValueError("key wrapping takes a 32-byte secret and a 32-byte master public key")
    recipient = X25519PublicKey.from_public_bytes(master_public_key)
    return MAGIC + _SUITE.encrypt(secret, recipient, info=_info(context))


def unwrap_key(wrapped: bytes, master_private_key: bytes, context: bytes) -> bytes:
    """Open a wrapped key with the master private key; DecryptionError if anything is off."""
    if len(master_private_key) != 32:
        raise ValueError("master private key must be 32 bytes")
    if wrapped[: len(MAGIC)] != MAGIC:
        raise DecryptionError()
    key = X25519PrivateKey.from_private_bytes(master_private_key)
    try:
        return _SUITE.decrypt(wrapped[len(MAGIC) :], key, info=_info(context))
    except (InvalidTag, ValueError):
        raise DecryptionError() from None
