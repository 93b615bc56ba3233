"""Reading a built dataset back: one episode's Parquet ``steps`` rows as :class:`Action` s.

What ``apprentice replay`` re-executes. Every field an action needs is a column of the
``steps`` table (see ``docs/dataset-format.md``), so nothing extra is exported for this.
What does not survive the round trip: times are rounded to the millisecond (the table
stores seconds with 3 decimals, relative to the episode start, so ``t_start`` here counts
from the episode's start, not the session's clock), and ``window`` is not restored
(``app_id``/``window_title``/``url`` stay in the table). Reads files only; never writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apprentice.errors import ConfigError
from apprentice.pipeline.export.card import EPISODES_FILE, STEPS_FILE
from apprentice.pipeline.model import ACTION_TYPES, Action

_NS = 1_000_000_000


def episode_ids(directory: Path) -> list[str]:
    """Return the ids of the episodes in a dataset folder, in dataset order."""
    import pyarrow.parquet as pq

    path = _table(directory, EPISODES_FILE)
    return [str(v) for v in pq.read_table(path, columns=["episode_id"]).column(0).to_pylist()]


def load_episode_actions(directory: Path, episode_id: str) -> list[Action]:
    """Return the actions of one episode, in step order.

    Raises:
        ConfigError: the folder has no Parquet tables, or no episode has this id (the
            message lists the ids there are).
    """
    import pyarrow.parquet as pq

    known = episode_ids(directory)
    if episode_id not in known:
        shown = ", ".join(known[:20]) + (f", … ({len(known)} in all)" if len(known) > 20 else "")
        raise ConfigError(
            f"no episode {episode_id!r} in {directory}; episodes: {shown or 'none'}"
        )
    table = pq.read_table(_table(directory, STEPS_FILE), filters=[("episode_id", "=", episode_id)])
    rows = sorted(table.to_pylist(), key=lambda row: row["step_index"])
    return [action_from_row(row) for row in rows]


def action_from_row(row: dict[str, Any]) -> Action:
    """Rebuild the action of one ``steps`` row (times from the episode start)."""
    kind = row["action_type"]
    if kind not in ACTION_TYPES:
        raise ConfigError(f"step {row.get('step_index')} has unknown action type {kind!r}")
    t_start = round(row["t_offset_s"] * _NS)
    return Action(
        type=kind,
        t_start=t_start,
        t_end=t_start + round(row["duration_s"] * _NS),
        seqs=tuple(row["seqs"]),
        x=row["x"],
        y=row["y"],
        end_x=row["end_x"],
        end_y=row["end_y"],
        button=row["button"],
        path=tuple((t_start + round(p["t_s"] * _NS), p["x"], p["y"]) for p in row["path"] or ()),
        dx=row["dx"],
        dy=row["dy"],
        text=row["text"],
        key=row["key"],
        modifiers=tuple(row["modifiers"] or ()),
        count=row["count"],
    )


def _table(directory: Path, name: str) -> Path:
    path = Path(directory) / name
    if not path.is_file():
        raise ConfigError(
            f"{directory} has no {name}; replay reads the Parquet tables, so build the dataset "
            "with --format parquet"
        )
    return path
