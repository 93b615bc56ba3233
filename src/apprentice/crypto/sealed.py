"""Sealing upload chunks to a contributor's public key (HPKE, RFC 9180).

Threat: the collector, its database, its bucket and anyone who can read them (a wrong
access list, a leaked backup) must learn nothing about a chunk's content, and must not be
able to pass one contributor's chunk off as another's. So the device seals every chunk to
its contributor's X25519 public key; only the holder of the matching private key — the
pipeline identity, after unwrapping it — can open it.

Construction: RFC 9180 HPKE in base mode with the suite DHKEM(X25519, HKDF-SHA256),
HKDF-SHA256, AES-256-GCM (the pyca implementation). Each chunk gets a fresh ephemeral key
pair, so each chunk is encrypted under its own content key. The plaintext header (who the
chunk claims to be from) is bound into the HPKE key schedule as ``info`` (RFC 9180 §5.1),
so a chunk whose header was changed — another contributor, device or origin — does not
open. The layout, all integers big-endian::

    chunk   = "APCHUNK1" (8) ‖ header_len u16 ‖ header ‖ enc (32) ‖ ciphertext ‖ tag (16)
    header  = canonical JSON {"c": contributor, "d": device, "k": key id, "o": origin, "v": 1}
    info    = "apprentice chunk v1" ‖ 0x00 ‖ header

``origin`` is the device's own name for what the chunk holds (spool id and segment);
``key id`` names the contributor key pair (:func:`key_id`). A chunk's id on the server is
the SHA-256 of all of its bytes (:func:`chunk_id`), so the id commits to the header too.

Never: reuse an ephemeral key, return plaintext that did not authenticate, or put key bytes
in an exception or log.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from apprentice.errors import DecryptionError, MalformedChunk

MAGIC = b"APCHUNK1"
PUBLIC_KEY_SIZE = 32
PRIVATE_KEY_SIZE = 32
ENC_SIZE = 32
TAG_SIZE = 16
MAX_HEADER = 1024
_INFO_PREFIX = b"apprentice chunk v1\x00"
_LEN = struct.Struct(">H")
# The first bytes of a chunk that always hold its whole header (for a reader that streams it).
HEAD_BYTES = len(MAGIC) + _LEN.size + MAX_HEADER
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
# Identifiers travel in headers, URLs and logs: a short, plain alphabet only.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


@dataclass(frozen=True, slots=True)
class ChunkHeader:
    """Who a sealed chunk says it is from. Readable by the collector; bound by the seal."""

    contributor: str
    device: str
    key_id: str
    origin: str

    def encode(self) -> bytes:
        for name in ("contributor", "device", "key_id", "origin"):
            if not _ID.match(getattr(self, name)):
                raise ValueError(f"chunk header field {name} is not a valid identifier")
        doc = {"c": self.contributor, "d": self.device, "k": self.key_id, "o": self.origin, "v": 1}
        return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode("ascii")


def generate_key_pair() -> tuple[bytes, bytes]:
    """Return a new X25519 (private, public) key pair as raw 32-byte strings."""
    private = X25519PrivateKey.generate()
    return private.private_bytes_raw(), private.public_key().public_bytes_raw()


def public_key_of(private_key: bytes) -> bytes:
    """Return the raw public key that belongs to a raw X25519 private key."""
    return _private(private_key).public_key().public_bytes_raw()


def key_id(public_key: bytes) -> str:
    """A short, stable name for a contributor key pair: 16 hex digits of SHA-256(public)."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise ValueError(f"public key must be {PUBLIC_KEY_SIZE} bytes")
    return hashlib.sha256(b"apprentice key id\x00" + public_key).hexdigest()[:16]


def chunk_id(sealed: bytes) -> str:
    """The content address of a sealed chunk: lowercase hex SHA-256 of all its bytes."""
    return hashlib.sha256(sealed).hexdigest()


def seal_chunk(plaintext: bytes, public_key: bytes, header: ChunkHeader) -> bytes:
    """Encrypt ``plaintext`` to the contributor ``public_key``, binding ``header``.

    Raises ValueError if the key or the header is malformed (checked before any work).
    """
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise ValueError(f"public key must be {PUBLIC_KEY_SIZE} bytes")
    if header.key_id != key_id(public_key):
        raise ValueError("chunk header names a different key than the one sealed to")
    encoded = header.encode()
    recipient = X25519PublicKey.from_public_bytes(public_key)
    body = _SUITE.encrypt(plaintext, recipient, info=_INFO_PREFIX + encoded)
    return MAGIC + _LEN.pack(len(encoded)) + encoded + body


def read_header(sealed: bytes, *, size: int | None = None) -> ChunkHeader:
    """Parse the plaintext header of a sealed chunk without opening it.

    This is all the collector can see. Raises MalformedChunk for anything that is not a
    well-formed chunk (wrong magic, bad lengths, unknown fields, truncated body). ``size``:
    the whole chunk's length when ``sealed`` is only its first :data:`HEAD_BYTES` (or more).
    """
    header, _ = _split(sealed, len(sealed) if size is None else size)
    return header


def open_chunk(sealed: bytes, private_key: bytes) -> tuple[ChunkHeader, bytes]:
    """Return the header and the plaintext, or raise DecryptionError if anything is off."""
    key = _private(private_key)
    try:
        header, encoded = _split(sealed)
    except MalformedChunk:
        raise DecryptionError() from None
    if header.key_id != key_id(key.public_key().public_bytes_raw()):
        raise DecryptionError()
    body = sealed[len(MAGIC) + _LEN.size + len(encoded) :]
    try:
        return header, _SUITE.decrypt(body, key, info=_INFO_PREFIX + encoded)
    except (InvalidTag, ValueError):
        raise DecryptionError() from None


def _split(sealed: bytes, size_of_all: int | None = None) -> tuple[ChunkHeader, bytes]:
    total = len(sealed) if size_of_all is None else size_of_all
    if len(sealed) < len(MAGIC) + _LEN.size or sealed[: len(MAGIC)] != MAGIC:
        raise MalformedChunk("not a sealed chunk (bad magic)")
    (size,) = _LEN.unpack_from(sealed, len(MAGIC))
    start = len(MAGIC) + _LEN.size
    if size == 0 or size > MAX_HEADER:
        raise MalformedChunk("sealed chunk header has an invalid length")
    if total < start + size + ENC_SIZE + TAG_SIZE or len(sealed) < start + size:
        raise MalformedChunk("sealed chunk is truncated")
    encoded = sealed[start : start + size]
    try:
        doc = json.loads(encoded.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise MalformedChunk("sealed chunk header is not valid JSON") from None
    if not isinstance(doc, dict) or set(doc) != {"c", "d", "k", "o", "v"} or doc["v"] != 1:
        raise MalformedChunk("sealed chunk header has unexpected fields or version")
    if not all(isinstance(doc[k], str) and _ID.match(doc[k]) for k in "cdko"):
        raise MalformedChunk("sealed chunk header has an invalid identifier")
    header = ChunkHeader(doc["c"], doc["d"], doc["k"], doc["o"])
    if header.encode() != encoded:
        raise MalformedChunk("sealed chunk header is not in canonical form")
    return header, encoded


def _private(private_key: bytes) -> X25519PrivateKey:
    if len(private_key) != PRIVATE_KEY_SIZE:
        raise ValueError(f"private key must be {PRIVATE_KEY_SIZE} bytes")
    return X25519PrivateKey.from_private_bytes(private_key)
