"""The pipeline end to end: raw events → actions → episodes → dataset files.

``build_dataset`` is what ``apprentice dataset build`` calls: it splits the log into
sessions, reduces each to actions, cuts episodes, and runs the chosen exporters into an
empty folder, then writes ``dataset.json`` (a manifest ``inspect_dataset`` reads). Same
events, frames and configuration give byte-identical output. It receives events and a
frame loader, so it can never bypass whoever decided this caller may read them; it logs
nothing about content.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apprentice import events as ev
from apprentice.errors import ConfigError
from apprentice.pipeline.actions import reduce_actions
from apprentice.pipeline.config import PIPELINE_VERSION, PipelineConfig
from apprentice.pipeline.dataset import Dataset, LoadFrame
from apprentice.pipeline.episodes import segment_episodes
from apprentice.pipeline.export import EXPORTERS, create_exporter
from apprentice.pipeline.model import ACTION_TYPES
from apprentice.pipeline.session import split_sessions

Progress = Callable[[str, int, int], None]  # (stage, done, total)
MANIFEST = "dataset.json"


@dataclass(frozen=True)
class BuildResult:
    dataset: Dataset
    out_dir: Path
    files: dict[str, list[str]]  # format → files written, relative to out_dir


def build_dataset(
    events: Iterable[ev.Event],
    load_frame: LoadFrame,
    out_dir: Path,
    formats: Sequence[str] = ("parquet",),
    config: PipelineConfig | None = None,
    progress: Progress | None = None,
    name: str = "apprentice",
) -> BuildResult:
    """Build a dataset from raw events into ``out_dir`` (which must be new or empty)."""
    config = config or PipelineConfig()
    unknown = [f for f in formats if f not in EXPORTERS]
    if unknown:
        raise ConfigError(f"unknown dataset format {unknown[0]!r}; choose from {sorted(EXPORTERS)}")
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ConfigError(f"{out_dir} is not empty; build a dataset into a new folder")
    report = progress or (lambda stage, done, total: None)

    sessions = split_sessions(events)
    episodes = []
    for i, session in enumerate(sessions):
        actions = reduce_actions(session, config.actions)
        episodes += segment_episodes(actions, session, config)
        report("episodes", i + 1, len(sessions))
    dataset = Dataset(tuple(episodes), config, load_frame, name)

    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str]] = {}
    chosen = list(dict.fromkeys(formats))
    for i, fmt in enumerate(chosen):
        files[fmt] = create_exporter(fmt).write(dataset, out_dir)
        report("export", i + 1, len(chosen))
    _write_manifest(dataset, out_dir, files)
    return BuildResult(dataset, out_dir, files)


def inspect_dataset(directory: Path) -> dict[str, Any]:
    """Summarise a built dataset folder: counts, action mix, formats, image files."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise ConfigError(f"{directory} has no {MANIFEST}; is it a dataset built by apprentice?")
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{manifest_path} cannot be read: {exc}") from exc
    images = sorted((directory / "images").glob("*")) if (directory / "images").is_dir() else []
    files = manifest.get("formats") or manifest.get("files", {})
    if isinstance(files, list):  # an exported pipeline version (`dataset export`) lists its files
        files = {"parquet": [f for f in files if f.endswith(".parquet")]}
    missing = [path for paths in files.values() for path in paths if not (directory / path).is_file()]
    return {
        "name": manifest.get("name"),
        "version": manifest.get("version"),
        "pipeline_version": manifest.get("pipeline_version"),
        "formats": sorted(files),
        "episodes": manifest.get("episodes"),
        "steps": manifest.get("steps"),
        "action_mix": manifest.get("action_mix"),
        "outcomes": manifest.get("outcomes"),
        "images": len(images),
        "image_bytes": sum(p.stat().st_size for p in images),
        "missing_files": missing,
    }


def _write_manifest(dataset: Dataset, out_dir: Path, files: dict[str, list[str]]) -> None:
    mix = Counter(s.action.type for e in dataset.episodes for s in e.steps)
    manifest = {
        "name": dataset.name,
        "pipeline_version": PIPELINE_VERSION,
        "episodes": len(dataset.episodes),
        "steps": dataset.num_steps,
        "action_mix": {t: mix[t] for t in ACTION_TYPES if mix[t]},
        "outcomes": dict(sorted(Counter(e.outcome or "none" for e in dataset.episodes).items())),
        "config": dataset.config.as_dict(),
        "files": files,
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", "utf-8")
