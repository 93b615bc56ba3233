"""Appending to a spool: segment rotation, the total size cap and its drop order.

Drop order when the spool is over its cap (``max_total_bytes``): the oldest frame segments
go first, then the oldest event segments. Screenshots are the bulk and the least
precious; input events are the training signal. Every drop is reported through
``on_drop`` so that the recorder can write a ``gap`` event saying what went and why.

A full disk is treated the same way: a frame that cannot be written is dropped and
reported; an event batch that cannot be written raises, so the caller keeps it and
retries (events are never dropped silently).

One writer thread owns a SpoolWriter; it is not thread-safe.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from apprentice import events as ev
from apprentice.errors import SpoolError
from apprentice.spool.codec import FrameBlob, encode_events, encode_frame
from apprentice.spool.layout import SpoolLayout
from apprentice.spool.segment import SegmentWriter

DropReport = Callable[[dict[str, Any]], None]
_SEGMENT_NAME = re.compile(r"^(\d{8})\.(ev|fr)\.seg$")


def list_segments(folder: Path) -> list[tuple[int, str, Path]]:
    """Return (number, stream, path) for every segment, oldest first."""
    found = []
    for path in folder.iterdir() if folder.exists() else ():
        match = _SEGMENT_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), match.group(2), path))
    return sorted(found)


class SpoolWriter:
    def __init__(
        self,
        layout: SpoolLayout,
        key: bytes,
        *,
        segment_bytes: int = 8 * 1024 * 1024,
        frame_segment_bytes: int = 32 * 1024 * 1024,
        max_total_bytes: int = 2 * 1024 * 1024 * 1024,
        on_drop: DropReport | None = None,
    ) -> None:
        self._layout = layout
        self._key = key
        self._lock_fd = _lock_writer(layout.root)
        self._limits = {"ev": segment_bytes, "fr": frame_segment_bytes}
        self._max_total = max_total_bytes
        self._on_drop = on_drop or (lambda info: None)
        existing = list_segments(layout.segments)
        self._next_number = (existing[-1][0] + 1) if existing else 1
        self._sizes: dict[Path, int] = {p: p.stat().st_size for _, _, p in existing}
        self._frames_in: dict[Path, int] = {}
        self._open: dict[str, SegmentWriter] = {}
        self._dirty = False
        self.bytes_written = 0

    @property
    def total_bytes(self) -> int:
        return sum(self._sizes.values())

    def write_events(self, batch: Iterable[ev.Event]) -> None:
        """Append one batch as one record. Raises OSError if the disk refuses it."""
        self._append("ev", encode_events(batch))

    def write_frame(self, frame: FrameBlob) -> bool:
        """Append one image; return False (and report the drop) if it cannot be kept."""
        payload = encode_frame(frame)
        if self.total_bytes + len(payload) > self._max_total:
            self._free_space(len(payload))  # forgets uploaded segments first
        if self.total_bytes + len(payload) > self._max_total:
            self._on_drop({"reason": "spool_full", "stream": "frames", "dropped_frames": 1})
            return False
        try:
            self._append("fr", payload)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            self._on_drop({"reason": "disk_full", "stream": "frames", "dropped_frames": 1})
            return False
        current = self._open["fr"].path
        self._frames_in[current] = self._frames_in.get(current, 0) + 1
        return True

    def sync(self) -> None:
        """fsync every open segment that has unsynced writes."""
        if self._dirty:
            for segment in self._open.values():
                segment.sync()
            self._dirty = False

    def close(self) -> None:
        for segment in self._open.values():
            segment.close()
        self._open.clear()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # releases the writer lock
            self._lock_fd = -1

    def _append(self, stream: str, payload: bytes) -> None:
        segment = self._open.get(stream)
        if segment is not None and segment.size + len(payload) > self._limits[stream]:
            segment.close()
            segment = None
        if segment is None:
            path = self._layout.segments / f"{self._next_number:08d}.{stream}.seg"
            self._next_number += 1
            segment = self._open[stream] = SegmentWriter(path, self._key, stream)
        written = segment.append(payload)
        self._sizes[segment.path] = segment.size
        self.bytes_written += written
        self._dirty = True
        if stream == "ev" and self.total_bytes > self._max_total:
            self._free_space(0)

    def _forget_uploaded(self) -> None:
        """Stop counting segments the uploader has already sent and deleted."""
        for path in [p for p in self._sizes if not p.exists()]:
            del self._sizes[path]
            self._frames_in.pop(path, None)

    def _free_space(self, needed: int) -> None:
        """Delete whole segments, frames first, until ``needed`` more bytes fit under the cap."""
        self._forget_uploaded()
        for stream in ("fr", "ev"):
            for _, kind, path in list_segments(self._layout.segments):
                if self.total_bytes + needed <= self._max_total:
                    return
                if kind != stream or self._is_open(path):
                    continue
                size = self._sizes.pop(path, 0)
                path.unlink(missing_ok=True)
                info: dict[str, Any] = {"reason": "spool_cap", "stream": _STREAM_NAMES[kind]}
                info["dropped_bytes"] = size
                if kind == "fr":
                    info["dropped_frames"] = self._frames_in.pop(path, None)
                self._on_drop(info)

    def _is_open(self, path: Path) -> bool:
        return any(segment.path == path for segment in self._open.values())


_STREAM_NAMES = {"ev": "events", "fr": "frames"}
WRITER_LOCK = "writer.lock"


def _lock_writer(root: Path) -> int:
    """Take the spool's writer lock: one recorder per spool, and uploaders can tell
    whether the newest segments may still grow (see :func:`writer_active`)."""
    fd = os.open(root / WRITER_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SpoolError(f"another recorder is writing to {root}; stop it first") from None
    return fd


def writer_active(root: Path) -> bool:
    """True while a SpoolWriter holds the spool open (its newest segments may still grow)."""
    try:
        fd = os.open(root / WRITER_LOCK, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def closed_segments(root: Path) -> list[tuple[int, str, Path]]:
    """Segments that will never be appended to again, oldest first (safe to upload)."""
    segments = list_segments(root / "segments")
    if not writer_active(root):
        return segments
    newest: dict[str, int] = {}
    for number, kind, _ in segments:
        newest[kind] = number
    return [s for s in segments if s[0] != newest[s[1]]]
