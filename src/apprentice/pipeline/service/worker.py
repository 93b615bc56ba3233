"""The pipeline worker: tombstones → claim new chunks → process them → build ready sessions.

One run (:meth:`PipelineWorker.run_once`):

1. **Tombstones** first: every newly forgotten contributor's episodes are tombstoned, their
   staged chunks, frames and episode records deleted, and every dataset version holding
   their episodes withdrawn (its shards deleted).
2. **Claim** chunks after the stored cursor, page by page, in receipt order; chunks already
   known or of a forgotten contributor are skipped. The executor processes each page
   (``ingest.process_chunk``) and the outcomes are recorded in input order; the cursor
   moves only after the whole page is recorded. A crash anywhere repeats at most one page,
   and repeating is harmless (chunk rows are keyed by chunk id, staged files are rewritten
   with identical bytes), so a restart resumes with no duplicate rows.
3. **Build** every session that is ready (``assemble.build_ready_sessions``); each session
   is recorded in one transaction with its episodes and lineage, so it is built once.

Progress goes to a callback ``(stage, done, total)``; the command line draws Rich bars.
Nothing about content, keys or contributor ids is logged.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from apprentice.pipeline.config import PipelineConfig
from apprentice.pipeline.service.assemble import EPISODES_KIND, AssembleStats, build_ready_sessions
from apprentice.pipeline.service.datasets import withdraw_files
from apprentice.pipeline.service.executors import Executor, create_executor
from apprentice.pipeline.service.ingest import EVENTS_KIND, IMAGES_KIND, TaskContext, forget_workers
from apprentice.pipeline.service.redaction import DEFAULT_FRAME_BUDGET
from apprentice.pipeline.service.source import ChunkSource
from apprentice.pipeline.service.state import PipelineState, open_state
from apprentice.pipeline.service.store import STATE_KEY, SealedFiles, default_key_dir, load_or_create_key
from apprentice.redact import build_redactor
from apprentice.redact.ocr import OcrEngine

log = logging.getLogger("apprentice.pipeline.worker")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class PipelineSettings:
    data_dir: Path
    master_key_url: str
    key_dir: Path = field(default_factory=default_key_dir)
    state_url: str | None = None  # default: sqlite in the data folder
    page_size: int = 200
    executor: str = "local"
    workers: int = 2
    ray_address: str | None = None
    frame_budget: float = DEFAULT_FRAME_BUDGET
    config: PipelineConfig = field(default_factory=PipelineConfig)
    ocr: OcrEngine | None = None


@dataclass
class RunStats:
    tombstones: int = 0
    chunks: int = 0
    staged: int = 0
    failed: int = 0
    events: int = 0
    frames: int = 0
    frames_dropped: int = 0
    chunk_seconds: float = 0.0
    ocr_seconds: float = 0.0
    build: AssembleStats = field(default_factory=AssembleStats)


class PipelineWorker:
    def __init__(self, settings: PipelineSettings, source: ChunkSource, *,
                 executor: Executor | None = None, progress: Progress | None = None) -> None:
        self.settings = settings
        self.source = source
        data = Path(settings.data_dir)
        data.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.state_key = load_or_create_key(settings.key_dir, STATE_KEY, data)
        self.store = SealedFiles(data / "store", self.state_key)
        self.state: PipelineState = open_state(settings.state_url or f"sqlite:///{data / 'pipeline.db'}")
        self.executor = executor or create_executor(settings.executor, workers=settings.workers,
                                                    ray_address=settings.ray_address)
        self.progress: Progress = progress or (lambda stage, done, total: None)
        self.redactor = build_redactor()

    def close(self) -> None:
        self.executor.close()
        self.state.close()
        forget_workers()

    # -- one run --------------------------------------------------------------------------

    def run_once(self, *, finalize: bool = False) -> RunStats:
        stats = RunStats()
        stats.tombstones = self.sync_tombstones()
        self.ingest(stats)
        stats.build = build_ready_sessions(
            self.state, self.store, self.state_key, self.redactor, self.settings.config,
            finalize=finalize, progress=lambda d, t: self.progress("episodes", d, t),
        )
        forget_workers()
        return stats

    def run_forever(self, interval: float = 30.0, stop: Callable[[], bool] = lambda: False) -> None:
        while not stop():
            stats = self.run_once()
            log.info("pipeline run: %d chunks, %d episodes", stats.chunks, stats.build.episodes)
            time.sleep(interval)

    def sync_tombstones(self) -> int:
        known = self.state.tombstoned()
        fresh = [t for t in self.source.tombstones() if t.contributor_id not in known]
        for tomb in fresh:
            episode_ids, chunk_ids = self.state.apply_tombstone(tomb.contributor_id, tomb.forgotten_at)
            for episode_id in episode_ids:
                self.store.delete(EPISODES_KIND, episode_id)
            for chunk_id in chunk_ids:
                self.store.delete(EVENTS_KIND, chunk_id)
            self._drop_orphan_images()
        if fresh:
            forget_workers()
            withdraw_files(Path(self.settings.data_dir), self.state)
        return len(fresh)

    def _drop_orphan_images(self) -> None:
        import json

        used: set[str] = set()
        for info in self.state.episodes():
            try:
                used.update(json.loads(self.store.get(EPISODES_KIND, info.episode_id))["images"])
            except KeyError:
                continue
        waiting = {name.split(".")[0] for name in self.store.names(IMAGES_KIND)}
        staged_frames: set[str] = set()
        for _contributor, skey in self.state.spools_with_work():
            staged_frames |= {f.new_blob for f in self.state.frames_of(skey).values() if f.new_blob}
        for blob in waiting - used - staged_frames:
            self.store.delete(IMAGES_KIND, f"{blob}.png")

    def ingest(self, stats: RunStats) -> None:
        run_id = secrets.token_hex(8)
        ctx = TaskContext(self.source, self.settings.master_key_url, run_id, Path(self.settings.key_dir),
                          Path(self.settings.data_dir), self.settings.frame_budget, self.settings.ocr)
        cursor = self.state.get("cursor")
        tombstoned = self.state.tombstoned()
        while True:
            page = self.source.list_chunks(cursor, self.settings.page_size)
            known = self.state.known_chunks(r.chunk_id for r in page.chunks)
            todo = [r for r in page.chunks if r.chunk_id not in known and r.contributor_id not in tombstoned]
            for done, outcome in enumerate(self.executor.map(ctx, todo)):
                self.state.record_chunk(outcome.chunk_row, outcome.frame_rows)
                stats.chunks += 1
                stats.staged += outcome.chunk_row["status"] == "staged"
                stats.failed += outcome.chunk_row["status"] == "failed"
                stats.events += outcome.events
                stats.frames += outcome.frames
                stats.frames_dropped += outcome.frames_dropped
                stats.chunk_seconds += outcome.seconds
                stats.ocr_seconds += outcome.ocr_seconds
                self.progress("chunks", done + 1, len(todo))
            if page.chunks:
                cursor = page.chunks[-1].cursor
                self.state.put("cursor", cursor)
            if page.next is None or not page.chunks:
                break

    def status(self) -> dict[str, object]:
        episodes = self.state.episodes()
        return {
            "cursor_set": self.state.get("cursor") is not None,
            "chunks": self.state.chunk_counts(),
            "episodes": len(episodes),
            "steps": sum(e.num_steps for e in episodes),
            "tombstoned_contributors": len(self.state.tombstoned()),
            "versions": self.state.list_versions(),
        }
