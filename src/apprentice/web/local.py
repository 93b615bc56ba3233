"""The embedded default behind the portal's pipeline seams (``seams.py``), until the pipeline
service is wired in.

``FolderDatasets`` serves dataset folders built
by ``apprentice dataset build`` (``ROOT/<name>/<version>/``) and builds a new version by
filtering the episodes of an existing one, in a background thread with progress.
``NoEpisodes`` says that nothing has been processed yet; ``NoDatasets`` that this collector
serves no datasets.
"""

from __future__ import annotations

import json
import secrets
import shutil
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from apprentice.web.seams import (
    BuildFilters,
    BuildJob,
    DatasetVersion,
    EpisodeSummary,
)


class NoEpisodes:
    """No processing pipeline wired in: every contributor sees "not processed yet"."""

    def episodes_of(self, contributor: str) -> list[EpisodeSummary]:
        return []

    def thumbnail(self, contributor: str, episode_id: str) -> bytes | None:
        return None


class NoDatasets:
    """No dataset folder configured (a standalone collector): the ML pages say there is none."""

    def versions(self) -> list[DatasetVersion]:
        return []

    def folder(self, name: str, version: str) -> Path:
        raise KeyError(f"{name}/{version}")

    def build(self, filters: BuildFilters) -> BuildJob:
        raise ValueError("this collector has no datasets; build them with the pipeline "
                         "(apprentice dataset build --version NAME)")

    def job(self, job_id: str) -> BuildJob:
        raise KeyError(job_id)


class FolderDatasets:
    """Dataset versions as folders ``ROOT/<name>/<version>/`` written by ``apprentice dataset build``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._jobs: dict[str, BuildJob] = {}
        self._lock = threading.Lock()

    def versions(self) -> list[DatasetVersion]:
        found = []
        for manifest in sorted(self.root.glob("*/*/dataset.json")):
            folder = manifest.parent
            try:
                data = json.loads(manifest.read_text("utf-8"))
            except (OSError, ValueError):
                continue
            found.append(DatasetVersion(folder.parent.name, folder.name, int(data.get("episodes") or 0),
                                        int(data.get("steps") or 0), dict(data.get("action_mix") or {}),
                                        dict(data.get("outcomes") or {}), data.get("built_from")))
        return found

    def folder(self, name: str, version: str) -> Path:
        for v in self.versions():
            if (v.name, v.version) == (name, version):
                return self.root / name / version
        raise KeyError(f"{name}/{version}")

    def build(self, filters: BuildFilters) -> BuildJob:
        name, _, version = filters.source.partition("/")
        source = self.folder(name, version)  # KeyError: unknown source
        existing = {v.version for v in self.versions() if v.name == name}
        number = 1 + max((int(v[1:]) for v in existing if v[1:].isdigit()), default=0)
        target = self.root / name / f"v{number}"
        job = BuildJob("job-" + secrets.token_hex(6), "queued", "queued", 0, 0)
        with self._lock:
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job.id, source, target, filters), daemon=True).start()
        return job

    def job(self, job_id: str) -> BuildJob:
        with self._lock:
            return self._jobs[job_id]

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)

    def _run(self, job_id: str, source: Path, target: Path, filters: BuildFilters) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from apprentice.pipeline.export.card import EPISODES_FILE, STEPS_FILE

        staging = target.with_name(target.name + ".building")
        try:
            episodes = pq.read_table(source / EPISODES_FILE).to_pylist()
            self._update(job_id, state="running", stage="filtering episodes", total=len(episodes))
            keep = []
            for i, row in enumerate(episodes):
                if _matches(row, filters):
                    keep.append(row)
                self._update(job_id, done=i + 1)
            if not keep:
                raise ValueError("no episode matches these filters")
            ids = {row["episode_id"] for row in keep}
            steps = pq.read_table(source / STEPS_FILE)
            steps = steps.filter(pa.compute.is_in(steps["episode_id"], value_set=pa.array(sorted(ids))))
            self._update(job_id, stage="writing the new version")
            for rel, table in ((EPISODES_FILE, pa.Table.from_pylist(keep, schema=pq.read_schema(
                    source / EPISODES_FILE))), (STEPS_FILE, steps)):
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, staging / rel)
            images = {p for col in ("pre_image", "post_image") for p in steps[col].to_pylist() if p}
            for rel in sorted(images):
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / rel, staging / rel)
            mix = Counter(steps["action_type"].to_pylist())
            outcomes = Counter(str(row.get("outcome")) for row in keep)
            manifest = {"name": target.parent.name, "episodes": len(keep), "steps": steps.num_rows,
                        "action_mix": dict(sorted(mix.items())), "outcomes": dict(sorted(outcomes.items())),
                        "built_from": f"{source.parent.name}/{source.name}",
                        "filters": {"apps": list(filters.apps), "outcome": filters.outcome,
                                    "min_steps": filters.min_steps},
                        "files": {"parquet": [EPISODES_FILE, STEPS_FILE]}}
            (staging / "dataset.json").write_text(json.dumps(manifest, indent=2), "utf-8")
            staging.rename(target)
            self._update(job_id, state="done", stage="done", result=f"{target.parent.name}/{target.name}")
        except Exception as exc:  # the job reports it; the thread must not die silently
            shutil.rmtree(staging, ignore_errors=True)
            message = str(exc) if isinstance(exc, ValueError) else f"the build failed ({type(exc).__name__})"
            self._update(job_id, state="failed", stage="failed", error=message)


def _matches(row: dict[str, Any], filters: BuildFilters) -> bool:
    if filters.apps and not set(filters.apps) & set(row.get("apps") or ()):
        return False
    if filters.outcome and row.get("outcome") != filters.outcome:
        return False
    return int(row.get("num_steps") or 0) >= filters.min_steps
