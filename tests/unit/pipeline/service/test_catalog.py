"""The pipeline's seams for the portal and the governance export (``service/catalog.py``),
checked against the protocols they stand in for (``web/seams.py``, ``server/governance.py``):
same methods and parameters, records with the same fields — and used as the portal uses
them: a contributor sees and exports only their own live episodes, an ML engineer's viewer
reads a decrypted version, a build runs as a job."""

from __future__ import annotations

import inspect
import io
import json
import time
from pathlib import Path

import pytest

from apprentice.pipeline.service import QualityFilter, VersionSpec, build_version
from apprentice.pipeline.service import catalog as ours
from apprentice.pipeline.service.store import load_or_create_key
from apprentice.server.governance import EpisodeArchive
from apprentice.web import seams, viewer
from apprentice.web.seams import BuildFilters, DatasetCatalog, EpisodeCatalog
from tests.unit.pipeline.service.conftest import CANARIES, PEOPLE, Recorded
from tests.unit.pipeline.service.scan import scan

ALICE, BOB = PEOPLE["alice"][0], PEOPLE["bob"][0]


def _methods(proto: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(value) for name, value in vars(proto).items()
            if callable(value) and not name.startswith("_")}


@pytest.mark.parametrize(("cls", "proto"), [(ours.PipelineEpisodes, EpisodeCatalog),
                                            (ours.PipelineEpisodes, EpisodeArchive),
                                            (ours.PipelineDatasets, DatasetCatalog)])
def test_the_classes_have_the_protocols_methods(cls: type, proto: type) -> None:
    wanted = _methods(proto)
    assert wanted
    for name, signature in wanted.items():
        mine = inspect.signature(getattr(cls, name))
        assert list(mine.parameters) == list(signature.parameters), name


@pytest.mark.parametrize("record", ["EpisodeSummary", "DatasetVersion", "BuildJob"])
def test_the_portal_uses_the_pipelines_records(record: str) -> None:
    # one definition, in the pipeline (which may not import the web layer)
    assert getattr(seams, record) is getattr(ours, record)


@pytest.fixture
def processed(recorded: Recorded):  # type: ignore[no-untyped-def]
    worker = recorded.worker()
    worker.run_once()
    key = load_or_create_key(recorded.tmp / "pipeline-keys", "dataset-portal.key")
    version = build_version(worker.state, worker.store, key, Path(worker.settings.data_dir), "portal",
                            VersionSpec(quality=QualityFilter(min_steps=1)))
    yield worker, version
    worker.close()


def test_a_contributor_sees_and_exports_only_their_own_episodes(recorded: Recorded, processed) -> None:  # type: ignore[no-untyped-def]
    worker, _ = processed
    episodes = ours.PipelineEpisodes(recorded.tmp / "data", recorded.tmp / "pipeline-keys")
    mine = {e.episode_id for e in worker.state.episodes() if e.contributor_id == ALICE}
    listed = episodes.episodes_of(ALICE)
    assert {e.episode_id for e in listed} == mine
    assert all(e.started_at is not None and e.num_steps > 0 for e in listed)
    starts = [e.started_at for e in listed]
    assert starts == sorted(starts, reverse=True)  # newest first
    assert episodes.episodes_of("c-nobody") == []
    first = next(e for e in listed if e.has_thumbnail)
    from PIL import Image

    png = episodes.thumbnail(ALICE, first.episode_id)
    assert png is not None and Image.open(io.BytesIO(png)).format == "PNG"
    assert episodes.thumbnail(BOB, first.episode_id) is None  # not bob's episode

    files = dict(episodes.episodes_for(ALICE))
    assert {name.split("/")[0] for name in files} == mine
    assert any("/images/" in name for name in files)
    doc = json.loads(files[f"{first.episode_id}/episode.json"])
    assert doc["episode"]["episode_id"] == first.episode_id and doc["steps"]
    # Redacted and scrubbed: no ids, user or host names, canaries; nothing of bob's either.
    out = recorded.tmp / "alice-export"
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    secrets = [v for person in PEOPLE.values() for v in person] + list(CANARIES)
    assert scan(out, secrets) == {}
    bobs = {e.episode_id for e in worker.state.episodes() if e.contributor_id == BOB}
    assert not any(b in name for b in bobs for name in files)

    # A deletion withdraws them from her view too.
    recorded.collector.source.delete(ALICE)
    worker.run_once()
    assert episodes.episodes_of(ALICE) == [] and list(episodes.episodes_for(ALICE)) == []
    episodes.close()


def test_the_ml_engineer_views_a_version_and_builds_a_derived_one(recorded: Recorded, processed) -> None:  # type: ignore[no-untyped-def]
    worker, version = processed
    datasets = ours.PipelineDatasets(recorded.tmp / "data", recorded.tmp / "pipeline-keys")
    listed = datasets.versions()
    assert [(v.name, v.version) for v in listed] == [("portal", f"v{version.version}")]
    assert listed[0].episodes == version.episodes and sum(listed[0].action_mix.values()) == version.steps
    folder = datasets.folder("portal", f"v{version.version}")
    rows = viewer.list_episodes(folder)  # what the portal's dataset page reads
    assert {r["episode_id"] for r in rows} == {e.episode_id for e in worker.state.episodes()}
    steps = viewer.episode_steps(folder, rows[0]["episode_id"])
    assert steps and all(s.pre_image is None or viewer.image_path(folder, s.pre_image) for s in steps)
    assert any(s.pre_image for s in steps)
    with pytest.raises(KeyError):
        datasets.folder("portal", "v99")

    job = datasets.build(BuildFilters(f"portal/v{version.version}", apps=("Editor",), min_steps=2))
    deadline = time.monotonic() + 60
    while datasets.job(job.id).state not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)
    done = datasets.job(job.id)
    assert done.state == "done", done.error
    assert done.result == f"portal/v{version.version + 1}"
    derived = next(v for v in datasets.versions() if v.version == f"v{version.version + 1}")
    assert derived.built_from == f"portal/v{version.version}"
    with pytest.raises(KeyError):
        datasets.build(BuildFilters("portal/v99"))
    failed = datasets.build(BuildFilters(f"portal/v{version.version}", outcome="success"))
    while datasets.job(failed.id).state not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert datasets.job(failed.id).state == "failed" and "no episode" in (datasets.job(failed.id).error or "")

    # Forgetting a contributor withdraws the versions and deletes the portal's plain copy.
    recorded.collector.source.forget(BOB)
    worker.run_once()
    assert not folder.exists() and datasets.versions() == []
    datasets.close()
