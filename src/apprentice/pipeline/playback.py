"""Playing an episode's actions on an X display through XTEST (``xdotool``), on time.

The pipeline's only module that starts processes: it runs the command lines
:func:`apprentice.pipeline.replay.plan_replay` builds. Timing follows the recording: each
action starts at its recorded offset from the first action divided by ``speed``, or as
soon as the previous one is done if replay is running late. A ``wait`` action is that
schedule's idle time and runs nothing; a long press keeps its recorded hold (a shorter
hold would be a click). Coordinates are used as recorded, so the target windows must
stand where they stood. Clock, sleep and the process runner are parameters, for tests.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Any

from apprentice.errors import ConfigError
from apprentice.pipeline.model import Action
from apprentice.pipeline.replay import plan_action

Run = Callable[..., "subprocess.CompletedProcess[Any]"]


def format_plan(actions: Sequence[Action], speed: float = 1.0) -> list[str]:
    """Return the replay as text lines: each step's start time, type and command lines."""
    lines = []
    for index, (offset, action) in enumerate(zip(schedule(actions, speed), actions, strict=True)):
        lines.append(f"# step {index} at +{offset:.3f}s: {action.type}")
        lines += [f"  {shlex.join(argv)}" for argv in _commands(action)]
    return lines


def schedule(actions: Sequence[Action], speed: float = 1.0) -> list[float]:
    """Return when each action starts, in seconds after the first, scaled by ``speed``."""
    if speed <= 0:
        raise ConfigError(f"--speed must be positive, not {speed}")
    if not actions:
        return []
    first = actions[0].t_start
    return [max(0.0, (a.t_start - first) / 1e9 / speed) for a in actions]


def check_display(display: str | None, run: Run = subprocess.run) -> str:
    """Return the display to replay on, after checking xdotool can reach it."""
    if not display:
        raise ConfigError("no display to replay on; pass --display :N or set DISPLAY")
    if shutil.which("xdotool") is None:
        raise ConfigError("replay needs xdotool: sudo apt-get install xdotool")
    probe = run(["xdotool", "getdisplaygeometry"], env=_env(display), capture_output=True,
                text=True, timeout=10)
    if probe.returncode != 0:
        raise ConfigError(f"cannot open display {display}: {probe.stderr.strip() or 'no answer'}")
    return display


def play(
    actions: Sequence[Action],
    display: str,
    speed: float = 1.0,
    *,
    run: Run = subprocess.run,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_step: Callable[[int, Action], None] | None = None,
) -> None:
    """Re-execute ``actions`` on ``display`` on the recorded schedule scaled by ``speed``."""
    env = _env(display)
    offsets = schedule(actions, speed)
    began = clock()
    for index, (offset, action) in enumerate(zip(offsets, actions, strict=True)):
        delay = began + offset - clock()
        if delay > 0:
            sleep(delay)
        if on_step is not None:
            on_step(index, action)
        for argv in _commands(action):
            done = run(argv, env=env, capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                raise ConfigError(
                    f"step {index} ({action.type}): {argv[0]} {argv[1]} failed: "
                    f"{done.stderr.strip() or done.returncode}"
                )


def _commands(action: Action) -> list[list[str]]:
    return [] if action.type == "wait" else plan_action(action)


def _env(display: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("WAYLAND_DISPLAY", None)
    env["DISPLAY"] = display
    return env
