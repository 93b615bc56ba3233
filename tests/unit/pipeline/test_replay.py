"""Replay plans: xdotool command lines for each action type."""

from __future__ import annotations

import pytest

from apprentice.pipeline.actions import reduce_actions
from apprentice.pipeline.model import Action
from apprentice.pipeline.replay import keysym, plan_action, plan_replay

from .conftest import Log


def act(kind: str, **fields: object) -> Action:
    return Action(kind, 0, int(fields.pop("ns", 0)), (1,), **fields)  # type: ignore[arg-type]


MOVE = ["xdotool", "mousemove", "--sync", "5", "6"]


@pytest.mark.parametrize(
    ("action", "plan"),
    [
        (act("double_click", x=5, y=6, button="left"),
         [MOVE, ["xdotool", "click", "--repeat", "2", "--delay", "80", "1"]]),
        (act("right_click", x=5, y=6, button="right"),
         [MOVE, ["xdotool", "click", "--repeat", "1", "--delay", "80", "3"]]),
        (act("click", x=5, y=6, button="left", modifiers=("ctrl",)),
         [["xdotool", "keydown", "ctrl"], MOVE,
          ["xdotool", "click", "--repeat", "1", "--delay", "80", "1"],
          ["xdotool", "keyup", "ctrl"]]),
        (act("scroll", x=5, y=6, dx=-1, dy=-3),
         [MOVE, ["xdotool", "click", "--repeat", "3", "5"],
          ["xdotool", "click", "--repeat", "1", "6"]]),
        (act("type", text="-rf é"), [["xdotool", "type", "--delay", "12", "--", "-rf é"]]),
        (act("press", key="pagedown", count=2), [["xdotool", "key", "--repeat", "2", "Next"]]),
        (act("hotkey", key="t", modifiers=("ctrl", "shift")),
         [["xdotool", "key", "--repeat", "1", "ctrl+shift+t"]]),
        (act("wait", ns=1_500_000_000), [["xdotool", "sleep", "1.50"]]),
        (act("done"), []),
    ],
)
def test_plan_action(action: Action, plan: list[list[str]]) -> None:
    assert plan_action(action) == plan


def test_drag_replays_its_whole_path() -> None:
    log = Log().start().drag([(10, 10), (40, 20), (80, 30)])
    (plan,) = plan_replay(reduce_actions(log.events))
    assert plan[1] == ["xdotool", "mousedown", "1"]
    assert [p[3:] for p in plan[2:-1]] == [["40", "20"], ["80", "30"], ["80", "30"]]
    assert plan[-1] == ["xdotool", "mouseup", "1"]


def test_keysyms() -> None:
    assert [keysym(k) for k in ("enter", "f5", "a", "win")] == ["Return", "F5", "a", "super"]
