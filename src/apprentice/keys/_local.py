"""The embedded master key: an X25519 key pair in two files outside every data folder.

    master.key   private half, 64 hex digits, mode 0600 — the pipeline identity only
    master.pub   public half, 64 hex digits — all the collector needs
"""

from __future__ import annotations

from pathlib import Path

from apprentice.crypto import create_key_file, load_key_file, unwrap_key, wrap_key
from apprentice.crypto.sealed import public_key_of
from apprentice.errors import ConfigError, KeyFileError


def _context(contributor_id: str, key_id: str) -> bytes:
    return f"{contributor_id}\x00{key_id}".encode()


class LocalMasterWrapper:
    def __init__(self, public_key: bytes) -> None:
        if len(public_key) != 32:
            raise ValueError("master public key must be 32 bytes")
        self._public = public_key

    def wrap(self, secret: bytes, contributor_id: str, key_id: str) -> bytes:
        return wrap_key(secret, self._public, _context(contributor_id, key_id))


class LocalMasterUnwrapper:
    def __init__(self, private_key: bytes) -> None:
        self._private = private_key

    def unwrap(self, wrapped: bytes, contributor_id: str, key_id: str) -> bytes:
        return unwrap_key(wrapped, self._private, _context(contributor_id, key_id))


def create_master_key(folder: Path) -> Path:
    """Create ``master.key`` (0600) and ``master.pub`` in ``folder``; return the .pub path."""
    private = create_key_file(folder / "master.key")
    pub = folder / "master.pub"
    pub.write_text(public_key_of(private).hex() + "\n")
    return pub


def load_wrapper(path: Path) -> LocalMasterWrapper:
    """The collector's half. Refuses a private key file: the collector must never hold it."""
    if path.suffix == ".key":
        raise ConfigError(
            f"{path} is the master private key; the collector takes only the public half (master.pub)"
        )
    try:
        public = bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        raise ConfigError(
            f"master public key {path} not found; create it with: apprentice keys init"
        ) from None
    except ValueError:
        raise ConfigError(f"master public key {path} is malformed (expected 64 hex digits)") from None
    if len(public) != 32:
        raise ConfigError(f"master public key {path} is malformed (expected 64 hex digits)")
    return LocalMasterWrapper(public)


def load_unwrapper(path: Path) -> LocalMasterUnwrapper:
    """The pipeline identity's half; refuses the public half and any key file others can read."""
    if path.suffix == ".pub":
        raise KeyFileError(f"{path} is the public half; unwrapping needs master.key")
    return LocalMasterUnwrapper(load_key_file(path))
