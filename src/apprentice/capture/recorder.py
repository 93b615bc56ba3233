"""Running a recording from start to a clean stop: the glue behind ``apprentice record``.

Stops on the deadline, on ``stop_event`` (set by the CLI's SIGINT/SIGTERM handlers), or
when the caller's ``should_stop`` says so; in every case the spool is drained and closed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from apprentice.capture.config import CaptureConfig
from apprentice.capture.inputs import open_input_source
from apprentice.capture.platform import check_recordable
from apprentice.capture.screens import open_screen_source
from apprentice.capture.session import CaptureSession
from apprentice.capture.window import open_window_source
from apprentice.spool import open_sink


@dataclass
class Recording:
    out: Path
    session_id: str
    events: int
    frames_stored: int
    spool_bytes: int
    seconds: float


def record_until(
    out: Path,
    *,
    duration: float | None,
    stop_event: threading.Event,
    config: CaptureConfig | None = None,
    key_file: Path | None = None,
    display: str | None = None,
    on_started: Callable[[CaptureSession], None] | None = None,
) -> Recording:
    """Record to the spool at ``out`` until the duration passes or ``stop_event`` is set."""
    if display:
        os.environ["DISPLAY"] = display
    platform = check_recordable()
    config = config or CaptureConfig()
    sink = open_sink(
        out, key_file, max_total_bytes=config.max_spool_bytes,
        flush_interval=config.flush_interval, fsync_interval=config.fsync_interval,
    )
    session = CaptureSession(
        sink, open_input_source("pynput"), open_window_source("auto"),
        lambda: open_screen_source("mss"), config, platform=platform,
    )
    started = time.monotonic()
    session.start()
    try:
        if on_started is not None:
            on_started(session)
        stop_event.wait(duration)
    finally:
        session.stop()
    return Recording(
        out=out,
        session_id=session.session_id,
        events=sink.stats.events_written,
        frames_stored=sink.stats.frames_written,
        spool_bytes=sum(p.stat().st_size for p in (out / "segments").iterdir()),
        seconds=time.monotonic() - started,
    )
