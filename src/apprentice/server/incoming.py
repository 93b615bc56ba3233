"""A chunk upload's body on its way in: hashed and staged in the blob store as it arrives.

Real chunks are spool segments of up to 32 MiB (docs/benchmarks.md, "Collector ingest"),
and hundreds of uploads are in flight at once, so the collector never holds a whole body:
:meth:`IncomingChunk.take` (on the event loop) only queues a received piece, and once
:data:`FLUSH_BYTES` are queued the route hands them to a worker thread
(:meth:`IncomingChunk.flush`), which hashes them and appends them to a staged blob
(``BlobStore.writer``). An upload therefore holds at most about ``FLUSH_BYTES`` in memory,
whatever its size, and a small chunk costs no extra thread hop: its one flush happens in the
hop that verifies and stores it, and a body refused before its first flush never touches
the blob store (the staged blob is opened lazily, in that first worker-thread flush).

The staged bytes are unverified until the signature over their hash and the chunk checks
pass; only then does :meth:`commit` put them under the chunk's key. Every other outcome ends
in :meth:`discard`, which leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from apprentice.crypto import HEAD_BYTES
from apprentice.server.storage.blobs.base import BlobWriter

FLUSH_BYTES = 1024 * 1024


class IncomingChunk:
    def __init__(self, open_writer: Callable[[], BlobWriter]) -> None:
        self._open_writer = open_writer
        self._writer: BlobWriter | None = None
        self._sha256 = hashlib.sha256()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._digest: str | None = None
        self._ended = False  # committed or discarded
        self.committed = False
        self.size = 0
        self.head = b""  # the first HEAD_BYTES: the plaintext header is in there

    @property
    def staged(self) -> bool:
        """Whether staged bytes wait in the blob store, neither committed nor discarded yet."""
        return self._writer is not None and not self._ended

    def take(self, part: bytes) -> bool:
        """Queue one received piece; True when enough is queued to :meth:`flush` now."""
        if len(self.head) < HEAD_BYTES:
            self.head += part[: HEAD_BYTES - len(self.head)]
        self._pending.append(part)
        self._pending_bytes += len(part)
        self.size += len(part)
        return self._pending_bytes >= FLUSH_BYTES

    def flush(self) -> None:
        """Hash and stage what is queued (in a worker thread: both take real time)."""
        if not self._pending:
            return
        if self._ended:
            raise ValueError("this upload was committed or discarded already")
        block = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending, self._pending_bytes = [], 0
        self._sha256.update(block)
        if self._writer is None:
            self._writer = self._open_writer()
        self._writer.write(block)

    def sha256(self) -> str:
        """The whole body's SHA-256 (hex), once the last piece was taken (flushes the rest)."""
        if self._digest is None:
            self.flush()
            self._digest = self._sha256.hexdigest()
        return self._digest

    def commit(self) -> None:
        """Store the staged body under the chunk's key (durable when this returns)."""
        self.flush()
        if self._ended:
            raise ValueError("this upload was committed or discarded already")
        if self._writer is None:  # an empty body
            self._writer = self._open_writer()
        self._writer.commit()
        self._ended = self.committed = True

    def discard(self) -> None:
        """Throw the staged body away; a no-op after a commit, and safe to repeat."""
        self._pending, self._pending_bytes = [], 0
        if self._writer is not None and not self.committed:
            self._writer.abort()
        self._ended = True
