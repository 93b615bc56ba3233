"""Parquet ``episodes`` and ``steps`` tables, images beside them, and a dataset card.

Layout (``datasets.load_dataset(out_dir)`` reads it through the card's ``configs``)::

    README.md                                    dataset card, YAML configs
    action_mix.png                               chart used by the card
    data/steps/train-00000-of-00001.parquet      one row per step (default config)
    data/episodes/train-00000-of-00001.parquet   one row per episode
    images/<sha256>.<ext>                        screenshots, named by content hash

Schemas are explicit so an all-null column still has its type.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from apprentice.pipeline.dataset import Dataset
from apprentice.pipeline.export._images import write_images
from apprentice.pipeline.export._rows import episode_row, step_row
from apprentice.pipeline.export.card import EPISODES_FILE, STEPS_FILE, write_card

_MONITOR = pa.struct([
    ("index", pa.int32()), ("x", pa.int32()), ("y", pa.int32()), ("width", pa.int32()),
    ("height", pa.int32()), ("scale", pa.float64()), ("primary", pa.bool_()),
])
EPISODES_SCHEMA = pa.schema([
    ("episode_id", pa.string()), ("source", pa.string()), ("instruction", pa.string()),
    ("outcome", pa.string()), ("complete", pa.bool_()), ("platform", pa.string()),
    ("screen_width", pa.int32()), ("screen_height", pa.int32()), ("scale", pa.float64()),
    ("monitors", pa.list_(_MONITOR)), ("apps", pa.list_(pa.string())),
    ("sites", pa.list_(pa.string())), ("num_steps", pa.int32()), ("duration_s", pa.float64()),
    ("action_counts", pa.string()), ("config", pa.string()),
    ("first_seq", pa.int64()), ("last_seq", pa.int64()),
])
_POINT = pa.struct([("t_s", pa.float64()), ("x", pa.int32()), ("y", pa.int32())])


def _frame_fields(prefix: str) -> list[tuple[str, pa.DataType]]:
    return [
        (f"{prefix}_image", pa.string()), (f"{prefix}_width", pa.int32()),
        (f"{prefix}_height", pa.int32()), (f"{prefix}_monitor", pa.int32()),
        (f"{prefix}_cursor_x", pa.int32()), (f"{prefix}_cursor_y", pa.int32()),
    ]


STEPS_SCHEMA = pa.schema([
    ("episode_id", pa.string()), ("step_index", pa.int32()), ("action_type", pa.string()),
    ("t_offset_s", pa.float64()), ("duration_s", pa.float64()),
    ("x", pa.int32()), ("y", pa.int32()), ("end_x", pa.int32()), ("end_y", pa.int32()),
    ("nx", pa.float64()), ("ny", pa.float64()), ("end_nx", pa.float64()),
    ("end_ny", pa.float64()), ("button", pa.string()), ("text", pa.string()),
    ("key", pa.string()), ("modifiers", pa.list_(pa.string())), ("count", pa.int32()),
    ("dx", pa.int32()), ("dy", pa.int32()), ("path", pa.list_(_POINT)),
    ("pyautogui", pa.string()), ("pyautogui_norm", pa.string()), ("computer13", pa.string()),
    ("frame_x", pa.int32()), ("frame_y", pa.int32()), ("frame_width", pa.int32()),
    ("frame_height", pa.int32()),
    *_frame_fields("pre"), *_frame_fields("post"),
    ("app_id", pa.string()), ("window_title", pa.string()), ("url", pa.string()),
    ("target_source", pa.string()), ("target_role", pa.string()), ("target_name", pa.string()),
    ("target_states", pa.list_(pa.string())), ("target_bbox", pa.list_(pa.int32())),
    ("target_bbox_norm", pa.list_(pa.float64())), ("target_path", pa.string()),
    ("first_seq", pa.int64()), ("last_seq", pa.int64()), ("seqs", pa.list_(pa.int64())),
])


class ParquetExporter:
    name = "parquet"

    def write(self, dataset: Dataset, out_dir: Path) -> list[str]:
        images = write_images(dataset, out_dir)
        episodes = [episode_row(e) for e in dataset.episodes]
        steps = [step_row(e, s, images) for e in dataset.episodes for s in e.steps]
        _write_table(episodes, EPISODES_SCHEMA, out_dir / EPISODES_FILE)
        _write_table(steps, STEPS_SCHEMA, out_dir / STEPS_FILE)
        return [STEPS_FILE, EPISODES_FILE, *write_card(dataset, out_dir)]


def _write_table(rows: list[dict[str, object]], schema: pa.Schema, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path, compression="zstd")


EXPORTER = ParquetExporter()
