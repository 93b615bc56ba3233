"""One chunk, start to finish inside the pipeline identity: fetch → unwrap → open in memory
→ decode → second-pass frame redaction → seal again into the staging store.

:func:`process_chunk` is the unit of work the executors run (in this process, a process
pool, or a Ray task). It takes a picklable :class:`TaskContext` naming *where* to get
things (the source, the master key URL, the key folder) and rebuilds the key access
itself, so unwrapped keys never travel between processes. It returns only metadata: the
chunk's row and its frames' rows for the state database; content goes straight into the
sealed store. Plaintext never touches the disk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apprentice.crypto import chunk_id, keyed_hash
from apprentice.errors import DecryptionError, SpoolError
from apprentice.keys.unwrap import PipelineKeyAccess, open_master_unwrapper
from apprentice.pipeline.service.redaction import DEFAULT_FRAME_BUDGET, redact_image
from apprentice.pipeline.service.source import ChunkRef, ChunkSource
from apprentice.pipeline.service.store import STATE_KEY, SealedFiles, load_or_create_key
from apprentice.redact import Redactor, build_redactor
from apprentice.redact.ocr import OcrEngine, default_ocr
from apprentice.spool.codec import decode_events, decode_frame
from apprentice.spool.payload import decode_payload

EVENTS_KIND = "staging-events"
IMAGES_KIND = "images"


@dataclass(frozen=True)
class TaskContext:
    """Everything a worker process needs to process chunks, with no secret inside."""

    source: ChunkSource
    master_key_url: str
    run_id: str
    key_dir: Path
    data_dir: Path
    frame_budget: float = DEFAULT_FRAME_BUDGET
    ocr: OcrEngine | None = None  # None: Tesseract (tests may pass a picklable fake)


@dataclass
class ChunkOutcome:
    chunk_row: dict[str, Any]
    frame_rows: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0
    frames: int = 0
    frames_dropped: int = 0
    seconds: float = 0.0
    ocr_seconds: float = 0.0


class _Worker:
    def __init__(self, ctx: TaskContext) -> None:
        self.state_key = load_or_create_key(ctx.key_dir, STATE_KEY, ctx.data_dir)
        self.store = SealedFiles(ctx.data_dir / "store", self.state_key)
        self.keys = PipelineKeyAccess(ctx.source, open_master_unwrapper(ctx.master_key_url), cache=True)
        self.redactor: Redactor = build_redactor()
        self.ocr: OcrEngine = ctx.ocr if ctx.ocr is not None else default_ocr()


# One worker per process and run: a new run (or a tombstone) starts with no cached key.
_WORKERS: dict[str, tuple[TaskContext, _Worker]] = {}


def _worker(ctx: TaskContext) -> _Worker:
    held = _WORKERS.get(ctx.run_id)
    if held is None:
        forget_workers()
        held = (ctx, _Worker(ctx))
        _WORKERS[ctx.run_id] = held
    return held[1]


def forget_workers() -> None:
    """Drop cached unwrapped keys and OCR engines (end of a run, or after a tombstone)."""
    for _, worker in _WORKERS.values():
        worker.keys.forget()
    _WORKERS.clear()


def spool_key(state_key: bytes, contributor_id: str, spool_id: str) -> str:
    """The pipeline's name for one device spool: a keyed hash, never the spool id itself."""
    return keyed_hash(state_key, f"spool\x00{contributor_id}\x00{spool_id}", 32)


def process_chunk(ctx: TaskContext, ref: ChunkRef) -> ChunkOutcome:
    started = time.perf_counter()
    worker = _worker(ctx)
    row: dict[str, Any] = {"chunk_id": ref.chunk_id, "contributor_id": ref.contributor_id,
                           "device_id": ref.device_id,
                           "spool_key": "", "segment": "", "stream": "", "status": "failed",
                           "reason": None, "records": 0}
    outcome = ChunkOutcome(row)
    sealed = ctx.source.fetch(ref.chunk_id)
    if sealed is None:
        row.update(status="gone", reason="deleted")
        return _done(outcome, started)
    if chunk_id(sealed) != ref.chunk_id:
        row["reason"] = "id_mismatch"
        return _done(outcome, started)
    try:
        header, payload = worker.keys.open(sealed)
    except DecryptionError:  # forgotten (no key any more), or not sealed to this contributor
        row["reason"] = "undecryptable"
        return _done(outcome, started)
    finally:
        del sealed
    if header.contributor != ref.contributor_id:
        row["reason"] = "header_mismatch"
        return _done(outcome, started)
    try:
        meta, records = decode_payload(payload)
        spool_id, segment, stream = str(meta["spool"]), str(meta["segment"]), str(meta["stream"])
    except (SpoolError, KeyError):
        row["reason"] = "undecodable"
        return _done(outcome, started)
    skey = spool_key(worker.state_key, ref.contributor_id, spool_id)
    row.update(spool_key=skey, segment=segment, stream=stream, records=len(records))
    try:
        if stream == "events":
            outcome.events = sum(len(decode_events(r)) for r in records)  # validates before staging
            worker.store.put(EVENTS_KIND, ref.chunk_id, payload)
        elif stream == "frames":
            for record in records:
                blob = decode_frame(record)
                outcome.frames += 1
                redacted = redact_image(blob.data, worker.redactor, worker.ocr, ctx.frame_budget)
                frame_row: dict[str, Any] = {"spool_key": skey, "orig_blob": blob.blob,
                                             "chunk_id": ref.chunk_id, "new_blob": None}
                if redacted is None:
                    outcome.frames_dropped += 1
                else:
                    outcome.ocr_seconds += redacted.ocr_seconds
                    name = f"{redacted.blob}.png"
                    if not worker.store.has(IMAGES_KIND, name):
                        worker.store.put(IMAGES_KIND, name, redacted.data)
                    frame_row.update(new_blob=redacted.blob, format="png", width=redacted.width,
                                     height=redacted.height, masked_share=redacted.masked_share,
                                     counts=_json(redacted.counts))
                outcome.frame_rows.append(frame_row)
        else:
            row["reason"] = "unknown_stream"
            return _done(outcome, started)
    except SpoolError:
        row["reason"] = "undecodable"
        outcome.frame_rows = []
        return _done(outcome, started)
    row.update(status="staged")
    return _done(outcome, started)


def _done(outcome: ChunkOutcome, started: float) -> ChunkOutcome:
    outcome.seconds = time.perf_counter() - started
    return outcome


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)
