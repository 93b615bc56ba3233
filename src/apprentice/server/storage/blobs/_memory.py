"""An in-process blob store for tests and ``--demo``; everything is lost at exit."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from apprentice.authz import AccessGrant, check_grant
from apprentice.server.storage.blobs.base import BlobNotFound, check_key


class MemoryBlobStore:
    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def writer(self, key: str) -> _Staged:
        return _Staged(self, check_key(key))

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self._blobs[check_key(key)] = bytes(data)

    def get(self, key: str, *, grant: AccessGrant) -> bytes:
        check_grant(grant, key)
        with self._lock:
            try:
                return self._blobs[check_key(key)]
            except KeyError:
                raise BlobNotFound(key) from None

    def delete(self, key: str) -> None:
        with self._lock:
            self._blobs.pop(check_key(key), None)

    def keys(self, prefix: str = "") -> Iterator[str]:
        with self._lock:
            found = [k for k in self._blobs if k.startswith(prefix)]
        yield from found


class _Staged:
    def __init__(self, store: MemoryBlobStore, key: str) -> None:
        self._store, self._key = store, key
        self._parts: list[bytes] | None = []

    def write(self, data: bytes) -> None:
        if self._parts is None:
            raise ValueError("this blob was committed or aborted already")
        self._parts.append(bytes(data))

    def commit(self) -> None:
        if self._parts is None:
            raise ValueError("this blob was committed or aborted already")
        self._store.put(self._key, b"".join(self._parts))
        self._parts = None

    def abort(self) -> None:
        self._parts = None


def open_store(url: str) -> MemoryBlobStore:
    return MemoryBlobStore()
