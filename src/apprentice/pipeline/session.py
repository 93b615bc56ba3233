"""What the ``start`` control says about a recording session, and where sessions begin.

A spool may hold several sessions one after another; ``seq`` restarts with each, so the
log is split at ``start`` controls (in the order the log was read) before anything is
sorted. The session id is used only to derive episode ids and never leaves the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from apprentice import events as ev


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session: str
    platform: str
    monitors: tuple[ev.Monitor, ...]

    @property
    def screen(self) -> ev.Rect:
        """The bounding rectangle of all monitors (the X11 root window)."""
        if not self.monitors:
            return ev.Rect(0, 0, 0, 0)
        left = min(m.bounds.x for m in self.monitors)
        top = min(m.bounds.y for m in self.monitors)
        right = max(m.bounds.x + m.bounds.width for m in self.monitors)
        bottom = max(m.bounds.y + m.bounds.height for m in self.monitors)
        return ev.Rect(left, top, right - left, bottom - top)

    @property
    def scale(self) -> float:
        primary = next((m for m in self.monitors if m.primary), None)
        chosen = primary or (self.monitors[0] if self.monitors else None)
        return chosen.scale if chosen else 1.0


def split_sessions(events: Iterable[ev.Event]) -> list[list[ev.Event]]:
    """Split a log into sessions at each ``start`` control; each is then sorted by seq."""
    sessions: list[list[ev.Event]] = []
    for event in events:
        if not sessions or (isinstance(event, ev.Control) and event.op == "start"):
            sessions.append([])
        sessions[-1].append(event)
    return [sorted(s, key=lambda e: e.seq) for s in sessions if s]


def session_info(events: Sequence[ev.Event]) -> SessionInfo:
    """Read the session's ``start`` control; monitors fall back to what frames show."""
    start = next((e for e in events if isinstance(e, ev.Control) and e.op == "start"), None)
    info: dict[str, Any] = dict(start.info) if start else {}
    monitors = tuple(_monitor(m) for m in info.get("monitors") or ())
    if not monitors:
        seen: dict[int, ev.Rect] = {}
        for e in events:
            if isinstance(e, ev.Frame):
                seen.setdefault(e.monitor, e.bounds)
        monitors = tuple(ev.Monitor(i, r, primary=not n) for n, (i, r) in enumerate(seen.items()))
    return SessionInfo(
        session=str(info.get("session", "unknown")),
        platform=str(info.get("platform", "unknown")),
        monitors=monitors,
    )


def _monitor(data: dict[str, Any]) -> ev.Monitor:
    bounds = ev.Rect(int(data["x"]), int(data["y"]), int(data["width"]), int(data["height"]))
    return ev.Monitor(int(data["index"]), bounds, float(data.get("scale", 1.0)),
                      bool(data.get("primary", False)))
