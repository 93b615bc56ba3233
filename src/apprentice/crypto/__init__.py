"""The only package that touches cryptographic primitives.

Everything else calls the recipes exported here; AES-GCM, HKDF and key files stay inside.
"""

from apprentice.crypto.aead import KEY_SIZE, RecordCipher
from apprentice.crypto.keyfile import create_key_file, load_key_file

__all__ = ["KEY_SIZE", "RecordCipher", "create_key_file", "load_key_file"]
