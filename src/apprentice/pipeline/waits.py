"""``wait`` actions: the person sat still while the screen changed.

An idle gap of at least ``wait_min_ms`` between two consecutive actions becomes a
``wait`` when, on some monitor, the frames grabbed during the gap (together with the
last frame grabbed before it) do not all have the same ``pixel_hash``: something
visibly happened that the person was waiting for (a page loading, a build finishing).
A gap that contains a control event (pause, gap, task marker…) is never a wait, because
what happened then was not recorded or belongs to another task. Idle time without a
visible change is not an action: it is thinking, not waiting.

Pure: reads frames' hashes and times only, never pixels, never mutates its inputs.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from apprentice import events as ev
from apprentice.pipeline.config import ActionConfig
from apprentice.pipeline.model import BOUNDARY_OPS, Action


def insert_waits(
    actions: Sequence[Action], events: Sequence[ev.Event], config: ActionConfig
) -> list[Action]:
    """Return ``actions`` with a ``wait`` inserted in every qualifying idle gap."""
    frames = sorted((e for e in events if isinstance(e, ev.Frame)), key=lambda f: (f.t, f.seq))
    frame_times = [f.t for f in frames]
    boundaries = sorted(e.t for e in events if isinstance(e, ev.Control) and e.op in BOUNDARY_OPS)
    threshold = config.wait_min_ms * 1_000_000
    out: list[Action] = []
    for before, after in zip(actions, actions[1:], strict=False):
        out.append(before)
        start, end = before.t_end, after.t_start
        if end - start < threshold or _has_boundary(boundaries, start, end):
            continue
        lo = bisect.bisect_right(frame_times, start)
        hi = bisect.bisect_left(frame_times, end)
        inside = frames[lo:hi]
        if inside and _screen_changed(frames[:lo], inside):
            out.append(Action("wait", start, end, tuple(sorted(f.seq for f in inside)),
                              window=after.window))
    out.extend(actions[-1:])
    return out


def _has_boundary(times: list[int], start: int, end: int) -> bool:
    i = bisect.bisect_right(times, start)
    return i < len(times) and times[i] < end


def _screen_changed(earlier: Sequence[ev.Frame], inside: Sequence[ev.Frame]) -> bool:
    seen: dict[int, set[str]] = {}
    for frame in inside:
        seen.setdefault(frame.monitor, set()).add(frame.pixel_hash)
    for monitor, hashes in seen.items():
        reference = next((f for f in reversed(earlier) if f.monitor == monitor), None)
        if reference is not None:
            hashes = hashes | {reference.pixel_hash}
        if len(hashes) > 1:
            return True
    return False
