"""The blob store protocol: a flat namespace of immutable, content-addressed byte strings.

The collector only ever stores sealed chunks here (ciphertext it cannot open) under keys
that are their SHA-256, so a store that is read by the wrong people exposes nothing, and a
put that is repeated — a retry, a restart — stores the same bytes under the same key once.
Every member of the registry (``apprentice.server.storage.blobs``) passes the contract
suite in ``tests/contract/test_blob_stores.py``.

A large blob need not be held in memory: :meth:`BlobStore.writer` stages it piece by piece
and :meth:`BlobWriter.commit` stores it under its key with the same guarantees as ``put``
(the collector streams uploads this way, docs/collector.md "Bounded memory").

Reading is the one guarded operation: ``get`` needs an
:class:`~apprentice.authz.AccessGrant` for the chunk, which only the authoriser mints after
an allow for ``read`` on that ``RawChunk`` (docs/authorization.md). Writing, deleting and
listing keys reveal no content and need none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from apprentice.authz import AccessGrant


class BlobNotFound(KeyError):
    """No blob is stored under the key."""


class BlobStoreUnavailable(Exception):
    """The store could not be reached or refused the write (a network store's outage); the
    message names the kind of failure only. The collector answers 503: the device retries."""


class BlobWriter(Protocol):
    """One blob being staged: nothing is visible under its key until :meth:`commit`."""

    def write(self, data: bytes) -> None:
        """Append ``data`` to the staged blob."""

    def commit(self) -> None:
        """Store what was written under the key, durably and atomically, as ``put`` does."""

    def abort(self) -> None:
        """Throw the staged bytes away (safe to call twice, and after a commit: no-op)."""


class BlobStore(Protocol):
    def writer(self, key: str) -> BlobWriter:
        """Start staging a blob for ``key`` (the key is checked now)."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` durably and atomically (all or nothing).

        Putting the same bytes under the same key again is a no-op success. Returns only
        once the data would survive a crash of this process.
        """

    def get(self, key: str, *, grant: AccessGrant) -> bytes:
        """Return the bytes stored under ``key``; raise BlobNotFound if there are none, and
        GrantError (before touching storage) unless ``grant`` is for this chunk."""

    def delete(self, key: str) -> None:
        """Remove ``key`` if present (deleting a missing key is not an error)."""

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Yield every stored key that starts with ``prefix``, in no particular order."""


def check_key(key: str) -> str:
    """Keys are ``[a-z0-9/]`` paths without empty, ``.`` or ``..`` parts (no traversal)."""
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") for p in parts) or not all(
        c.isascii() and (c.isalnum() or c in "/-_.") for c in key
    ):
        raise ValueError("invalid blob key")
    return key
