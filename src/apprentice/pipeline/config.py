"""Every threshold the pipeline uses, in one frozen place.

The configuration is data: it is serialised into each episode (``as_dict``) so a dataset
says exactly how its actions and episodes were cut, and two builds with the same
configuration and the same raw log produce the same dataset. Nothing here reads files or
the environment; the caller decides where a configuration comes from.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Bumped whenever the meaning of an action, step or column changes.
PIPELINE_VERSION = 1


@dataclass(frozen=True, slots=True)
class ActionConfig:
    """Thresholds for turning raw key and mouse events into actions."""

    # Two presses of the left button form a double (then triple) click when the second
    # goes down within this interval of the previous one and within this distance of the
    # first. 500 ms / 5 px are the X11 and GTK defaults.
    double_click_ms: int = 500
    multi_click_px: int = 5
    # A press whose pointer path strays this far from where it went down is a drag, even
    # if it comes back (GTK's drag threshold is 8 px).
    drag_min_px: int = 8
    # A press held at least this long without moving is a long press, not a click.
    long_press_ms: int = 800
    # Wheel events closer than this in time, and not drifting further than this from
    # where the burst began, are one scroll action.
    scroll_gap_ms: int = 500
    scroll_max_drift_px: int = 20
    # Idle time that ends a text run, and, when the screen changed meanwhile, becomes a
    # ``wait`` action.
    wait_min_ms: int = 2000
    # The device reports wheel clicks in the physical direction of a natural-scrolling
    # touchpad; the reducer negates dx and dy once so actions hold the direction the
    # content received (pyautogui convention: +dy up, +dx right). Never applied again.
    natural_scrolling: bool = False
    # Whether the recorder's ``char`` already reflects Caps Lock. pynput on X11 resolves
    # the Shift level but not Caps Lock, so by default the reducer applies it.
    caps_lock_in_char: bool = False
    # Modifiers that are an action when tapped alone (Super opens the launcher); a lone
    # Shift or Ctrl tap does nothing and is dropped.
    lone_modifier_keys: tuple[str, ...] = ("win",)


@dataclass(frozen=True, slots=True)
class EpisodeConfig:
    """Thresholds for cutting the action stream into episodes."""

    # Outside an explicit task, an idle gap this long starts a new episode.
    idle_gap_ms: int = 60_000
    # Outside an explicit task, moving to a different application starts a new episode.
    split_on_app_change: bool = True
    # Episodes with fewer steps than this are dropped.
    min_steps: int = 1


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """The whole configuration of one dataset build."""

    actions: ActionConfig = field(default_factory=ActionConfig)
    episodes: EpisodeConfig = field(default_factory=EpisodeConfig)
    # Samples per WebDataset shard.
    wds_shard_size: int = 1000

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form recorded in every episode."""
        out = dataclasses.asdict(self)
        out["actions"]["lone_modifier_keys"] = list(self.actions.lone_modifier_keys)
        out["pipeline_version"] = PIPELINE_VERSION
        return out
