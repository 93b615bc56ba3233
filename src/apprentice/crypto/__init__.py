"""The only package that touches cryptographic primitives.

Everything else calls the recipes exported here; AES-GCM, HKDF and key files stay inside.
"""

from apprentice.crypto.aead import KEY_SIZE, RecordCipher
from apprentice.crypto.blob import BlobCipher, derive_key, keyed_hash
from apprentice.crypto.keyfile import create_key_file, load_key_file
from apprentice.crypto.sealed import (
    HEAD_BYTES,
    ChunkHeader,
    chunk_id,
    key_id,
    open_chunk,
    read_header,
    seal_chunk,
)
from apprentice.crypto.signing import request_message, sign, signing_public_key, verify
from apprentice.crypto.wrap import unwrap_key, wrap_key

__all__ = [
    "HEAD_BYTES",
    "KEY_SIZE",
    "BlobCipher",
    "ChunkHeader",
    "RecordCipher",
    "chunk_id",
    "create_key_file",
    "derive_key",
    "key_id",
    "keyed_hash",
    "load_key_file",
    "open_chunk",
    "read_header",
    "request_message",
    "seal_chunk",
    "sign",
    "signing_public_key",
    "unwrap_key",
    "verify",
    "wrap_key",
]
