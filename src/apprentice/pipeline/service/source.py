"""Where the pipeline reads sealed chunks and wrapped keys from: the collector's pipeline API.

``ChunkSource`` is what the worker needs (INTERFACES.md §2): list chunks in receipt order
after a cursor, fetch one chunk's sealed bytes, fetch a contributor's *wrapped* key, list
tombstones, and list contributors' deletions after a cursor (docs/governance.md).
:class:`HttpChunkSource` speaks the collector's API as the Pipeline identity (bearer token,
purpose ``processing``), retrying network errors, 5xx and 429 with exponential backoff and
full jitter. :class:`MemoryChunkSource` holds the same data in memory for tests and
benchmarks: chunks really sealed with the real crypto, keys really wrapped. Both are
picklable, so executor processes (and Ray tasks) rebuild the source themselves and no key
ever crosses a process boundary.

Nothing here logs a token, a key, a contributor id or a chunk's content.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from apprentice.errors import SourceError
from apprentice.keys.base import WrappedKey

PURPOSE_HEADER = "X-Apprentice-Purpose"
PURPOSE = "processing"


@dataclass(frozen=True, slots=True)
class ChunkRef:
    """One stored chunk as the collector lists it (metadata only)."""

    chunk_id: str
    contributor_id: str
    device_id: str
    key_id: str
    size: int
    received_at: str
    cursor: str


@dataclass(frozen=True, slots=True)
class ChunkPage:
    chunks: tuple[ChunkRef, ...]
    next: str | None


@dataclass(frozen=True, slots=True)
class Tombstone:
    contributor_id: str
    forgotten_at: str


@dataclass(frozen=True, slots=True)
class Deletion:
    """A contributor deleted chunks (a receipt-time range, or everything: both bounds None)."""

    deletion_id: str
    contributor_id: str
    received_from: str | None
    received_to: str | None
    requested_at: str
    chunk_ids: tuple[str, ...]
    cursor: str


class ChunkSource(Protocol):
    def list_chunks(self, after: str | None, limit: int) -> ChunkPage:
        """Chunks received after ``after`` (None: from the start), oldest first."""

    def fetch(self, chunk_id: str) -> bytes | None:
        """The sealed bytes, or None if the chunk was deleted (forgotten, retention)."""

    def wrapped_key(self, contributor_id: str) -> WrappedKey | None:
        """The contributor's wrapped private key, or None once they are forgotten."""

    def tombstones(self) -> list[Tombstone]:
        """Every contributor who was forgotten, with when."""

    def deletions(self, after: str | None) -> list[Deletion]:
        """Every deletion made after ``after`` (None: from the start), oldest first."""


@dataclass
class MemoryChunkSource:
    """The collector's pipeline API in memory (tests, benchmarks). Ciphertext only."""

    chunks: list[tuple[ChunkRef, bytes]] = field(default_factory=list)
    keys: dict[str, WrappedKey] = field(default_factory=dict)
    forgotten: dict[str, str] = field(default_factory=dict)
    deleted: list[Deletion] = field(default_factory=list)

    def add_key(self, key: WrappedKey) -> None:
        self.keys[key.contributor_id] = key

    def add_chunk(self, sealed: bytes, contributor_id: str, device_id: str, key_id: str,
                  received_at: str = "2026-03-01T09:00:00Z", cursor: int | None = None) -> ChunkRef:
        """Store a chunk; ``cursor`` (default: after every other) lets a test commit a chunk
        late under a sequence number lower than ones already listed, as PostgreSQL can."""
        from apprentice.crypto import chunk_id

        number = cursor if cursor is not None else 1 + max((int(r.cursor) for r, _ in self.chunks), default=0)
        ref = ChunkRef(chunk_id(sealed), contributor_id, device_id, key_id, len(sealed),
                       received_at, str(number))
        if all(r.chunk_id != ref.chunk_id for r, _ in self.chunks):
            self.chunks.append((ref, sealed))
            self.chunks.sort(key=lambda item: int(item[0].cursor))
        return ref

    def delete(self, contributor_id: str, chunk_ids: list[str] | None = None,
               at: str = "2026-03-02T10:00:00Z") -> Deletion:
        """What the collector's ``DELETE /me/data`` does: chunks deleted, a deletion record."""
        gone = [r.chunk_id for r, _ in self.chunks if r.contributor_id == contributor_id
                and (chunk_ids is None or r.chunk_id in chunk_ids)]
        self.chunks = [(r, s) for r, s in self.chunks if r.chunk_id not in gone]
        entry = Deletion(str(len(self.deleted) + 1), contributor_id, None, None, at, tuple(gone),
                         str(len(self.deleted) + 1))
        self.deleted.append(entry)
        return entry

    def forget(self, contributor_id: str, at: str = "2026-03-02T09:00:00Z") -> None:
        """What the collector's forget does: key destroyed, chunks deleted, tombstone."""
        self.keys.pop(contributor_id, None)
        self.chunks = [(r, s) for r, s in self.chunks if r.contributor_id != contributor_id]
        self.forgotten[contributor_id] = at

    def list_chunks(self, after: str | None, limit: int) -> ChunkPage:
        start = int(after) if after else 0
        page = [r for r, _ in self.chunks if int(r.cursor) > start][:limit]
        more = any(int(r.cursor) > int(page[-1].cursor) for r, _ in self.chunks) if page else False
        return ChunkPage(tuple(page), page[-1].cursor if page and more else None)

    def fetch(self, chunk_id: str) -> bytes | None:
        return next((s for r, s in self.chunks if r.chunk_id == chunk_id), None)

    def wrapped_key(self, contributor_id: str) -> WrappedKey | None:
        return self.keys.get(contributor_id)

    def tombstones(self) -> list[Tombstone]:
        return [Tombstone(c, at) for c, at in sorted(self.forgotten.items())]

    def deletions(self, after: str | None) -> list[Deletion]:
        start = int(after) if after else 0
        return [d for d in self.deleted if int(d.cursor) > start]


class HttpChunkSource:
    """The collector's pipeline API over HTTP, as the Pipeline identity (INTERFACES §2).

    ``token_file`` holds the pipeline's bearer token (``apa_…``); it is read when the
    client is first used, so a pickled source carries a path, never the token.
    """

    def __init__(self, base_url: str, token_file: Path, *, timeout: float = 30.0,
                 max_attempts: int = 6, base_delay: float = 0.5, max_delay: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep,
                 transport: Any = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_file = Path(token_file)
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.base_delay, self.max_delay = base_delay, max_delay
        self._sleep = sleep
        self._transport = transport
        self._client: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = None
        state["_sleep"] = time.sleep
        return state

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            try:
                token = self.token_file.read_text().strip()
            except OSError:
                raise SourceError(f"cannot read the pipeline token file {self.token_file}") from None
            if not token:
                raise SourceError(f"the pipeline token file {self.token_file} is empty")
            self._client = httpx.Client(
                base_url=self.base_url, timeout=self.timeout, transport=self._transport,
                headers={"Authorization": f"Bearer {token}", PURPOSE_HEADER: PURPOSE},
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _get(self, path: str, params: dict[str, Any] | None = None, ok: tuple[int, ...] = (200,)) -> Any:
        import httpx

        delay = self.base_delay
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._http().get(path, params=params)
            except httpx.HTTPError:
                response = None
            if response is not None and (response.status_code in ok or (
                    400 <= response.status_code < 500 and response.status_code != 429)):
                return response
            if attempt == self.max_attempts:
                break
            wait = random.uniform(0, delay)
            if response is not None and response.status_code == 429:
                retry_after = response.headers.get("Retry-After", "")
                wait = float(retry_after) if retry_after.isdigit() else wait
            self._sleep(min(wait, self.max_delay))
            delay = min(delay * 2, self.max_delay)
        raise SourceError(f"the collector at {self.base_url} did not answer {path.split('?')[0]} "
                          f"after {self.max_attempts} attempts; is it running?")

    def _json(self, response: Any, what: str) -> Any:
        if response.status_code != 200:
            raise SourceError(
                f"the collector refused {what} ({response.status_code}: {_error_code(response)}); "
                "check the pipeline token and its role", response.status_code)
        try:
            return response.json()
        except ValueError:
            raise SourceError(f"the collector's answer to {what} is not JSON") from None

    def list_chunks(self, after: str | None, limit: int) -> ChunkPage:
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        doc = self._json(self._get("/api/v1/pipeline/chunks", params), "the chunk list")
        try:
            chunks = tuple(
                ChunkRef(str(c["chunk_id"]), str(c["contributor_id"]), str(c["device_id"]),
                         str(c["key_id"]), int(c["size"]), str(c["received_at"]), str(c["cursor"]))
                for c in doc["chunks"]
            )
            nxt = doc.get("next")
        except (KeyError, TypeError, ValueError):
            raise SourceError("the collector's chunk list is malformed") from None
        return ChunkPage(chunks, None if nxt is None else str(nxt))

    def fetch(self, chunk_id: str) -> bytes | None:
        response = self._get(f"/api/v1/pipeline/chunks/{chunk_id}", ok=(200, 404, 410))
        if response.status_code in (404, 410):
            return None
        if response.status_code != 200:
            self._json(response, "a chunk")
        data: bytes = response.content
        return data

    def wrapped_key(self, contributor_id: str) -> WrappedKey | None:
        response = self._get(f"/api/v1/pipeline/keys/{contributor_id}", ok=(200, 404, 410))
        if response.status_code in (404, 410):
            return None
        doc = self._json(response, "a wrapped key")
        try:
            raw = str(doc["wrapped_private_key"])
            wrapped = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            return WrappedKey(str(doc["contributor_id"]), str(doc["key_id"]), wrapped)
        except (KeyError, TypeError, ValueError):
            raise SourceError("the collector's wrapped key answer is malformed") from None

    def tombstones(self) -> list[Tombstone]:
        doc = self._json(self._get("/api/v1/pipeline/tombstones"), "the tombstone list")
        try:
            return [Tombstone(str(t["contributor_id"]), str(t["forgotten_at"])) for t in doc["tombstones"]]
        except (KeyError, TypeError):
            raise SourceError("the collector's tombstone list is malformed") from None

    def deletions(self, after: str | None, page_size: int = 500) -> list[Deletion]:
        out: list[Deletion] = []
        cursor = after
        while True:
            params: dict[str, Any] = {"limit": page_size}
            if cursor is not None:
                params["after"] = cursor
            doc = self._json(self._get("/api/v1/pipeline/deletions", params), "the deletion list")
            try:
                page = [
                    Deletion(str(d["deletion_id"]), str(d["contributor_id"]), _opt(d.get("received_from")),
                             _opt(d.get("received_to")), str(d["requested_at"]),
                             tuple(str(c) for c in d["chunk_ids"]), str(d["cursor"]))
                    for d in doc["deletions"]
                ]
                nxt = doc.get("next")
            except (KeyError, TypeError):
                raise SourceError("the collector's deletion list is malformed") from None
            out += page
            if nxt is None or not page:
                return out
            cursor = str(nxt)


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _error_code(response: Any) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "unknown"
