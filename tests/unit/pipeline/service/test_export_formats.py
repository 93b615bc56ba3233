"""`dataset export --format …` from a sealed version: every exporter of the local
`dataset build` writes the version's rows (rebuilt into episodes by ``service/rows.py``),
behind the same purpose and withdrawal checks, and no file of any format holds a
contributor id, device id, user name, host name or typed canary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apprentice.errors import DatasetError
from apprentice.pipeline.export import EXPORTERS
from apprentice.pipeline.export._rows import step_row
from apprentice.pipeline.service import QualityFilter, VersionSpec, build_version, export_version
from apprentice.pipeline.service.rows import episode_from_rows
from apprentice.pipeline.service.store import load_or_create_key
from tests.unit.pipeline.service.conftest import CANARIES, PEOPLE, Recorded
from tests.unit.pipeline.service.scan import scan

SPEC = VersionSpec(quality=QualityFilter(min_steps=1))
ALL = tuple(EXPORTERS)


def _secrets() -> list[str]:
    return [value for person in PEOPLE.values() for value in person] + list(CANARIES)


def _version(recorded: Recorded):  # type: ignore[no-untyped-def]
    worker = recorded.worker()
    worker.run_once()
    key = load_or_create_key(recorded.tmp / "pipeline-keys", "dataset-fmt.key")
    version = build_version(worker.state, worker.store, key, Path(worker.settings.data_dir), "fmt", SPEC)
    return worker, key, version


def test_every_format_is_exported_and_free_of_identities_and_canaries(recorded: Recorded) -> None:
    worker, key, version = _version(recorded)
    out = recorded.tmp / "all"
    summary = export_version(version.folder, key, out, purpose="model_training", formats=ALL)
    assert sorted(summary["formats"]) == sorted(ALL)
    episodes = {e.episode_id for e in worker.state.episodes()}
    assert set(summary["episode_splits"]) == episodes
    assert {p.name for p in (out / "osworld").iterdir()} == episodes
    assert {p.stem for p in (out / "computer13").iterdir()} == episodes
    lines = (out / "agentnet" / "trajectories.jsonl").read_text().splitlines()
    assert {json.loads(line)["task_id"] for line in lines} == episodes
    assert list((out / "wds").glob("shard-*.tar"))
    images = {p.name for p in (out / "images").iterdir()}
    assert images and all(name.endswith(".png") for name in images)
    # Every image a format points at was written.
    for line in lines:
        for step in json.loads(line)["traj"]:
            assert step["image"] is None or (out / step["image"]).is_file()
    hits = scan(out, _secrets())
    assert hits == {}, hits
    # The typed text survived as scrubbed text (the scan is not vacuous).
    text = (out / "wds").joinpath("shard-000000.tar").read_bytes()
    assert b"<USER>@<HOST>" in text and b"/home/<USER>/src" in text and b"<CREDIT_CARD>" in text


def test_rebuilt_steps_give_back_the_stored_rows(recorded: Recorded) -> None:
    """The exporters see exactly what the version holds: step_row(rebuilt step) == stored row."""
    _, key, version = _version(recorded)
    out = recorded.tmp / "pq"
    export_version(version.folder, key, out, purpose="model_training")
    import pyarrow.parquet as pq

    episode_rows = [r for p in (out / "data" / "episodes").iterdir() for r in pq.read_table(p).to_pylist()]
    step_rows = [r for p in (out / "data" / "steps").iterdir() for r in pq.read_table(p).to_pylist()]
    assert step_rows
    for row in episode_rows:
        mine = sorted((s for s in step_rows if s["episode_id"] == row["episode_id"]),
                      key=lambda s: s["step_index"])
        episode = episode_from_rows(row, mine)
        images = {f.blob: f"images/{f.blob}.png" for s in episode.steps for f in (s.pre, s.post) if f}
        for step, stored in zip(episode.steps, mine, strict=True):
            stored = {k: v for k, v in stored.items() if k != "split"}
            assert step_row(episode, step, images) == stored


def test_formats_keep_the_purpose_and_withdrawal_checks(recorded: Recorded) -> None:
    worker, key, version = _version(recorded)
    with pytest.raises(DatasetError, match="model_training"):
        export_version(version.folder, key, recorded.tmp / "a", purpose="analytics", formats=("osworld",))
    with pytest.raises(DatasetError, match="unknown dataset format"):
        export_version(version.folder, key, recorded.tmp / "b", purpose="model_training", formats=("csv",))
    recorded.collector.source.forget(PEOPLE["alice"][0])
    worker.run_once()
    status = worker.state.version_status("fmt", version.version)
    with pytest.raises(DatasetError, match="withdrawn"):
        export_version(version.folder, key, recorded.tmp / "c", purpose="model_training",
                       status=status, formats=("wds",))
    assert not (recorded.tmp / "c").exists()
