"""Which screenshot an agent saw before an action, and which shows its effect.

* Pre-action observation: a frame grabbed strictly before the action began (``t <
  t_start``). The recorder tags the frame it chose for an action with ``trigger="pre"``
  and ``for_seq``; such a frame is preferred when its ``for_seq`` is one of the action's
  events and it was grabbed in time. Otherwise the last frame grabbed before the action
  is used. Frames carry their *grab* time and may be recorded after the action, so
  selection is by ``t``, never by ``seq``: a frame grabbed at or after the start is never
  a pre-action frame, whatever its trigger (no look-ahead).
* Post-action observation: a ``trigger="post"`` frame for one of the action's events,
  grabbed at or after the action ended, else the first frame grabbed at or after the end.
  Either way it must be grabbed before the next action starts, or it would show that
  action's effect too; then there is none.

With several monitors, frames of the monitor the action happened on are preferred (the
pointer's monitor for mouse actions, the focused window's for keys), falling back to any
monitor. Pure: works on the frame events only, never loads images.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from apprentice import events as ev
from apprentice.pipeline.model import Action


@dataclass(frozen=True, slots=True)
class Keyframe:
    """A chosen frame: where its image is (``blob``), its size, and where the cursor was."""

    seq: int
    t: int
    blob: str
    width: int
    height: int
    format: str
    monitor: int
    bounds: ev.Rect
    trigger: str
    pixel_hash: str
    cursor: tuple[int, int] | None = None

    @classmethod
    def of(cls, frame: ev.Frame) -> Keyframe:
        return cls(frame.seq, frame.t, frame.blob, frame.width, frame.height, frame.format,
                   frame.monitor, frame.bounds, frame.trigger, frame.pixel_hash, frame.cursor)


class FrameIndex:
    """The frames of one session, sorted by grab time, for repeated look-ups."""

    def __init__(self, events: Sequence[ev.Event]) -> None:
        self._frames = sorted(
            (e for e in events if isinstance(e, ev.Frame)), key=lambda f: (f.t, f.seq)
        )
        self._times = [f.t for f in self._frames]
        self._tagged: dict[int, list[ev.Frame]] = {}
        for frame in self._frames:
            if frame.for_seq is not None:
                self._tagged.setdefault(frame.for_seq, []).append(frame)

    def __len__(self) -> int:
        return len(self._frames)

    def pre(self, action: Action, monitor: int | None) -> Keyframe | None:
        """Return the observation before ``action`` (grabbed strictly before it began)."""
        tagged = [
            f for seq in action.seqs for f in self._tagged.get(seq, ())
            if f.trigger == "pre" and f.t < action.t_start
        ]
        if tagged:
            return Keyframe.of(max(_prefer(tagged, monitor), key=lambda f: (f.t, f.seq)))
        end = bisect.bisect_left(self._times, action.t_start)
        choice = self._last_before(end, monitor)
        return Keyframe.of(choice) if choice else None

    def post(self, action: Action, monitor: int | None, until: int | None) -> Keyframe | None:
        """Return the observation after ``action``, grabbed before ``until`` if given."""

        def in_time(f: ev.Frame) -> bool:
            return f.t >= action.t_end and (until is None or f.t < until)

        tagged = [
            f for seq in action.seqs for f in self._tagged.get(seq, ())
            if f.trigger == "post" and in_time(f)
        ]
        if tagged:
            return Keyframe.of(min(_prefer(tagged, monitor), key=lambda f: (f.t, f.seq)))
        lo = bisect.bisect_left(self._times, action.t_end)
        hi = len(self._frames) if until is None else bisect.bisect_left(self._times, until)
        choice = next(
            (f for f in self._frames[lo:hi] if monitor is not None and f.monitor == monitor),
            self._frames[lo] if lo < hi else None,
        )
        return Keyframe.of(choice) if choice else None

    def _last_before(self, end: int, monitor: int | None) -> ev.Frame | None:
        for i in range(end - 1, -1, -1) if monitor is not None else ():
            if self._frames[i].monitor == monitor:
                return self._frames[i]
        return self._frames[end - 1] if end else None


def action_monitor(action: Action, monitors: Sequence[ev.Monitor]) -> int | None:
    """Return the index of the monitor an action happened on, when it can be told."""
    if action.x is not None and action.y is not None:
        for monitor in monitors:
            if monitor.bounds.contains(action.x, action.y):
                return monitor.index
    if action.window is not None and action.window.monitor is not None:
        return action.window.monitor
    return None


def _prefer(frames: list[ev.Frame], monitor: int | None) -> list[ev.Frame]:
    same = [f for f in frames if f.monitor == monitor]
    return same or frames
