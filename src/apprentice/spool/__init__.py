"""The device's durable, encrypted on-disk queue of captured events and frames.

Crash-safe by construction: records are appended and fsynced at least once a second, so a
``kill -9`` or power cut loses at most that window; readers detect and skip the torn tail.
Everything on disk is sealed with the device key, which lives outside the spool folder.
"""

from __future__ import annotations

from pathlib import Path

from apprentice.spool.codec import FrameBlob
from apprentice.spool.layout import SpoolLayout, create_or_open, default_key_dir, open_layout
from apprentice.spool.reader import SpoolReader, open_spool
from apprentice.spool.sink import SpoolSink
from apprentice.spool.writer import SpoolWriter

__all__ = [
    "FrameBlob",
    "SpoolLayout",
    "SpoolReader",
    "SpoolSink",
    "SpoolWriter",
    "create_or_open",
    "default_key_dir",
    "open_layout",
    "open_sink",
    "open_spool",
]


def open_sink(
    root: Path,
    key_file: Path | None = None,
    *,
    max_total_bytes: int = 2 * 1024 * 1024 * 1024,
    flush_interval: float = 0.2,
    fsync_interval: float = 1.0,
) -> SpoolSink:
    """Open (or create, with a new key) the spool at ``root`` and return its sink.

    The writer's drop reports (size cap, full disk) flow back into the sink as gap events.
    """
    layout, key = create_or_open(root, key_file)
    sink: SpoolSink | None = None

    def report(info: dict[str, object]) -> None:
        if sink is not None:
            sink.report_drop(info)

    writer = SpoolWriter(layout, key, max_total_bytes=max_total_bytes, on_drop=report)
    sink = SpoolSink(writer, flush_interval=flush_interval, fsync_interval=fsync_interval)
    return sink
