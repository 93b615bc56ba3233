"""Blobs as files under one folder (the embedded default): ``ROOT/ab/abcdef….blob``.

A put writes a temporary file in the target folder, fsyncs it, renames it into place and
fsyncs the folder, so a crash leaves either the whole blob or nothing, and a put that
returned survives a crash. Folders are 0700 and files 0600: the store refuses to start in a
folder others can read.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from apprentice.authz import AccessGrant, check_grant
from apprentice.errors import ConfigError
from apprentice.fileio import fsync_dir, write_atomically
from apprentice.server.storage.blobs.base import BlobNotFound, check_key

_SUFFIX = ".blob"


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._folders: set[Path] = set()  # created already: a mkdir per put costs a syscall

    def prepare(self) -> FilesystemBlobStore:
        """Create the root (0700) or check an existing one is private; return self."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = stat.S_IMODE(self.root.stat().st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"blob folder {self.root} is accessible to other users (mode {mode:o}); "
                f"run: chmod 700 {self.root}"
            )
        return self

    def _path(self, key: str) -> Path:
        return self.root / (check_key(key) + _SUFFIX)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.parent not in self._folders:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._folders.add(path.parent)
        try:
            write_atomically(path, data)
        except FileNotFoundError:  # the folder was removed behind our back: make it again
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomically(path, data)

    def get(self, key: str, *, grant: AccessGrant) -> bytes:
        check_grant(grant, key)
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        fsync_dir(path.parent)

    def keys(self, prefix: str = "") -> Iterator[str]:
        for path in self.root.rglob("*" + _SUFFIX):
            if path.name.startswith("."):
                continue
            key = path.relative_to(self.root).as_posix()[: -len(_SUFFIX)]
            if key.startswith(prefix):
                yield key


def open_store(url: str) -> FilesystemBlobStore:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ConfigError(f"file blob store URL must be file:///absolute/path, not {url!r}")
    return FilesystemBlobStore(Path(unquote(parts.path))).prepare()
