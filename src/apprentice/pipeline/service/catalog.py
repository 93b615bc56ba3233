"""The pipeline's episodes and dataset versions for the portal and the governance export.

Three seams, matched by shape (the pipeline never imports ``server`` or ``web``; the test
``test_catalog.py`` checks these against the protocols themselves):

- :class:`PipelineEpisodes` is the portal's ``EpisodeCatalog`` (``web/seams.py``) — a
  contributor's processed episodes and a redacted thumbnail — and the collector's
  ``EpisodeArchive`` (``server/governance.py``) — their episodes for their data export.
- :class:`PipelineDatasets` is the portal's ``DatasetCatalog``: active versions, a version
  decrypted into a plain folder for the viewer, and builds of new versions with progress.

Privacy (docs/pipeline.md, "Portal and export"): a contributor sees and exports only their
own live episodes, as the pipeline stored them — redacted twice and scrubbed (user and host
names, their own contributor and device ids replaced), with no pseudonym (that belongs to a
dataset) — plus each episode's start time, which datasets coarsen to the month. Withdrawn
(forgotten or deleted) episodes are never shown. Every method is called after the caller's
access was authorised; the contributor check here is a second guard, not the first.
"""

from __future__ import annotations

import io
import json
import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from apprentice.errors import ApprenticeError
from apprentice.pipeline.service.assemble import EPISODES_KIND
from apprentice.pipeline.service.ingest import IMAGES_KIND
from apprentice.pipeline.service.state import PipelineState, open_state
from apprentice.pipeline.service.store import STATE_KEY, SealedFiles, default_key_dir, load_or_create_key

THUMBNAIL_WIDTH = 320


# -- records with the portal's field names (web/seams.py) --------------------------------

@dataclass(frozen=True, slots=True)
class EpisodeSummary:
    episode_id: str
    started_at: datetime | None
    duration_s: float
    num_steps: int
    apps: tuple[str, ...]
    has_thumbnail: bool


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    name: str
    version: str  # "v3"
    episodes: int
    steps: int
    action_mix: dict[str, int]
    outcomes: dict[str, int]
    built_from: str | None = None


@dataclass(frozen=True, slots=True)
class BuildJob:
    id: str
    state: str  # queued | running | done | failed
    stage: str
    done: int
    total: int
    result: str | None = None  # "name/v4" when done
    error: str | None = None


class BuildRequest(Protocol):
    """What the portal's ``BuildFilters`` carries."""

    source: str
    apps: tuple[str, ...]
    outcome: str | None
    min_steps: int


class _Base:
    def __init__(self, data_dir: Path, key_dir: Path | None = None, *, state_url: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.key_dir = Path(key_dir) if key_dir is not None else default_key_dir()
        if state_url is None and not (self.data_dir / "pipeline.db").exists():
            raise ApprenticeError(
                f"{self.data_dir} has no pipeline state; run `apprentice pipeline run` first")
        self.state: PipelineState = open_state(state_url or f"sqlite:///{self.data_dir / 'pipeline.db'}")
        self.store = SealedFiles(self.data_dir / "store",
                                 load_or_create_key(self.key_dir, STATE_KEY, self.data_dir))

    def close(self) -> None:
        self.state.close()


class PipelineEpisodes(_Base):
    """A contributor's own processed episodes: the portal's list and thumbnails, and the
    ``episodes/…`` files of their data export."""

    def _records(self, contributor: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for info in self.state.episodes():  # live episodes only: none forgotten or deleted
            if info.contributor_id != contributor:
                continue
            try:
                yield info.episode_id, json.loads(self.store.get(EPISODES_KIND, info.episode_id))
            except KeyError:
                continue

    def _own(self, contributor: str, episode_id: str) -> dict[str, Any] | None:
        info = next((e for e in self.state.episodes() if e.episode_id == episode_id), None)
        if info is None or info.contributor_id != contributor:
            return None
        try:
            record: dict[str, Any] = json.loads(self.store.get(EPISODES_KIND, episode_id))
        except KeyError:
            return None
        return record

    def episodes_of(self, contributor: str) -> list[EpisodeSummary]:
        """Newest first (by start time, then id); empty when nothing was processed yet."""
        out = []
        for episode_id, record in self._records(contributor):
            row = record["episode"]
            started = record.get("started_at")
            out.append(EpisodeSummary(
                episode_id, datetime.fromisoformat(started) if started else None, float(row["duration_s"]),
                int(row["num_steps"]), tuple(row.get("apps") or ()), _first_image(record) is not None))
        return sorted(out, key=lambda e: (e.started_at.timestamp() if e.started_at else 0.0, e.episode_id),
                      reverse=True)

    def thumbnail(self, contributor: str, episode_id: str) -> bytes | None:
        """The first pre-action screenshot (after both redactions), scaled to 320 px wide."""
        record = self._own(contributor, episode_id)
        name = _first_image(record) if record else None
        if name is None:
            return None
        try:
            data = self.store.get(IMAGES_KIND, name)
        except KeyError:
            return None
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 4))
            out = io.BytesIO()
            image.save(out, format="PNG")
        return out.getvalue()

    def episodes_for(self, contributor_id: str) -> Iterator[tuple[str, bytes]]:
        """``<episode id>/episode.json`` (the episode and step rows, start time) and
        ``<episode id>/images/<sha256>.png`` (redacted screenshots) for each live episode."""
        for episode_id, record in self._records(contributor_id):
            doc = {"episode": record["episode"], "steps": record["steps"],
                   "started_at": record.get("started_at")}
            text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
            yield f"{episode_id}/episode.json", text.encode()
            for blob in record.get("images") or ():
                try:
                    yield f"{episode_id}/images/{blob}.png", self.store.get(IMAGES_KIND, f"{blob}.png")
                except KeyError:
                    continue


def _first_image(record: dict[str, Any]) -> str | None:
    for step in record.get("steps") or ():
        image = step.get("pre_image")
        if image:
            return str(image).removeprefix("images/")
    return None


class PipelineDatasets(_Base):
    """Dataset versions for the ML engineer's pages.

    ``folder`` decrypts a version (with ``<key dir>/dataset-<name>.key``) into
    ``<data dir>/views/<name>/v<N>/`` in the layout of a local ``dataset build`` (all
    splits in the ``train`` files, Parquet + images), which the portal's viewer reads;
    withdrawing the version deletes that copy. ``build`` derives a new version of the same
    dataset from a version's spec plus the portal's filters, in a background thread.
    """

    def __init__(self, data_dir: Path, key_dir: Path | None = None, *, state_url: str | None = None) -> None:
        super().__init__(data_dir, key_dir, state_url=state_url)
        self._jobs: dict[str, BuildJob] = {}
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()  # one build at a time: version numbers stay in order

    def _active(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(v["name"], f"v{v['version']}"): v
                for v in self.state.list_versions() if v["status"] == "active"}

    def versions(self) -> list[DatasetVersion]:
        from apprentice.pipeline.service.datasets import version_dir

        out = []
        for (name, label), item in sorted(self._active().items()):
            try:
                manifest = json.loads((version_dir(self.data_dir, name, item["version"]) / "manifest.json")
                                      .read_text("utf-8"))
            except (OSError, ValueError):
                continue
            out.append(DatasetVersion(name, label, int(manifest["episodes"]), int(manifest["steps"]),
                                      dict(manifest.get("action_mix") or {}),
                                      dict(manifest.get("outcomes") or {}),
                                      manifest.get("spec", {}).get("built_from")))
        return out

    def _number(self, name: str, version: str) -> int:
        if (name, version) not in self._active():
            raise KeyError(f"{name}/{version}")
        return int(version.removeprefix("v"))

    def folder(self, name: str, version: str) -> Path:
        """The plain folder of an active version (decrypted on first use); KeyError otherwise."""
        from apprentice.crypto import load_key_file
        from apprentice.pipeline.export import create_exporter
        from apprentice.pipeline.service.datasets import _open_version, _rows, version_dir, view_dir
        from apprentice.pipeline.service.rows import dataset_from_rows

        number = self._number(name, version)
        target = view_dir(self.data_dir, name, number)
        if (target / "dataset.json").exists():
            return target
        source = version_dir(self.data_dir, name, number)
        manifest = json.loads((source / "manifest.json").read_text("utf-8"))
        opened = _open_version(source, load_key_file(self.key_dir / f"dataset-{name}.key"), manifest)
        episodes, steps = _rows(opened)
        dataset = dataset_from_rows(episodes, steps, lambda blob: opened[f"images/{blob}.png.sealed"],
                                    name=name)
        staging = target.with_name(target.name + f".{secrets.token_hex(4)}.partial")
        staging.mkdir(mode=0o700, parents=True)
        try:
            create_exporter("parquet").write(dataset, staging)
            (staging / "dataset.json").write_text(json.dumps({
                "name": name, "version": version,
                "episodes": manifest["episodes"], "steps": manifest["steps"],
                "action_mix": manifest.get("action_mix") or {}, "outcomes": manifest.get("outcomes") or {},
            }, indent=2, sort_keys=True) + "\n", "utf-8")
            if target.exists():  # a concurrent request got there first
                shutil.rmtree(staging)
            else:
                staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if self.state.version_status(name, number) != "active":  # withdrawn meanwhile
            shutil.rmtree(target, ignore_errors=True)
            raise KeyError(f"{name}/{version}")
        return target

    def build(self, filters: BuildRequest) -> BuildJob:
        """A new version of ``filters.source``'s dataset: its spec, narrowed by the filters.
        KeyError for an unknown or withdrawn source version."""
        from apprentice.pipeline.service.datasets import VersionSpec

        name, _, version = filters.source.partition("/")
        item = self._active().get((name, version))
        if item is None:
            raise KeyError(filters.source)
        base = VersionSpec.from_dict(item["spec"])
        spec = replace(base, apps=tuple(filters.apps) or base.apps,
                       quality=replace(base.quality, min_steps=max(1, int(filters.min_steps))),
                       outcomes=(filters.outcome,) if filters.outcome else base.outcomes,
                       built_from=f"{name}/{version}")
        job = BuildJob("job-" + secrets.token_hex(6), "queued", "queued", 0, 0)
        with self._lock:
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job.id, name, spec), daemon=True).start()
        return job

    def job(self, job_id: str) -> BuildJob:
        with self._lock:
            return self._jobs[job_id]

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)

    def _run(self, job_id: str, name: str, spec: Any) -> None:
        from apprentice.pipeline.service.datasets import build_version

        try:
            with self._build_lock:
                self._update(job_id, state="running", stage="reading episodes")
                key = load_or_create_key(self.key_dir, f"dataset-{name}.key", self.data_dir)
                result = build_version(self.state, self.store, key, self.data_dir, name, spec,
                                       progress=lambda d, t: self._update(job_id, done=d, total=t))
            self._update(job_id, state="done", stage="done", result=f"{name}/v{result.version}")
        except Exception as exc:  # the job reports it; the thread must not die silently
            message = (str(exc) if isinstance(exc, ApprenticeError)
                       else f"the build failed ({type(exc).__name__})")
            self._update(job_id, state="failed", stage="failed", error=message)
