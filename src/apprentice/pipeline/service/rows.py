"""A dataset version's rows back into a :class:`~apprentice.pipeline.dataset.Dataset`, so the
exporters of ``apprentice dataset build`` (OSWorld, AgentNet, computer_13, WebDataset) write
a version without a second copy of their code.

A version stores the Parquet ``episodes`` and ``steps`` rows (``export/_rows.py``), already
redacted twice and scrubbed; nothing else survives assembly, and nothing else is needed:
every field an exporter reads is a column. Rebuilding is exact for what the exporters use —
``step_row(rebuilt) == row`` (``tests/unit/pipeline/service/test_export_formats.py``). Times
count from the episode start (the rows hold no session clock); keyframes get their blob,
format, size, monitor and cursor from the ``pre_*``/``post_*`` columns.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from apprentice import events as ev
from apprentice.pipeline.config import PipelineConfig
from apprentice.pipeline.dataset import Dataset, LoadFrame
from apprentice.pipeline.episodes import Episode
from apprentice.pipeline.keyframes import Keyframe
from apprentice.pipeline.load import action_from_row
from apprentice.pipeline.steps import Step

_NS = 1_000_000_000


def dataset_from_rows(episode_rows: Iterable[dict[str, Any]], step_rows: Iterable[dict[str, Any]],
                      load_frame: LoadFrame, *, name: str,
                      config: PipelineConfig | None = None) -> Dataset:
    """Episodes in ``episode_id`` order, each with its steps in ``step_index`` order."""
    by_episode: dict[str, list[dict[str, Any]]] = {}
    for row in step_rows:
        by_episode.setdefault(str(row["episode_id"]), []).append(row)
    episodes = tuple(
        episode_from_rows(row, sorted(by_episode.get(str(row["episode_id"]), []),
                                      key=lambda r: int(r["step_index"])))
        for row in sorted(episode_rows, key=lambda r: str(r["episode_id"]))
    )
    return Dataset(episodes, config or PipelineConfig(), load_frame, name=name)


def episode_from_rows(row: dict[str, Any], steps: list[dict[str, Any]]) -> Episode:
    monitors = tuple(
        ev.Monitor(int(m["index"]), ev.Rect(int(m["x"]), int(m["y"]), int(m["width"]), int(m["height"])),
                   float(m["scale"]), bool(m["primary"]))
        for m in row.get("monitors") or ()
    )
    return Episode(
        id=str(row["episode_id"]),
        source=row["source"],
        instruction=row.get("instruction"),
        outcome=row.get("outcome"),
        complete=bool(row["complete"]),
        platform=str(row["platform"]),
        monitors=monitors,
        screen=ev.Rect(0, 0, int(row["screen_width"]), int(row["screen_height"])),
        scale=float(row["scale"]),
        apps=tuple(row.get("apps") or ()),
        sites=tuple(row.get("sites") or ()),
        t_start=0,
        t_end=round(float(row["duration_s"]) * _NS),
        first_seq=int(row["first_seq"]),
        last_seq=int(row["last_seq"]),
        steps=tuple(step_from_row(s) for s in steps),
        config=json.loads(row["config"]) if row.get("config") else {},
    )


def step_from_row(row: dict[str, Any]) -> Step:
    action = action_from_row(row)
    if any(row.get(c) is not None for c in ("app_id", "window_title", "url")):
        action = dataclasses.replace(action, window=ev.WindowInfo(
            wid=0, app_id=row.get("app_id"), title=row.get("window_title"), url=row.get("url")))
    frame = ev.Rect(int(row["frame_x"]), int(row["frame_y"]),
                    int(row["frame_width"]), int(row["frame_height"]))
    return Step(
        index=int(row["step_index"]),
        action=action,
        pre=_keyframe(row, "pre", frame),
        post=_keyframe(row, "post", frame),
        frame=frame,
        nx=row.get("nx"),
        ny=row.get("ny"),
        end_nx=row.get("end_nx"),
        end_ny=row.get("end_ny"),
        pyautogui=str(row.get("pyautogui") or ""),
        pyautogui_norm=str(row.get("pyautogui_norm") or ""),
        computer13=tuple(json.loads(row["computer13"])) if row.get("computer13") else (),
        target=_target(row),
    )


def _keyframe(row: dict[str, Any], prefix: str, frame: ev.Rect) -> Keyframe | None:
    image = row.get(f"{prefix}_image")
    if not image:
        return None  # no frame, or one the exporters could not name: nothing to point at
    blob, _, fmt = str(image).removeprefix("images/").rpartition(".")
    x, y = row.get(f"{prefix}_cursor_x"), row.get(f"{prefix}_cursor_y")
    return Keyframe(
        seq=0, t=0, blob=blob, width=int(row.get(f"{prefix}_width") or 0),
        height=int(row.get(f"{prefix}_height") or 0), format=fmt or "png",
        monitor=int(row.get(f"{prefix}_monitor") or 0), bounds=frame, trigger=prefix, pixel_hash=blob,
        cursor=(int(x), int(y)) if x is not None and y is not None else None,
    )


def _target(row: dict[str, Any]) -> ev.Element | None:
    if row.get("target_role") is None:
        return None
    box = row.get("target_bbox")
    path = json.loads(row["target_path"]) if row.get("target_path") else []
    return ev.Element(
        seq=0, t=0, for_seq=0, source=row.get("target_source") or "atspi", role=str(row["target_role"]),
        name=row.get("target_name"), states=tuple(row.get("target_states") or ()),
        bounds=ev.Rect(*(int(v) for v in box)) if box else None,
        path=tuple(ev.UiNode(str(role), name) for role, name in path),
    )
