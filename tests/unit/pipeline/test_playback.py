"""Playing actions on a display: the recorded schedule, scaled, with xdotool faked out."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from apprentice.errors import ConfigError
from apprentice.pipeline.model import Action
from apprentice.pipeline.playback import check_display, format_plan, play, schedule

S = 1_000_000_000


def act(kind: str, start_s: float, end_s: float | None = None, **fields: Any) -> Action:
    t0 = int(start_s * S)
    t1 = int((end_s if end_s is not None else start_s) * S)
    return Action(kind, t0, t1, (1,), **fields)  # type: ignore[arg-type]


ACTIONS = [
    act("click", 10.0, 10.1, x=5, y=6, button="left"),
    act("type", 11.0, 11.5, text="Hi"),
    act("wait", 11.5, 14.0),
    act("hotkey", 14.0, key="s", modifiers=("ctrl",)),
    act("done", 14.2),
]


class FakeX:
    """Records commands and when they ran; time passes only when someone sleeps."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.now = 100.0
        self.ran: list[tuple[float, list[str], str]] = []
        self.fail_on = fail_on

    def run(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.ran.append((round(self.now - 100.0, 3), argv, kwargs["env"]["DISPLAY"]))
        failed = argv[1] == self.fail_on
        return subprocess.CompletedProcess(argv, 1 if failed else 0, "", "BadWindow" if failed else "")

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_schedule_keeps_recorded_offsets_scaled_by_speed() -> None:
    assert schedule(ACTIONS) == [0.0, 1.0, 1.5, 4.0, 4.2]
    assert schedule(ACTIONS, speed=2) == [0.0, 0.5, 0.75, 2.0, 2.1]
    with pytest.raises(ConfigError, match="positive"):
        schedule(ACTIONS, speed=0)


def test_play_runs_each_step_at_its_time_and_waits_run_nothing() -> None:
    x = FakeX()
    play(ACTIONS, ":7", speed=2, run=x.run, clock=lambda: x.now, sleep=x.sleep)
    assert [(t, argv[1]) for t, argv, _ in x.ran] == [
        (0.0, "mousemove"), (0.0, "click"), (0.5, "type"), (2.0, "key")]
    assert {display for *_, display in x.ran} == {":7"}


def test_a_failing_command_stops_the_replay_and_names_the_step() -> None:
    x = FakeX(fail_on="type")
    with pytest.raises(ConfigError, match=r"step 1 \(type\).*BadWindow"):
        play(ACTIONS, ":7", run=x.run, clock=lambda: x.now, sleep=x.sleep)
    assert x.ran[-1][1][1] == "type"


def test_dry_run_plan_lists_steps_and_quoted_commands() -> None:
    lines = format_plan(ACTIONS, speed=1)
    assert lines[0] == "# step 0 at +0.000s: click"
    assert "  xdotool type --delay 12 -- Hi" in lines
    assert "  xdotool key --repeat 1 ctrl+s" in lines
    assert lines[-1] == "# step 4 at +4.200s: done"


def test_a_missing_display_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="--display"):
        check_display(None)
    x = FakeX(fail_on="getdisplaygeometry")
    with pytest.raises(ConfigError, match="cannot open display :42"):
        check_display(":42", run=x.run)
