"""CaptureSession: the one public entry point of the recorder.

Wires input hooks, window context and the frame worker to the spool through one stamper
(one clock, one sequence). Hook callbacks do the least possible work — stamp, enqueue,
note what the frame worker needs — so input is never delayed by disk or image work.

Lifecycle: ``start()`` writes the ``control/start`` event with the session's single
wall-clock anchor and the monitor geometry; ``stop()`` stops the hooks first, then the
frame worker, writes ``control/stop`` with counts, and drains the spool.

Privacy: a ``gate`` (see ``apprentice.capture.gate``) sees every event before it is
stamped and may drop or replace it; the recorder has no path to the spool around it.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apprentice import __version__
from apprentice import events as ev
from apprentice.capture.base import InputSource, ScreenSource, WindowSource
from apprentice.capture.clock import Stamper
from apprentice.capture.config import CaptureConfig
from apprentice.capture.frames import FrameWorker
from apprentice.spool.sink import SpoolSink

log = logging.getLogger(__name__)

_MODIFIERS = frozenset(
    {"shift", "shift_l", "shift_r", "ctrl", "ctrl_l", "ctrl_r", "alt", "alt_l", "alt_r",
     "alt_gr", "cmd", "cmd_l", "cmd_r", "caps_lock"}
)


@dataclass
class SessionCounts:
    by_kind: dict[str, int]
    started_ns: int = 0
    stopped_ns: int = 0


class CaptureSession:
    def __init__(
        self,
        sink: SpoolSink,
        inputs: InputSource,
        windows: WindowSource,
        open_screen: Callable[[], ScreenSource],
        config: CaptureConfig | None = None,
        *,
        platform: str = "linux-x11",
        clock: Callable[[], int] = time.monotonic_ns,
        wall_clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.config = config or CaptureConfig()
        self.session_id = secrets.token_hex(8)
        self._sink = sink
        self._inputs = inputs
        self._windows = windows
        self._platform = platform
        self._wall_clock = wall_clock
        self._stamper = Stamper(sink.put_event, clock)
        self.frames = FrameWorker(open_screen, self._stamper, sink, self.config)
        self._last_key_ns: int | None = None
        self._burst_open = False
        self._scrolling_since: int | None = None
        self._buttons_down = 0
        self._keys_down: set[str] = set()
        self._running = False
        self._lock = threading.Lock()
        self.counts = SessionCounts(by_kind={})

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.frames.start()
        mono = self._stamper.clock()
        wall = self._wall_clock()
        self.counts.started_ns = mono
        self._stamper.stamp(
            ev.Control, t=mono, op="start",
            info={
                "session": self.session_id,
                "wall_ns": wall,
                "mono_ns": mono,
                "platform": self._platform,
                "schema": ev.SCHEMA_VERSION,
                "recorder": __version__,
                "pid": os.getpid(),
                "monitors": [_monitor_dict(m) for m in self.frames.monitors],
                "config": {
                    "max_frame_rate": self.config.max_frame_rate,
                    "frame_scale": self.config.frame_scale,
                    "frame_format": self.config.frame_format,
                },
            },
        )
        self._sink.start(self._gap_event)
        self._running = True
        self._windows.start(self._on_focus)
        self._inputs.start(self._on_input)

    def stop(self) -> None:
        with self._lock:
            if not self._running:
                return
            self._running = False
        self._inputs.stop()
        self._windows.stop()
        self.frames.stop()
        stopped = self._stamper.stamp(
            ev.Control, op="stop",
            info={"counts": dict(self.counts.by_kind), "frames": _frame_summary(self.frames)},
        )
        self.counts.stopped_ns = stopped.t
        self._sink.stop()

    def marker(self, op: ev.ControlOp, reason: str | None = None, **info: Any) -> None:
        """Record a control marker (task start/end, pause, resume…)."""
        self._stamper.stamp(ev.Control, op=op, reason=reason, info=info)

    # -- hook callbacks (other threads; keep them short) ------------------------------------

    def _on_input(self, kind: str, fields: dict[str, Any]) -> None:
        if not self._running:
            return
        cls = ev.EVENT_TYPES[kind]
        event = self._stamper.stamp(cls, **fields)  # type: ignore[arg-type]
        self.counts.by_kind[kind] = self.counts.by_kind.get(kind, 0) + 1
        if kind == "mouse_move":
            self.frames.cursor = (fields["x"], fields["y"])
        elif kind == "mouse_down":
            self.frames.cursor = (fields["x"], fields["y"])
            self._burst_open = False
            self._buttons_down += 1
            self.frames.request_pre(event, self.frames.cursor)
        elif kind == "mouse_up":
            self._buttons_down = max(0, self._buttons_down - 1)
            self.frames.note_action(event.seq)
        elif kind == "scroll":
            gap = self.config.burst_gap * 1e9
            if self._scrolling_since is None or event.t - self._scrolling_since > gap:
                self.frames.request_pre(event, (fields["x"], fields["y"]))
            self._scrolling_since = event.t
            self.frames.note_action(event.seq)
        elif kind == "key_down":
            self._on_key_down(event, fields["key"])
        elif kind == "key_up":
            self._keys_down.discard(fields["key"])
            self.frames.note_action(event.seq)

    def _on_key_down(self, event: ev.Event, key: str) -> None:
        gap = self.config.burst_gap * 1e9
        fresh = self._last_key_ns is None or event.t - self._last_key_ns > gap
        if fresh or not self._burst_open:
            self.frames.request_pre(event, self.frames.cursor)
            self._burst_open = True
        self._last_key_ns = event.t
        self._keys_down.add(key)

    def _on_focus(self, window: ev.WindowInfo | None) -> None:
        if not self._running:
            return
        self._stamper.stamp(ev.Focus, window=window)
        self.counts.by_kind["focus"] = self.counts.by_kind.get("focus", 0) + 1
        self._burst_open = False
        self.frames.note_focus()

    def _gap_event(self, info: dict[str, Any]) -> ev.Event:
        reason = str(info.get("reason", "dropped"))
        return self._stamper.stamp(
            ev.Control, op="gap", reason=reason,
            info={k: v for k, v in info.items() if k != "reason"},
        )


def _monitor_dict(monitor: ev.Monitor) -> dict[str, Any]:
    b = monitor.bounds
    return {
        "index": monitor.index, "x": b.x, "y": b.y, "width": b.width, "height": b.height,
        "scale": monitor.scale, "primary": monitor.primary,
    }


def _frame_summary(frames: FrameWorker) -> dict[str, Any]:
    s = frames.stats
    return {
        "grabs": s.grabs, "stored": s.stored, "deduplicated": s.deduplicated,
        "rate_limited": s.rate_limited, "errors": s.errors, "by_trigger": dict(s.by_trigger),
    }
