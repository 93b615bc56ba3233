"""The spool's writer thread: batches events, writes frames, fsyncs at least once a second.

Producers (input hooks, the frame worker) call :meth:`SpoolSink.put_event` and
:meth:`SpoolSink.put_frame`, which only enqueue and never block on disk. The one writer
thread blocks on the queue with a timeout set by the next flush or fsync deadline, so
nothing busy-polls, and :meth:`stop` drains everything before it returns.

Bounded memory: at most ``max_pending_frames`` images wait in the queue; beyond that a new
frame is refused and replaced by a ``gap`` event (frames are dropped before events).
Events are never dropped here; if the disk refuses them they stay queued and are retried.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apprentice import events as ev
from apprentice.spool.codec import FrameBlob
from apprentice.spool.writer import SpoolWriter

log = logging.getLogger(__name__)
_STOP = object()


@dataclass
class SinkStats:
    events_written: int = 0
    frames_written: int = 0
    frames_dropped: int = 0
    write_errors: int = 0
    records: int = 0
    drops: list[dict[str, Any]] = field(default_factory=list)


class SpoolSink:
    def __init__(
        self,
        writer: SpoolWriter,
        *,
        flush_interval: float = 0.2,
        fsync_interval: float = 1.0,
        max_batch: int = 2000,
        max_pending_frames: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._writer = writer
        self._flush_interval = flush_interval
        self._fsync_interval = min(fsync_interval, 1.0)
        self._max_batch = max_batch
        self._max_pending_frames = max_pending_frames
        self._clock = clock
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._frames_waiting = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._gap_factory: Callable[[dict[str, Any]], ev.Event] | None = None
        self.stats = SinkStats()

    def start(self, gap_factory: Callable[[dict[str, Any]], ev.Event]) -> None:
        """Start the writer thread. ``gap_factory`` stamps and enqueues a gap for a drop."""
        self._gap_factory = gap_factory
        self._thread = threading.Thread(target=self._run, name="apprentice-spool", daemon=True)
        self._thread.start()

    def put_event(self, event: ev.Event) -> None:
        self._queue.put(event)

    def put_frame(self, blob: FrameBlob, event: ev.Frame) -> bool:
        """Queue an image and the event that refers to it; False if the queue is full.

        When refused, the frame event is replaced by a gap event with the same seq and
        time, so the log shows what is missing.
        """
        with self._lock:
            if self._frames_waiting >= self._max_pending_frames:
                self.stats.frames_dropped += 1
                self._queue.put(_gap_for(event, "frame_backlog"))
                return False
            self._frames_waiting += 1
        self._queue.put((blob, event))
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """Write everything queued, fsync, close the segments and end the thread."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        pending: list[ev.Event] = []
        flush_due = last_sync = self._clock()
        dirty = False
        while True:
            now = self._clock()
            if pending:
                timeout: float | None = max(0.0, flush_due - now)
            elif dirty:
                timeout = max(0.0, last_sync + self._fsync_interval - now)
            else:
                timeout = None
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            stopping = item is _STOP
            if isinstance(item, tuple):
                self._write_frame(*item, pending)
            elif item is not None and not stopping:
                if not pending:
                    flush_due = self._clock() + self._flush_interval
                pending.append(item)  # type: ignore[arg-type]
            now = self._clock()
            if pending and (stopping or len(pending) >= self._max_batch or now >= flush_due):
                if self._write_events(pending):
                    pending = []
                    dirty = True
                else:
                    flush_due = now + 1.0
            if dirty and (stopping or now - last_sync >= self._fsync_interval):
                self._sync()
                last_sync, dirty = now, False
            if stopping:
                while not self._queue.empty():  # anything put after stop() was called
                    late = self._queue.get_nowait()
                    if isinstance(late, tuple):
                        self._write_frame(*late, pending)
                    elif late is not _STOP:
                        pending.append(late)  # type: ignore[arg-type]
                for attempt in range(10):  # a full disk may free up; try for a few seconds
                    if not pending or self._write_events(pending):
                        break
                    time.sleep(0.05 * 2**min(attempt, 4))
                else:
                    log.error("spool refused %d events at shutdown; they are lost", len(pending))
                self._sync()
                self._writer.close()
                return

    def _write_frame(self, blob: FrameBlob, event: ev.Frame, pending: list[ev.Event]) -> None:
        with self._lock:
            self._frames_waiting -= 1
        try:
            kept = self._writer.write_frame(blob)
        except OSError:
            log.warning("could not write a frame to the spool; dropped it")
            self.stats.write_errors += 1
            kept = False
        if kept:
            self.stats.frames_written += 1
            pending.append(event)
        else:
            self.stats.frames_dropped += 1
            pending.append(_gap_for(event, "frame_not_stored"))

    def _write_events(self, pending: list[ev.Event]) -> bool:
        pending.sort(key=lambda e: e.seq)
        try:
            self._writer.write_events(pending)
        except OSError as exc:
            self.stats.write_errors += 1
            log.warning("spool write failed (%s); keeping %d events to retry", exc.strerror,
                        len(pending))
            return False
        self.stats.events_written += len(pending)
        self.stats.records += 1
        return True

    def _sync(self) -> None:
        try:
            self._writer.sync()
        except OSError as exc:
            self.stats.write_errors += 1
            log.warning("spool fsync failed (%s)", exc.strerror)

    def report_drop(self, info: dict[str, Any]) -> None:
        """Writer callback: record a drop as a gap event (called on the writer thread)."""
        self.stats.drops.append(info)
        if self._gap_factory is not None:
            self._gap_factory(info)  # stamps the gap and enqueues it itself


def _gap_for(event: ev.Frame, reason: str) -> ev.Control:
    return ev.Control(
        seq=event.seq, t=event.t, op="gap", reason=reason, info={"dropped_frames": 1}
    )
