"""Device key files: 32 random bytes, hex-encoded, in a file only its owner can read.

The spool key lives outside the spool folder (default ``~/.config/apprentice/keys``), so
copying the spool — a backup, a support bundle, a stolen folder — copies ciphertext only.
Loading refuses a key file that group or others can read or write, or that another user
owns: a key someone else could have read is not a key we trust (fail closed).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from apprentice.crypto.aead import KEY_SIZE
from apprentice.errors import KeyFileError


def create_key_file(path: Path) -> bytes:
    """Create a new random key at ``path`` (mode 0600, folder 0700) and return it.

    Refuses to overwrite an existing file: losing a key makes its spool unreadable.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _check_private_dir(path.parent)
    key = secrets.token_bytes(KEY_SIZE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


def load_key_file(path: Path) -> bytes:
    """Read a key created by :func:`create_key_file`, checking who can read it."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyFileError(
            f"key file {path} not found; the spool cannot be read without it"
        ) from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"key file {path} is accessible to other users (mode {stat.S_IMODE(info.st_mode):o});"
            f" run: chmod 600 {path}"
        )
    if info.st_uid != os.getuid():
        raise KeyFileError(f"key file {path} is owned by another user; refusing to use it")
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        raise KeyFileError(f"key file {path} is malformed (expected {KEY_SIZE} hex bytes)") from None
    if len(key) != KEY_SIZE:
        raise KeyFileError(f"key file {path} is malformed (expected {KEY_SIZE} hex bytes)")
    return key


def _check_private_dir(folder: Path) -> None:
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        os.chmod(folder, 0o700)
