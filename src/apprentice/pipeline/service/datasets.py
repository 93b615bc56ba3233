"""Dataset versions: immutable, filtered, split deterministically, sealed with a dataset key.

``build_version`` picks episodes from the store (filters: apps, sites, months, sources,
quality), refuses anything tombstoned, assigns each episode to a split by a keyed hash of
its id (the same episode lands in the same split in every version of a dataset), adds the
per-dataset contributor pseudonym, and writes::

    <data dir>/datasets/<name>/v<N>/
        manifest.json                              counts, spec, sealed files and their sha256
        shards/episodes-<split>.parquet.sealed     AES-256-GCM under the dataset key
        shards/steps-<split>.parquet.sealed
        images/<sha256>.png.sealed

It is written to a ``.partial`` folder and renamed into place, then recorded (with its
episodes, for lineage) in the state database; a crash anywhere leaves either no version or
the whole one, and a rebuild writes identical bytes. ``export_version`` is the ML
engineer's step (purpose ``model_training``): it decrypts a version into the plain,
``datasets``-loadable layout of ``docs/dataset-format.md``, with one Parquet file per split.
A version that held a forgotten contributor's episodes is withdrawn: its shards are
deleted and it can no longer be exported.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from apprentice.crypto import BlobCipher, derive_key, keyed_hash
from apprentice.errors import DatasetError
from apprentice.pipeline.service.assemble import EPISODES_KIND
from apprentice.pipeline.service.ingest import IMAGES_KIND
from apprentice.pipeline.service.pseudonym import contributor_pseudonym
from apprentice.pipeline.service.quality import QualityFilter
from apprentice.pipeline.service.state import EpisodeInfo, PipelineState
from apprentice.pipeline.service.store import SealedFiles, check_dataset_name

PURPOSE = "model_training"
DEFAULT_SPLITS = (("train", 0.8), ("validation", 0.1), ("test", 0.1))


@dataclass(frozen=True)
class VersionSpec:
    """What a dataset version selects. Stored in its manifest (no ids, only the rules)."""

    apps: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    since: str | None = None  # YYYY-MM, inclusive
    until: str | None = None
    sources: tuple[str, ...] = ()
    quality: QualityFilter = field(default_factory=QualityFilter)
    splits: tuple[tuple[str, float], ...] = DEFAULT_SPLITS
    outcomes: tuple[str, ...] = ()  # success, failure, unknown; "none" for passive episodes
    built_from: str | None = None  # "name/vN" when derived from a version (the portal's builds)

    def __post_init__(self) -> None:
        total = sum(f for _, f in self.splits)
        if not self.splits or abs(total - 1.0) > 1e-9 or any(f < 0 for _, f in self.splits):
            raise DatasetError("split fractions must be non-negative and add up to 1")
        for month in (self.since, self.until):
            if month is not None and (len(month) != 7 or month[4] != "-"):
                raise DatasetError(f"months are written YYYY-MM, not {month!r}")

    def accepts(self, info: EpisodeInfo) -> bool:
        if self.apps and not set(self.apps) & set(info.apps):
            return False
        if self.sites and not set(self.sites) & set(info.sites):
            return False
        if self.sources and info.source not in self.sources:
            return False
        if self.since and (info.month is None or info.month < self.since):
            return False
        if self.until and (info.month is None or info.month > self.until):
            return False
        return self.quality.accepts(info.num_steps, info.redacted_share, info.complete)

    def accepts_outcome(self, outcome: str | None) -> bool:
        return not self.outcomes or (outcome or "none") in self.outcomes

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["splits"] = [list(s) for s in self.splits]
        return out

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> VersionSpec:
        """The spec a version was built with (as stored by :meth:`as_dict`)."""
        quality = spec.get("quality") or {}
        return cls(apps=tuple(spec.get("apps") or ()), sites=tuple(spec.get("sites") or ()),
                   since=spec.get("since"), until=spec.get("until"), sources=tuple(spec.get("sources") or ()),
                   quality=QualityFilter(**quality),
                   splits=tuple((str(n), float(f)) for n, f in spec.get("splits") or DEFAULT_SPLITS),
                   outcomes=tuple(spec.get("outcomes") or ()), built_from=spec.get("built_from"))


@dataclass(frozen=True)
class VersionResult:
    name: str
    version: int
    folder: Path
    episodes: int
    steps: int
    splits: dict[str, int]


def version_dir(data_dir: Path, name: str, version: int) -> Path:
    return Path(data_dir) / "datasets" / check_dataset_name(name) / f"v{version}"


def view_dir(data_dir: Path, name: str, version: int) -> Path:
    """Where :class:`~.catalog.PipelineDatasets` keeps a version decrypted for the portal."""
    return Path(data_dir) / "views" / check_dataset_name(name) / f"v{version}"


def assign_split(dataset_key: bytes, name: str, episode_id: str,
                 splits: Sequence[tuple[str, float]]) -> str:
    """Deterministic: a keyed hash of the episode id, mapped onto the split fractions."""
    point = int(keyed_hash(derive_key(dataset_key, f"split:{name}"), episode_id, 15), 16) / 16**15
    edge = 0.0
    for split, fraction in splits:
        edge += fraction
        if point < edge:
            return split
    return splits[-1][0]


def build_version(
    state: PipelineState, store: SealedFiles, dataset_key: bytes, data_dir: Path, name: str,
    spec: VersionSpec, progress: Callable[[int, int], None] | None = None,
) -> VersionResult:
    check_dataset_name(name)
    tombstoned_people = state.tombstoned()
    tombstoned_episodes = state.tombstoned_episodes()
    chosen = [e for e in state.episodes() if spec.accepts(e)]
    bad = [e for e in chosen if e.episode_id in tombstoned_episodes or e.contributor_id in tombstoned_people]
    if bad:  # the query already excludes them; this guard holds even if it ever did not
        raise DatasetError(f"refusing to build: {len(bad)} selected episodes are tombstoned")
    records: dict[str, dict[str, Any]] = {}
    for number, info in enumerate(chosen):
        records[info.episode_id] = json.loads(store.get(EPISODES_KIND, info.episode_id))
        if progress:
            progress(number + 1, len(chosen))
    chosen = [e for e in chosen if spec.accepts_outcome(records[e.episode_id]["episode"].get("outcome"))]
    if not chosen:
        raise DatasetError("no episode matches these filters; loosen them or run the pipeline first")
    version = state.next_version(name)
    final = version_dir(data_dir, name, version)
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    if final.exists():  # renamed but not recorded before a crash: it is rebuilt identically
        shutil.rmtree(final)
    cipher = BlobCipher(dataset_key)
    by_split: dict[str, list[tuple[EpisodeInfo, dict[str, Any]]]] = {s: [] for s, _ in spec.splits}
    for info in chosen:
        by_split[assign_split(dataset_key, name, info.episode_id, spec.splits)].append(
            (info, records[info.episode_id]))
    files: dict[str, str] = {}
    images: set[str] = set()
    counts: dict[str, int] = {}
    steps_total = 0
    for split, items in by_split.items():
        if not items:
            continue
        episodes, steps = [], []
        for info, record in items:
            row = dict(record["episode"])
            row.update(contributor=contributor_pseudonym(dataset_key, name, info.contributor_id), split=split)
            episodes.append(row)
            steps += [dict(s, split=split) for s in record["steps"]]
            images.update(record["images"])
        counts[split] = len(episodes)
        steps_total += len(steps)
        for table, rows in (("episodes", episodes), ("steps", steps)):
            rel = f"shards/{table}-{split}.parquet.sealed"
            files[rel] = _seal_into(partial / rel, cipher, _parquet(table, rows), rel)
    for blob in sorted(images):
        rel = f"images/{blob}.png.sealed"
        try:
            data = store.get(IMAGES_KIND, f"{blob}.png")
        except KeyError:
            continue
        files[rel] = _seal_into(partial / rel, cipher, data, rel)
    mix = Counter(s["action_type"] for info in chosen for s in records[info.episode_id]["steps"])
    outcomes = Counter(str(records[info.episode_id]["episode"].get("outcome") or "none") for info in chosen)
    manifest = {
        "format": "apprentice-dataset-version", "name": name, "version": version,
        "spec": spec.as_dict(), "episodes": len(chosen), "steps": steps_total, "splits": counts,
        "action_mix": dict(sorted(mix.items())), "outcomes": dict(sorted(outcomes.items())),
        "files": dict(sorted(files.items())),
    }
    body = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    (partial / "manifest.json").write_bytes(body)
    partial.rename(final)
    chosen_splits = [(info.episode_id, split) for split, items in by_split.items() for info, _ in items]
    state.record_version(name, version, spec.as_dict(), hashlib.sha256(body).hexdigest(), chosen_splits)
    return VersionResult(name, version, final, len(chosen), steps_total, counts)


def withdraw_files(data_dir: Path, state: PipelineState) -> int:
    """Delete the shards and images of every withdrawn version; keep its manifest."""
    removed = 0
    for item in state.list_versions():
        if item["status"] != "withdrawn":
            continue
        folder = version_dir(data_dir, item["name"], item["version"])
        for sub in ("shards", "images"):
            if (folder / sub).exists():
                shutil.rmtree(folder / sub)
                removed += 1
        view = view_dir(data_dir, item["name"], item["version"])  # the portal's plain copy
        if view.exists():
            shutil.rmtree(view)
            removed += 1
    return removed


def export_version(folder: Path, dataset_key: bytes, out_dir: Path, *, purpose: str,
                   status: str | None = "active", formats: Sequence[str] = ("parquet",)) -> dict[str, Any]:
    """Decrypt a version into a plain dataset folder an ML engineer loads with ``datasets``.

    ``formats``: ``parquet`` (the version's own shards, one file per split, with the
    contributor pseudonym, split and quality columns) and any other exporter of
    ``apprentice.pipeline.export`` (osworld, agentnet, computer13, wds), which write every
    split together from the same rows; ``dataset.json`` maps each episode to its split.
    """
    from apprentice.pipeline.export import EXPORTERS, create_exporter

    if purpose != PURPOSE:
        raise DatasetError(f"datasets are exported for the purpose {PURPOSE!r} only, not {purpose!r}")
    if status is not None and status != "active":
        raise DatasetError("this dataset version was withdrawn (a contributor was forgotten or deleted "
                           "data); export the newest version instead")
    chosen = list(dict.fromkeys(f.strip() for f in formats if f.strip()))
    unknown = [f for f in chosen if f not in EXPORTERS]
    if not chosen or unknown:
        raise DatasetError(f"unknown dataset format {', '.join(unknown) or '(none)'}; "
                           f"choose from {', '.join(EXPORTERS)}")
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        raise DatasetError(f"{folder} is not a dataset version (no readable manifest.json)") from None
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise DatasetError(f"{out_dir} is not empty; export into a new folder")
    opened = _open_version(Path(folder), dataset_key, manifest)
    written: dict[str, list[str]] = {}
    if "parquet" in chosen:
        written["parquet"] = []
        for rel, data in opened.items():
            if rel.startswith("shards/"):
                table, split = rel.removeprefix("shards/").removesuffix(".parquet.sealed").split("-", 1)
                target = f"data/{table}/{split}-00000-of-00001.parquet"
            else:
                target = rel.removesuffix(".sealed")
            _write(out_dir / target, data)
            written["parquet"].append(target)
    others = [f for f in chosen if f != "parquet"]
    episode_rows, step_rows = _rows(opened)
    if others:
        from apprentice.pipeline.service.rows import dataset_from_rows

        def load_frame(blob: str) -> bytes:
            try:
                return opened[f"images/{blob}.png.sealed"]
            except KeyError:
                raise KeyError(blob) from None

        dataset = dataset_from_rows(episode_rows, step_rows, load_frame, name=str(manifest["name"]))
        for name in others:
            written[name] = sorted(create_exporter(name).write(dataset, out_dir))
    splits = sorted(manifest["splits"])
    (out_dir / "README.md").write_text(_card(manifest, splits if "parquet" in chosen else []), "utf-8")
    files = sorted({f for names in written.values() for f in names} | {
        str(p.relative_to(out_dir)) for p in (out_dir / "images").glob("*") if p.is_file()})
    summary = {"name": manifest["name"], "version": manifest["version"], "episodes": manifest["episodes"],
               "steps": manifest["steps"], "splits": manifest["splits"], "spec": manifest["spec"],
               "formats": {k: sorted(v) for k, v in written.items()},
               "episode_splits": {str(r["episode_id"]): str(r["split"]) for r in episode_rows},
               "files": files + ["README.md"]}
    (out_dir / "dataset.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", "utf-8")
    return summary


def _open_version(folder: Path, dataset_key: bytes, manifest: dict[str, Any]) -> dict[str, bytes]:
    """Every file of a version, checked against its manifest and decrypted (in memory)."""
    cipher = BlobCipher(dataset_key)
    opened: dict[str, bytes] = {}
    for rel, digest in manifest["files"].items():
        path = folder / rel
        if not path.exists():
            raise DatasetError(f"{folder} is missing {rel}; the version was withdrawn or damaged")
        sealed = path.read_bytes()
        if hashlib.sha256(sealed).hexdigest() != digest:
            raise DatasetError(f"{rel} in {folder} does not match its manifest; the version was changed")
        opened[rel] = cipher.open(sealed, rel.encode())
    return opened


def _rows(opened: dict[str, bytes]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    import pyarrow.parquet as pq

    tables: dict[str, list[dict[str, Any]]] = {"episodes": [], "steps": []}
    for rel, data in sorted(opened.items()):
        if rel.startswith("shards/"):
            table = rel.removeprefix("shards/").split("-", 1)[0]
            tables[table] += pq.read_table(io.BytesIO(data)).to_pylist()
    return tables["episodes"], tables["steps"]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _seal_into(path: Path, cipher: BlobCipher, data: bytes, rel: str) -> str:
    sealed = cipher.seal(data, rel.encode())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sealed)
    return hashlib.sha256(sealed).hexdigest()


def _parquet(table: str, rows: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from apprentice.pipeline.export.parquet import EPISODES_SCHEMA, STEPS_SCHEMA

    if table == "episodes":
        schema = EPISODES_SCHEMA
        for extra in (("contributor", pa.string()), ("split", pa.string()), ("month", pa.string()),
                      ("redacted_share", pa.float64()), ("steps_removed_recorder_ui", pa.int32()),
                      ("steps_removed_duplicate", pa.int32()), ("part", pa.int32()), ("parts", pa.int32())):
            schema = schema.append(pa.field(*extra))
    else:
        schema = STEPS_SCHEMA.append(pa.field("split", pa.string()))
    rows = sorted(rows, key=lambda r: (r["episode_id"], r.get("step_index", 0)))
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), out, compression="zstd")
    return out.getvalue()


def _card(manifest: dict[str, Any], splits: list[str]) -> str:
    lines: list[str] = []
    if splits:  # the Hugging Face configs name the Parquet files; without them there are none
        lines = ["---", "configs:"]
        for config, default in (("steps", True), ("episodes", False)):
            lines.append(f"- config_name: {config}")
            if default:
                lines.append("  default: true")
            lines.append("  data_files:")
            for split in splits:
                lines += [f"  - split: {split}", f"    path: data/{config}/{split}-*.parquet"]
        lines.append("---")
    lines += ["", f"# {manifest['name']} v{manifest['version']}", "",
              "Pseudonymous computer-use episodes built by the apprentice pipeline: redacted twice "
              "(on the device and again in the pipeline), contributor ids replaced by per-dataset "
              "keyed hashes, times relative to each episode's start, dates coarsened to the month.",
              "", f"- episodes: {manifest['episodes']}", f"- steps: {manifest['steps']}",
              "- splits: " + ", ".join(f"{k} {v}" for k, v in sorted(manifest["splits"].items())), "",
              "Columns: see docs/dataset-format.md and docs/pipeline.md in the apprentice repository.", ""]
    return "\n".join(lines)

