"""Ed25519 device keys (RFC 8032) and the signed-request format of the collector API.

Threat: anyone on the network path, or anyone who learns a device id, must not be able to
upload as that device, and a recorded request must not be accepted twice. So each device
holds an Ed25519 key pair (the private half never leaves its 0600 key file) and signs every
request over everything that gives it meaning — method, path and query, device id,
timestamp, a random nonce and the SHA-256 of the body::

    APPRENTICE-REQUEST-V1 \\n method \\n path \\n device \\n timestamp \\n nonce \\n sha256(body)

The server keeps a replay window on the timestamp and remembers nonces inside it, so a
replayed request fails even when its signature is valid.

Never: accept a signature without checking it, or put key bytes in an exception or log.
"""

from __future__ import annotations

import hashlib
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from apprentice.errors import VerificationError

SEED_SIZE = 32
PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
NONCE_HEX = 32
_PREFIX = "APPRENTICE-REQUEST-V1"


def signing_public_key(seed: bytes) -> bytes:
    """Return the raw Ed25519 public key for a 32-byte private seed (e.g. a key file)."""
    return _private(seed).public_key().public_bytes_raw()


def sign(seed: bytes, message: bytes) -> bytes:
    """Return the 64-byte Ed25519 signature of ``message`` under the private ``seed``."""
    return _private(seed).sign(message)


def verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Return quietly if ``signature`` is valid for ``message``; raise VerificationError if not."""
    if len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        raise VerificationError()
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise VerificationError() from None


def new_nonce() -> str:
    """A fresh random request nonce: 128 bits as 32 lowercase hex digits."""
    return secrets.token_hex(NONCE_HEX // 2)


def request_message(
    method: str, path: str, device: str, timestamp: int, nonce: str, body: bytes,
    *, body_sha256: str | None = None,
) -> bytes:
    """The exact bytes a device signs for one request (see the module docstring).

    ``body_sha256``: the body's lowercase hex SHA-256 when the caller has it already (the
    collector hashes an upload once, for this and for the chunk id); ``body`` is then unused.
    """
    for part in (method, path, device, nonce):
        if "\n" in part:
            raise ValueError("request fields must not contain newlines")
    digest = hashlib.sha256(body).hexdigest() if body_sha256 is None else body_sha256
    lines = (_PREFIX, method.upper(), path, device, str(int(timestamp)), nonce, digest)
    return "\n".join(lines).encode("utf-8")


def _private(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != SEED_SIZE:
        raise ValueError(f"signing key seed must be {SEED_SIZE} bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)
