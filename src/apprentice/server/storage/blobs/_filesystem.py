"""Blobs as files under one folder (the embedded default): ``ROOT/ab/abcdef….blob``.

Every blob, streamed (:meth:`FilesystemBlobStore.writer`) or put whole, is written to a file
in ``ROOT/.staging`` (same file system, so the rename is atomic), fsynced, renamed into place
and its folder fsynced: a crash leaves either the whole blob or nothing, and a write that
returned survives a crash. Staged files a crash left behind are removed at the next start
once they are an hour old (a younger one may belong to another collector process sharing the
folder). Folders are 0700 and files 0600: the store refuses to start in a folder others can
read.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from apprentice.authz import AccessGrant, check_grant
from apprentice.errors import ConfigError
from apprentice.fileio import fsync_dir
from apprentice.server.storage.blobs.base import BlobNotFound, check_key

_SUFFIX = ".blob"
_STAGING = ".staging"
_STALE_STAGED_S = 3600


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
        self.staging.mkdir(mode=0o700, exist_ok=True)
        cutoff = time.time() - _STALE_STAGED_S
        for left in self.staging.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if left.stat().st_mtime < cutoff:
                    left.unlink()
        return self

    @property
    def staging(self) -> Path:
        return self.root / _STAGING

    def writer(self, key: str) -> _StagedFile:
        return _StagedFile(self, self._path(key))

    def _folder_for(self, path: Path) -> None:
        if path.parent not in self._folders:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._folders.add(path.parent)

    def _path(self, key: str) -> Path:
        return self.root / (check_key(key) + _SUFFIX)

    def put(self, key: str, data: bytes) -> None:
        writer = self.writer(key)
        try:
            writer.write(data)
            writer.commit()
        finally:
            writer.abort()  # after a commit: nothing to do

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


class _StagedFile:
    """A blob being written to ``ROOT/.staging``; renamed to its key's path on commit."""

    def __init__(self, store: FilesystemBlobStore, path: Path) -> None:
        self._store = store
        self._path = path
        try:
            self._fd, name = tempfile.mkstemp(prefix=".", suffix=".part", dir=store.staging)
        except FileNotFoundError:  # the staging folder was removed behind our back
            store.staging.mkdir(mode=0o700, exist_ok=True)
            self._fd, name = tempfile.mkstemp(prefix=".", suffix=".part", dir=store.staging)
        self._staged: Path | None = Path(name)

    def write(self, data: bytes) -> None:
        if self._fd < 0:
            raise ValueError("this blob was committed or aborted already")
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def commit(self) -> None:
        if self._fd < 0 or self._staged is None:
            raise ValueError("this blob was committed or aborted already")
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = -1
        self._store._folder_for(self._path)
        try:
            os.replace(self._staged, self._path)
        except FileNotFoundError:  # the key's folder was removed behind our back: make it again
            self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.replace(self._staged, self._path)
        self._staged = None
        fsync_dir(self._path.parent)

    def abort(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._staged is not None:
            with contextlib.suppress(FileNotFoundError):
                self._staged.unlink()
            self._staged = None


def open_store(url: str) -> FilesystemBlobStore:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ConfigError(f"file blob store URL must be file:///absolute/path, not {url!r}")
    return FilesystemBlobStore(Path(unquote(parts.path))).prepare()
