"""The pipeline: raw events → actions → episodes → training datasets. Pure until export.

Stages, one module each: :mod:`actions` (reduce key/mouse events to actions),
:mod:`waits`, :mod:`keyframes` (pre/post observations), :mod:`render` (pyautogui and
computer_13 code), :mod:`steps`, :mod:`episodes` (segmentation), :mod:`export` (formats)
and :mod:`build` (all of it into a folder). The pipeline receives events and a frame
loader; it never imports capture, server or client code.
"""

from __future__ import annotations

from apprentice.pipeline.actions import action_counts, reduce_actions
from apprentice.pipeline.build import BuildResult, build_dataset, inspect_dataset
from apprentice.pipeline.config import ActionConfig, EpisodeConfig, PipelineConfig
from apprentice.pipeline.dataset import Dataset
from apprentice.pipeline.episodes import Episode, segment_episodes
from apprentice.pipeline.keyframes import FrameIndex, Keyframe
from apprentice.pipeline.model import ACTION_TYPES, Action, ActionType
from apprentice.pipeline.render import render_computer13, render_pyautogui
from apprentice.pipeline.replay import plan_replay
from apprentice.pipeline.steps import Step, build_steps

__all__ = [
    "ACTION_TYPES",
    "Action",
    "ActionConfig",
    "ActionType",
    "BuildResult",
    "Dataset",
    "Episode",
    "EpisodeConfig",
    "FrameIndex",
    "Keyframe",
    "PipelineConfig",
    "Step",
    "action_counts",
    "build_dataset",
    "build_steps",
    "inspect_dataset",
    "plan_replay",
    "reduce_actions",
    "render_computer13",
    "render_pyautogui",
    "segment_episodes",
]
