"""The same input through the local process pool and through a local Ray instance gives
byte-identical dataset versions (sealed shards, images, manifest)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apprentice.pipeline.service import QualityFilter, VersionSpec, build_version
from apprentice.pipeline.service.store import load_or_create_key
from tests.unit.pipeline.service.conftest import Recorded

ROOT = Path(__file__).resolve().parents[4]


def _version_bytes(recorded: Recorded, name: str, **options: object) -> dict[str, bytes]:
    worker = recorded.worker(name, **options)
    try:
        stats = worker.run_once()
        assert stats.staged == len(recorded.collector.source.chunks)
        key = load_or_create_key(recorded.tmp / "pipeline-keys", "dataset-ds.key")
        version = build_version(
            worker.state,
            worker.store,
            key,
            recorded.tmp / name,
            "ds",
            VersionSpec(quality=QualityFilter(min_steps=1)),
        )
    finally:
        worker.close()
    return {
        str(p.relative_to(version.folder)): p.read_bytes() for p in version.folder.rglob("*") if p.is_file()
    }


def test_local_pool_matches_inline(recorded: Recorded) -> None:
    assert _version_bytes(recorded, "pool", executor="local", workers=2) == _version_bytes(recorded, "inline")


@pytest.mark.slow
def test_ray_matches_the_local_pool(recorded: Recorded, monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray", reason="needs ray (pip install 'apprentice[ray]')")
    # Ray workers import the test's OCR stub from this checkout.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    local = _version_bytes(recorded, "local", executor="local", workers=2)
    ray_built = _version_bytes(recorded, "ray", executor="ray", workers=2)
    assert not ray.is_initialized()  # the executor shut down the instance it started
    assert sorted(ray_built) == sorted(local) and ray_built == local
