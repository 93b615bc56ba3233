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


def open_store(url: str) -> MemoryBlobStore:
    return MemoryBlobStore()
