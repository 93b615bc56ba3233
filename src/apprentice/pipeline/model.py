"""The values the pipeline passes between its stages: :class:`Action` and its vocabulary.

Frozen dataclasses only; no behaviour beyond derived properties. Coordinates are X11
root-window pixels, times are nanoseconds of the session's monotonic clock (see
:mod:`apprentice.events`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from apprentice import events as ev

ActionType: TypeAlias = Literal[
    "click", "double_click", "triple_click", "right_click", "middle_click", "drag",
    "long_press", "scroll", "type", "press", "hotkey", "wait", "done", "fail",
]
ACTION_TYPES: tuple[str, ...] = ActionType.__args__  # type: ignore[attr-defined]

# Controls that make the state before them unknown or irrelevant to what follows.
BOUNDARY_OPS = frozenset({"start", "stop", "pause", "resume", "gap", "task_start", "task_end"})


@dataclass(frozen=True, slots=True)
class Action:
    """One action, in root-window pixels and monitor-clock nanoseconds.

    ``seqs`` are the raw events that make the action, ascending. ``x, y`` is where a
    pointer action happened (press point, scroll point); ``end_x, end_y`` where a drag
    ended. ``path`` is the drag's pointer path as ``(t, x, y)``. ``key`` and
    ``modifiers`` use pyautogui names. ``window`` is the focused window when the action
    began.
    """

    type: ActionType
    t_start: int
    t_end: int
    seqs: tuple[int, ...]
    x: int | None = None
    y: int | None = None
    end_x: int | None = None
    end_y: int | None = None
    button: str | None = None
    path: tuple[tuple[int, int, int], ...] = ()
    dx: int = 0
    dy: int = 0
    text: str | None = None
    key: str | None = None
    modifiers: tuple[str, ...] = ()
    count: int = 1
    window: ev.WindowInfo | None = field(default=None, compare=False)

    @property
    def first_seq(self) -> int:
        return self.seqs[0]

    @property
    def last_seq(self) -> int:
        return self.seqs[-1]

    @property
    def duration_ns(self) -> int:
        return self.t_end - self.t_start

    @property
    def keys(self) -> tuple[str, ...]:
        """Modifiers then key, as a hotkey names them (``("ctrl", "shift", "t")``)."""
        return (*self.modifiers, self.key) if self.key else self.modifiers
