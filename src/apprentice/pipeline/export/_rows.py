"""Flat, JSON-ready rows for episodes and steps: the one place columns are defined.

The Parquet tables, the WebDataset JSON and the dataset card all read these rows, so a
column means the same thing everywhere. Times are relative to the episode start (no
wall-clock time leaves the pipeline); coordinates are documented in
``docs/dataset-format.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from apprentice import events as ev
from apprentice.pipeline.actions import action_counts
from apprentice.pipeline.episodes import Episode
from apprentice.pipeline.keyframes import Keyframe
from apprentice.pipeline.steps import Step


def episode_row(episode: Episode) -> dict[str, Any]:
    return {
        "episode_id": episode.id,
        "source": episode.source,
        "instruction": episode.instruction,
        "outcome": episode.outcome,
        "complete": episode.complete,
        "platform": episode.platform,
        "screen_width": episode.screen.width,
        "screen_height": episode.screen.height,
        "scale": episode.scale,
        "monitors": [
            {"index": m.index, "x": m.bounds.x, "y": m.bounds.y, "width": m.bounds.width,
             "height": m.bounds.height, "scale": m.scale, "primary": m.primary}
            for m in episode.monitors
        ],
        "apps": list(episode.apps),
        "sites": list(episode.sites),
        "num_steps": len(episode.steps),
        "duration_s": episode.duration_s,
        "action_counts": json.dumps(action_counts([s.action for s in episode.steps])),
        "config": json.dumps(episode.config, sort_keys=True),
        "first_seq": episode.first_seq,
        "last_seq": episode.last_seq,
    }


def step_row(episode: Episode, step: Step, images: Mapping[str, str]) -> dict[str, Any]:
    action = step.action
    window = action.window
    return {
        "episode_id": episode.id,
        "step_index": step.index,
        "action_type": action.type,
        "t_offset_s": round((action.t_start - episode.t_start) / 1e9, 3),
        "duration_s": round(action.duration_ns / 1e9, 3),
        "x": action.x,
        "y": action.y,
        "end_x": action.end_x,
        "end_y": action.end_y,
        "nx": step.nx,
        "ny": step.ny,
        "end_nx": step.end_nx,
        "end_ny": step.end_ny,
        "button": action.button,
        "text": action.text,
        "key": action.key,
        "modifiers": list(action.modifiers),
        "count": action.count,
        "dx": action.dx,
        "dy": action.dy,
        "path": [
            {"t_s": round((t - action.t_start) / 1e9, 3), "x": x, "y": y}
            for t, x, y in action.path
        ],
        "pyautogui": step.pyautogui,
        "pyautogui_norm": step.pyautogui_norm,
        "computer13": json.dumps(list(step.computer13), ensure_ascii=False),
        "frame_x": step.frame.x,
        "frame_y": step.frame.y,
        "frame_width": step.frame.width,
        "frame_height": step.frame.height,
        **_frame_columns("pre", step.pre, images),
        **_frame_columns("post", step.post, images),
        "app_id": window.app_id if window else None,
        "window_title": window.title if window else None,
        "url": window.url if window else None,
        **_target_columns(step.target, step.frame),
        "first_seq": action.first_seq,
        "last_seq": action.last_seq,
        "seqs": list(action.seqs),
    }


def _target_columns(target: ev.Element | None, frame: ev.Rect) -> dict[str, Any]:
    """The target element's role, name, states, box (pixels and normalised) and ancestor path."""
    box = target.bounds if target else None
    norm = None
    if box is not None and frame.width and frame.height:
        norm = [round((box.x - frame.x) / frame.width, 4), round((box.y - frame.y) / frame.height, 4),
                round(box.width / frame.width, 4), round(box.height / frame.height, 4)]
    return {
        "target_source": target.source if target else None,
        "target_role": target.role if target else None,
        "target_name": target.name if target else None,
        "target_states": list(target.states) if target else [],
        "target_bbox": [box.x, box.y, box.width, box.height] if box else None,
        "target_bbox_norm": norm,
        "target_path": json.dumps([[n.role, n.name] for n in target.path], ensure_ascii=False)
        if target else None,
    }


def _frame_columns(
    prefix: str, frame: Keyframe | None, images: Mapping[str, str]
) -> dict[str, Any]:
    cursor = frame.cursor if frame else None
    return {
        f"{prefix}_image": images.get(frame.blob) if frame else None,
        f"{prefix}_width": frame.width if frame else None,
        f"{prefix}_height": frame.height if frame else None,
        f"{prefix}_monitor": frame.monitor if frame else None,
        f"{prefix}_cursor_x": cursor[0] if cursor else None,
        f"{prefix}_cursor_y": cursor[1] if cursor else None,
    }
