"""Steps: one action with what was seen before and after it, in every coordinate frame.

Coordinate frames (also in ``docs/dataset-format.md``):

* pixel — X11 root-window pixels of the virtual screen, what the raw events carry and
  what absolute pyautogui code uses;
* normalised — ``(x - frame.x) / frame.width`` and ``(y - frame.y) / frame.height`` in
  [0, 1), where ``frame`` is the monitor rectangle the pre-action screenshot shows (the
  pointer's monitor when there is no screenshot, the whole virtual screen as a last
  resort). Multiplying by the screenshot's width and height gives the point in the
  image, whatever downscale the recorder applied. Rounded to 4 decimals.

Pure assembly: no image is loaded, nothing is mutated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from apprentice import events as ev
from apprentice.pipeline.keyframes import FrameIndex, Keyframe, action_monitor
from apprentice.pipeline.model import Action
from apprentice.pipeline.render import render_computer13, render_pyautogui


@dataclass(frozen=True, slots=True)
class Step:
    index: int
    action: Action
    pre: Keyframe | None
    post: Keyframe | None
    frame: ev.Rect  # the rectangle normalised coordinates are relative to
    nx: float | None
    ny: float | None
    end_nx: float | None
    end_ny: float | None
    pyautogui: str
    pyautogui_norm: str
    computer13: tuple[dict[str, Any], ...]
    target: ev.Element | None = None  # the element under the pointer or focused, when known


def build_steps(
    actions: Sequence[Action],
    frames: FrameIndex,
    monitors: Sequence[ev.Monitor],
    screen: ev.Rect,
    platform: str,
    targets: Mapping[int, ev.Element] | None = None,
) -> tuple[Step, ...]:
    """Return one step per action, in order, with keyframes, renderings and target element.

    ``targets`` maps an input event's ``seq`` to the element reported for it (see
    :func:`element_targets`); a step takes the element of its first event that has one.
    """
    targets = targets or {}
    steps = []
    for i, action in enumerate(actions):
        monitor = action_monitor(action, monitors)
        pre = frames.pre(action, monitor)
        until = actions[i + 1].t_start if i + 1 < len(actions) else None
        post = frames.post(action, pre.monitor if pre else monitor, until)
        frame = pre.bounds if pre else _monitor_rect(monitor, monitors, screen)
        steps.append(Step(
            index=i,
            action=action,
            pre=pre,
            post=post,
            frame=frame,
            nx=_norm(action.x, frame.x, frame.width),
            ny=_norm(action.y, frame.y, frame.height),
            end_nx=_norm(action.end_x, frame.x, frame.width),
            end_ny=_norm(action.end_y, frame.y, frame.height),
            pyautogui=render_pyautogui(action, platform=platform),
            pyautogui_norm=render_pyautogui(action, frame=frame, platform=platform),
            computer13=tuple(render_computer13(action, platform=platform)),
            target=next((targets[seq] for seq in action.seqs if seq in targets), None),
        ))
    return tuple(steps)


def element_targets(events: Iterable[ev.Event]) -> dict[int, ev.Element]:
    """Index ``element`` events by the input event they belong to (the last report wins)."""
    return {event.for_seq: event for event in events if isinstance(event, ev.Element)}


def _monitor_rect(index: int | None, monitors: Sequence[ev.Monitor], screen: ev.Rect) -> ev.Rect:
    return next((m.bounds for m in monitors if m.index == index), screen)


def _norm(value: int | None, origin: int, size: int) -> float | None:
    if value is None or not size:
        return None
    return round((value - origin) / size, 4)
