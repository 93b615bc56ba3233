"""Reading a dataset folder for the ML engineer's pages: the episode list, one episode's
steps with the action drawn over its screenshots, and chart data.

Marks are computed here in *image* pixels of the pre-action screenshot (docs/dataset-format.md,
"Coordinate frames": ``image = (pixel - frame_x) * pre_width / frame_width``) so the template
draws them as SVG over the image, which works with JavaScript off. Reads files only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apprentice.pipeline.export.card import EPISODES_FILE, STEPS_FILE

_POINTER = ("click", "double_click", "triple_click", "right_click", "middle_click", "long_press")
_EPISODE_COLUMNS = ["episode_id", "source", "instruction", "outcome", "num_steps", "duration_s", "apps"]


@dataclass(frozen=True, slots=True)
class Mark:
    """One thing to draw: ``kind`` click, drag, scroll, text or key; points in image pixels."""

    kind: str
    points: tuple[tuple[float, float], ...]
    label: str = ""


@dataclass(frozen=True, slots=True)
class StepView:
    index: int
    action_type: str
    summary: str
    pre_image: str | None
    post_image: str | None
    width: int
    height: int
    marks: tuple[Mark, ...] = field(default_factory=tuple)
    code: str = ""


def list_episodes(folder: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    table = pq.read_table(folder / EPISODES_FILE)
    columns = [c for c in _EPISODE_COLUMNS if c in table.column_names]
    return table.select(columns).to_pylist()


def episode_steps(folder: Path, episode_id: str) -> list[StepView]:
    """The steps of one episode in order; KeyError if the dataset has no such episode."""
    import pyarrow.parquet as pq

    table = pq.read_table(folder / STEPS_FILE, filters=[("episode_id", "=", episode_id)])
    rows = sorted(table.to_pylist(), key=lambda r: r["step_index"])
    if not rows:
        raise KeyError(episode_id)
    return [_step(row) for row in rows]


def image_path(folder: Path, name: str) -> Path | None:
    """The file of ``images/<name>`` inside the dataset, or None (no path tricks)."""
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    path = folder / "images" / name
    return path if path.is_file() else None


def _step(row: dict[str, Any]) -> StepView:
    width = row.get("pre_width") or row.get("frame_width") or 1
    height = row.get("pre_height") or row.get("frame_height") or 1

    def to_image(x: int | None, y: int | None) -> tuple[float, float] | None:
        if x is None or y is None:
            return None
        fw, fh = row.get("frame_width") or width, row.get("frame_height") or height
        return (round((x - (row.get("frame_x") or 0)) * width / fw, 1),
                round((y - (row.get("frame_y") or 0)) * height / fh, 1))

    kind = row["action_type"]
    start = to_image(row.get("x"), row.get("y"))
    marks: list[Mark] = []
    summary = kind.replace("_", " ")
    if kind in _POINTER and start:
        marks.append(Mark("click", (start,), summary))
        summary += f" at ({row['x']}, {row['y']})"
    elif kind == "drag" and start:
        path = [to_image(p["x"], p["y"]) for p in row.get("path") or ()]
        end = to_image(row.get("end_x"), row.get("end_y"))
        points = tuple(p for p in (start, *path, end) if p is not None)
        marks.append(Mark("drag", points, "drag"))
        summary += f" from ({row['x']}, {row['y']}) to ({row.get('end_x')}, {row.get('end_y')})"
    elif kind == "scroll" and start:
        dx, dy = row.get("dx") or 0, row.get("dy") or 0
        # +dy scrolls up (pyautogui convention), so the arrow points up for positive dy.
        tip = (start[0] + 12 * dx, start[1] - 12 * dy)
        marks.append(Mark("scroll", (start, tip), f"scroll {dy:+d}" if dy else f"hscroll {dx:+d}"))
        summary += f" dx={dx} dy={dy} at ({row['x']}, {row['y']})"
    elif kind == "type":
        marks.append(Mark("text", (), row.get("text") or ""))
        summary += f" “{row.get('text') or ''}”"
    elif kind in ("press", "hotkey"):
        combo = "+".join([*(row.get("modifiers") or ()), row.get("key") or "?"])
        count = row.get("count") or 1
        label = combo + (f" ×{count}" if count > 1 else "")
        marks.append(Mark("key", (), label))
        summary += f" {label}"
    return StepView(row["step_index"], kind, summary, _image_name(row.get("pre_image")),
                    _image_name(row.get("post_image")), int(width), int(height), tuple(marks),
                    row.get("pyautogui") or "")


def _image_name(rel: str | None) -> str | None:
    return None if not rel else rel.rsplit("/", 1)[-1]


def bars(data: dict[str, int], width: int = 480, bar_height: int = 22) -> dict[str, Any]:
    """Geometry of a horizontal bar chart (drawn as inline SVG by the template)."""
    items = sorted(data.items(), key=lambda kv: (-kv[1], kv[0]))
    top = max((v for _, v in items), default=0) or 1
    label_w, value_w = 130, 50
    span = width - label_w - value_w
    rows = [{"label": k, "value": v, "y": i * (bar_height + 6), "w": max(1, round(span * v / top)),
             "x": label_w} for i, (k, v) in enumerate(items)]
    return {"rows": rows, "width": width, "height": max(1, len(rows) * (bar_height + 6)),
            "bar_height": bar_height, "label_w": label_w}
