"""Cutting a session's actions into episodes, the unit of training data.

Two kinds of episode:

* ``task`` — explicit: from a ``task_start`` control (``info["instruction"]``) to the
  matching ``task_end`` (``info["status"]``: ``"success"`` → outcome ``success`` and a
  final ``done`` step, ``"failure"`` → ``failure`` and a final ``fail`` step). A task is
  never split by idleness or app switches: tasks legitimately span applications. A
  pause or gap inside it marks the episode ``complete=False``; a task that never ends
  (stop, end of log) has outcome ``unknown`` and is incomplete too.
* ``passive`` — everything outside tasks, cut at idle gaps of ``idle_gap_ms``, at a
  move to a different application (``app_id``; same-app window changes do not cut),
  and at pause, gap, start and stop controls. No instruction, outcome None.

Episode ids are deterministic: the first 16 hex digits of SHA-256 over the session id
and the episode's first seq, so rebuilding a dataset gives the same ids and the session
id itself is never stored. Pure: never mutates actions or events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from apprentice import events as ev
from apprentice.pipeline.config import PipelineConfig
from apprentice.pipeline.keyframes import FrameIndex
from apprentice.pipeline.model import Action
from apprentice.pipeline.session import session_info
from apprentice.pipeline.steps import Step, build_steps, element_targets

_INTERRUPTIONS = frozenset({"pause", "gap", "start", "stop"})


@dataclass(frozen=True, slots=True)
class Episode:
    id: str
    source: Literal["task", "passive"]
    instruction: str | None
    outcome: str | None  # "success" | "failure" | "unknown" for tasks; None if passive
    complete: bool
    platform: str
    monitors: tuple[ev.Monitor, ...]
    screen: ev.Rect
    scale: float
    apps: tuple[str, ...]
    sites: tuple[str, ...]
    t_start: int
    t_end: int
    first_seq: int
    last_seq: int
    steps: tuple[Step, ...]
    config: dict[str, Any] = field(compare=False)

    @property
    def duration_s(self) -> float:
        return round((self.t_end - self.t_start) / 1e9, 3)


@dataclass
class _Segment:
    source: Literal["task", "passive"]
    first_seq: int
    t_start: int
    instruction: str | None = None
    outcome: str | None = None
    complete: bool = True
    actions: list[Action] = field(default_factory=list)
    end: ev.Control | None = None


def segment_episodes(
    actions: Sequence[Action], events: Sequence[ev.Event], config: PipelineConfig | None = None
) -> list[Episode]:
    """Return the episodes of one session, in time order, with their steps built."""
    config = config or PipelineConfig()
    info = session_info(events)
    frames = FrameIndex(events)
    targets = element_targets(events)
    screen = info.screen
    episodes = []
    for segment in _segments(actions, events, config):
        steps_actions = list(segment.actions)
        if segment.end is not None and segment.outcome in ("success", "failure"):
            kind = "done" if segment.outcome == "success" else "fail"
            steps_actions.append(Action(kind, segment.end.t, segment.end.t, (segment.end.seq,),
                                        window=steps_actions[-1].window if steps_actions else None))
        if len(segment.actions) < config.episodes.min_steps:
            continue
        steps = build_steps(steps_actions, frames, info.monitors, screen, info.platform, targets)
        last = segment.end.seq if segment.end else max(a.last_seq for a in segment.actions)
        t_end = segment.end.t if segment.end else max(a.t_end for a in segment.actions)
        episodes.append(Episode(
            id=episode_id(info.session, segment.first_seq),
            source=segment.source,
            instruction=segment.instruction,
            outcome=segment.outcome,
            complete=segment.complete,
            platform=info.platform,
            monitors=info.monitors,
            screen=screen,
            scale=info.scale,
            apps=_unique(a.window.app_id if a.window else None for a in segment.actions),
            sites=_unique(_site(a.window) for a in segment.actions),
            t_start=segment.t_start,
            t_end=t_end,
            first_seq=segment.first_seq,
            last_seq=last,
            steps=steps,
            config=config.as_dict(),
        ))
    return episodes


def episode_id(session: str, first_seq: int) -> str:
    return hashlib.sha256(f"{session}\x00{first_seq}".encode()).hexdigest()[:16]


def _segments(
    actions: Sequence[Action], events: Sequence[ev.Event], config: PipelineConfig
) -> list[_Segment]:
    controls = [e for e in events if isinstance(e, ev.Control)]
    # Controls sort before actions that start at the same instant: a task_start stamped
    # with the same t as the first click still owns that click.
    timeline: list[tuple[int, int, int, ev.Control | Action]] = sorted(
        [(c.t, 0, c.seq, c) for c in controls] + [(a.t_start, 1, a.first_seq, a) for a in actions],
        key=lambda item: item[:3],
    )
    gap_ns = config.episodes.idle_gap_ms * 1_000_000
    done: list[_Segment] = []
    current: _Segment | None = None
    last: Action | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            if current.source == "task" and current.outcome is None:
                current.outcome, current.complete = "unknown", False
            done.append(current)
        current = None

    for _, _, _, item in timeline:
        if isinstance(item, ev.Control):
            if item.op == "task_start":
                close()
                current = _Segment("task", item.seq, item.t,
                                   instruction=_text(item.info.get("instruction")))
            elif item.op == "task_end" and current is not None and current.source == "task":
                status = item.info.get("status")
                current.outcome = status if status in ("success", "failure") else "unknown"
                current.end = item
                close()
            elif item.op in _INTERRUPTIONS:
                if current is not None and current.source == "task":
                    current.complete = False
                else:
                    close()
            continue
        passive = current is None or current.source == "passive"
        if passive and item.type == "wait" and (current is None or item.duration_ns >= gap_ns):
            # A long wait outside a task is an idle gap that happened to show a change,
            # and an episode never begins by waiting: either way, no step.
            close()
            continue
        if current is not None and passive and last is not None and (
            item.t_start - last.t_end >= gap_ns or _app_changed(last, item, config)
        ):
            close()
        if current is None:
            current = _Segment("passive", item.first_seq, item.t_start)
        current.actions.append(item)
        last = item
    close()
    return done


def _app_changed(before: Action, after: Action, config: PipelineConfig) -> bool:
    if not config.episodes.split_on_app_change:
        return False
    a = before.window.app_id if before.window else None
    b = after.window.app_id if after.window else None
    return a is not None and b is not None and a != b


def _site(window: ev.WindowInfo | None) -> str | None:
    if window is None or not window.url:
        return None
    try:
        return urlsplit(window.url).hostname
    except ValueError:
        return None


def _unique(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
