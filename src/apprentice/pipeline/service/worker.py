"""The pipeline worker: tombstones → deletions → claim new chunks → process them → build
ready sessions.

One run (:meth:`PipelineWorker.run_once`):

1. **Tombstones** first: every newly forgotten contributor's episodes are tombstoned, their
   staged chunks, frames and episode records deleted, and every dataset version holding
   their episodes withdrawn (its shards deleted).
2. **Deletions** next (``GET /pipeline/deletions`` after the stored deletion cursor): the
   chunks a contributor deleted are marked deleted and unstaged, every episode whose lineage
   holds one is withdrawn like a tombstoned one (record deleted, versions withdrawn), and a
   session a deleted chunk belonged to is never built.
3. **Claim** chunks after the stored cursor *minus an overlap* (``cursor_overlap`` sequence
   numbers), page by page, in receipt order; chunks already known or of a forgotten
   contributor are skipped. The overlap is there because the collector numbers chunks
   before its transaction commits: on PostgreSQL two uploads can commit out of order, so a
   lower number can appear after a higher one was listed; re-reading the window (and
   de-duplicating by chunk id) picks it up. The executor processes each page
   (``ingest.process_chunk``) and the outcomes are recorded in input order; the cursor
   moves (forward only) after the whole page is recorded. A crash anywhere repeats at most
   one page, and repeating is harmless (chunk rows are keyed by chunk id, staged files are
   rewritten with identical bytes), so a restart resumes with no duplicate rows.
4. **Build** every session that is ready (``assemble.build_ready_sessions``); each session
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
    # Sequence numbers re-read behind the cursor on every run (late commits; see above).
    cursor_overlap: int = 1000
    executor: str = "local"
    workers: int = 2
    ray_address: str | None = None
    frame_budget: float = DEFAULT_FRAME_BUDGET
    config: PipelineConfig = field(default_factory=PipelineConfig)
    ocr: OcrEngine | None = None


@dataclass
class RunStats:
    tombstones: int = 0
    deletions: int = 0
    episodes_withdrawn: int = 0
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
        self.sync_deletions(stats)
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

    def sync_deletions(self, stats: RunStats | None = None) -> int:
        """Apply the contributors' deletions made since the last run; how many were new."""
        from apprentice.pipeline.service.assemble import summarise

        fresh = 0
        for item in self.source.deletions(self.state.get("deletions_cursor")):
            if not self.state.deletion_applied(item.deletion_id):
                # Read the structure of the chunks about to go first, so the sessions they
                # belonged to are still recognised (and withdrawn) once their content is gone.
                summarise(self.state, self.store, self.state.staged_event_chunks(item.chunk_ids))
                episode_ids, staged = self.state.apply_deletion(item.contributor_id, item.chunk_ids)
                for episode_id in episode_ids:
                    self.store.delete(EPISODES_KIND, episode_id)
                for chunk_id in staged:
                    self.store.delete(EVENTS_KIND, chunk_id)
                self.state.mark_deletion(item.deletion_id, item.contributor_id, item.requested_at,
                                         len(item.chunk_ids))
                fresh += 1
                if stats is not None:
                    stats.episodes_withdrawn += len(episode_ids)
            self.state.put("deletions_cursor", item.cursor)
        if fresh:
            self._drop_orphan_images()
            withdraw_files(Path(self.settings.data_dir), self.state)
        if stats is not None:
            stats.deletions = fresh
        return fresh

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
        stored = self.state.get("cursor")
        cursor = _rewind(stored, self.settings.cursor_overlap)
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
                if _after(cursor, stored):
                    self.state.put("cursor", cursor)
                    stored = cursor
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


def _rewind(cursor: str | None, overlap: int) -> str | None:
    """``overlap`` sequence numbers before the cursor (the collector's cursors are decimal
    receipt sequence numbers); an opaque cursor is used as it is."""
    if cursor is None or not cursor.isdigit() or overlap <= 0:
        return cursor
    start = int(cursor) - overlap
    return str(start) if start > 0 else None


def _after(cursor: str, stored: str | None) -> bool:
    if stored is None:
        return True
    if cursor.isdigit() and stored.isdigit():
        return int(cursor) > int(stored)
    return cursor != stored
