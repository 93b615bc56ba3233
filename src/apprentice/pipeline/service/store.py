"""The pipeline's files at rest, every one sealed: staged event chunks, redacted frames,
episode records — and the keys that seal them, kept outside the data folder.

    <key dir>/pipeline-state.key      32 random bytes, 0600: staging and the episode store
    <key dir>/dataset-<name>.key      one per dataset: its shards and its pseudonyms
    <data dir>/staging/events/<chunk id>      a decrypted chunk's event records, re-sealed
    <data dir>/store/images/<sha256>.<ext>    a frame after the second-pass redaction
    <data dir>/store/episodes/<episode id>    an episode record (pseudonymised rows)

Nothing is written in plaintext, ever: what the pipeline decrypts stays in memory until it
is sealed again with :class:`~apprentice.crypto.BlobCipher` (deterministic, so a retry
writes the same bytes). Each file's kind and name are bound as associated data. A key
file inside the data folder is refused.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from apprentice import paths
from apprentice.crypto import BlobCipher, create_key_file, load_key_file
from apprentice.errors import ConfigError
from apprentice.fileio import write_atomically

STATE_KEY = "pipeline-state.key"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_dataset_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(f"dataset name {name!r} must be 1-64 of a-z, 0-9, '-', '_'")
    return name


def default_key_dir() -> Path:
    return paths.key_dir()


def load_or_create_key(key_dir: Path, name: str, data_dir: Path | None = None) -> bytes:
    """The key ``key_dir/name``, created (0600, folder 0700) if it does not exist yet."""
    path = Path(key_dir) / name
    if data_dir is not None:
        resolved, data = path.resolve(), Path(data_dir).resolve()
        if data == resolved.parent or data in resolved.parents:
            raise ConfigError(f"key folder {key_dir} is inside the data folder {data_dir}; "
                              "keep keys outside every data folder (--key-dir)")
    if path.exists():
        return load_key_file(path)
    return create_key_file(path)


class SealedFiles:
    """Sealed files under one root, one AEAD key, addressed by (kind, name)."""

    def __init__(self, root: Path, key: bytes) -> None:
        self.root = Path(root)
        self._cipher = BlobCipher(key)

    def _path(self, kind: str, name: str) -> Path:
        if "/" in name or name.startswith("."):
            raise ValueError("sealed file names are flat")
        return self.root / kind / name

    def put(self, kind: str, name: str, data: bytes) -> None:
        path = self._path(kind, name)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomically(path, self._cipher.seal(data, f"{kind}/{name}".encode()))

    def get(self, kind: str, name: str) -> bytes:
        """The plaintext; KeyError if there is no such file."""
        try:
            sealed = self._path(kind, name).read_bytes()
        except FileNotFoundError:
            raise KeyError(name) from None
        return self._cipher.open(sealed, f"{kind}/{name}".encode())

    def has(self, kind: str, name: str) -> bool:
        return self._path(kind, name).is_file()

    def delete(self, kind: str, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(kind, name).unlink()

    def names(self, kind: str) -> list[str]:
        folder = self.root / kind
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
