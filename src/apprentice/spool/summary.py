"""A readable summary of a spool: what ``apprentice inspect DIR`` prints.

Counts and structure only; window titles are shown because the spool belongs to the
person running the command on their own machine.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from apprentice import events as ev
from apprentice.spool.reader import SpoolReader


@dataclass
class SpoolSummary:
    sessions: int = 0
    duration_s: float = 0.0
    events: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    windows: Counter[str] = field(default_factory=Counter)
    frames: int = 0
    frame_blobs: int = 0
    frames_by_trigger: Counter[str] = field(default_factory=Counter)
    gaps: Counter[str] = field(default_factory=Counter)
    bytes: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    first_seq: int | None = None
    last_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "duration_s": round(self.duration_s, 3),
            "events": self.events,
            "by_kind": dict(self.by_kind),
            "windows": dict(self.windows),
            "frames": self.frames,
            "frame_blobs": self.frame_blobs,
            "frames_by_trigger": dict(self.frames_by_trigger),
            "gaps": dict(self.gaps),
            "bytes": self.bytes,
            "problems": self.problems,
        }


def summarize(reader: SpoolReader) -> SpoolSummary:
    summary = SpoolSummary()
    start_t: int | None = None
    last_t: int | None = None
    for event in reader.events():
        summary.events += 1
        summary.by_kind[event.kind] += 1
        summary.first_seq = event.seq if summary.first_seq is None else summary.first_seq
        summary.last_seq = event.seq
        if isinstance(event, ev.Control):
            if event.op == "start":
                if start_t is not None and last_t is not None:
                    summary.duration_s += (last_t - start_t) / 1e9
                summary.sessions += 1
                start_t = event.t
            elif event.op == "gap":
                summary.gaps[event.reason or "unknown"] += 1
        elif isinstance(event, ev.Focus) and event.window is not None:
            w = event.window
            summary.windows[f"{w.app_id or '?'} — {w.title or ''}".strip()] += 1
        elif isinstance(event, ev.Frame):
            summary.frames += 1
            summary.frames_by_trigger[event.trigger] += 1
        if not isinstance(event, ev.Frame):
            last_t = event.t
    if start_t is not None and last_t is not None:
        summary.duration_s += (last_t - start_t) / 1e9
    summary.frame_blobs = len(reader.frame_hashes())
    summary.bytes = reader.segment_bytes()
    summary.problems = [str(p) for p in reader.problems]
    return summary
