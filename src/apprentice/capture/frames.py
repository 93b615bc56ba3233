"""The frame worker: screenshots that serve training, not surveillance.

What gets stored, and when:

* ``pre`` — for each action (mouse down, the first key of a burst, the first wheel click
  of a scroll), the most recent grab taken *before* the action's timestamp. The worker
  keeps the last few grabs in memory (a bounded history) and refreshes them in the
  background every ``refresh_interval`` and whenever actions settle, so that frame shows
  the screen as the person saw it, never the action's effect (no look-ahead).
* ``post`` — a grab once actions have been quiet for ``settle_delay``.
* ``focus`` — a grab after the focused window changes and the screen settles.

Only these are stored. Identical pixels are stored once (de-duplicated by pixel hash) and
new images are limited to ``max_frame_rate`` on average by a token bucket. There is no
continuous video. The worker sleeps on a condition variable until its next deadline or a
request; it never polls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from apprentice import events as ev
from apprentice.capture.base import RawImage, ScreenSource
from apprentice.capture.clock import Stamper
from apprentice.capture.config import CaptureConfig
from apprentice.capture.encode import blob_hash, encode, pixel_hash
from apprentice.redact.image import FrameDropped, ScreenRedactor
from apprentice.spool.codec import FrameBlob

#: ``deliver(frame_event, image_or_None)``: hands a stamped frame event (and its image, if
#: it is new) on towards the spool.
FrameDelivery = Callable[[ev.Frame, FrameBlob | None], None]

log = logging.getLogger(__name__)
_STORED_MEMORY = 4096
_HISTORY_PER_MONITOR = 2  # raw grabs kept a monitor (4 MB each at 1280×800)


@dataclass
class Grab:
    """One screenshot in the history. Its buffers are let go as soon as they are no longer
    needed: the raw pixels once redacted (nothing reads them again), the redacted pixels
    once encoded and stored (a later use of this grab is a de-duplicated reference)."""

    t: int
    monitor: ev.Monitor
    image: RawImage | None  # raw pixels; None once redacted
    pixels: str | None = None  # hash of the redacted pixels; None until redacted
    allowed: bool = False  # was capture allowed when this grab was taken?
    windows: list[ev.WindowInfo] | None = None  # visible windows at grab time, bottom → top
    redacted: RawImage | None = None  # None until redacted, and again once stored
    masked: dict[str, int] | None = None
    dropped: str | None = None  # why redaction refused this grab (it is not tried again)


@dataclass
class FrameStats:
    grabs: int = 0
    stored: int = 0
    deduplicated: int = 0
    rate_limited: int = 0
    no_prior_grab: int = 0
    redaction_dropped: int = 0
    errors: int = 0
    encode_ns: int = 0
    redact_ns: int = 0
    grab_ns: int = 0
    by_trigger: dict[str, int] = field(default_factory=dict)


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self._rate, self._burst, self._clock = rate, float(burst), clock
        self._tokens = float(burst)
        self._last = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class FrameWorker:
    def __init__(
        self,
        open_screen: Callable[[], ScreenSource],
        stamper: Stamper,
        deliver: FrameDelivery,
        config: CaptureConfig,
        *,
        may_capture: Callable[[], bool],
        screen_redactor: ScreenRedactor | None,
        stacking: Callable[[], list[ev.WindowInfo]],
        window_allowed: Callable[[ev.WindowInfo], bool],
        on_dropped: Callable[[str], None] = lambda reason: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_screen = open_screen
        self._stamper = stamper
        self._deliver = deliver
        self._may_capture = may_capture
        # None means screenshots cannot be redacted here (no OCR): then none are stored.
        self._redactor = screen_redactor
        self._stacking = stacking
        self._window_allowed = window_allowed
        self._on_dropped = on_dropped
        self._config = config
        self._clock = clock
        self._cond = threading.Condition()
        self._requests: deque[tuple[int, int, tuple[int, int] | None]] = deque()
        self._grab_waiters: list[threading.Event] = []
        self._settle_due: float | None = None
        self._post_for: int | None = None
        self._focus_due: float | None = None
        self._stopping = False
        self._history: deque[Grab] = deque()
        self._stored: OrderedDict[str, tuple[str, int, int]] = OrderedDict()
        self._bucket = TokenBucket(config.max_frame_rate, config.frame_burst, clock)
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self.cursor: tuple[int, int] | None = None
        self.monitors: list[ev.Monitor] = []
        self.stats = FrameStats()

    # -- called from other threads -------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="apprentice-frames", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._startup_error is not None:
            raise self._startup_error

    def request_pre(self, action: ev.Event, point: tuple[int, int] | None) -> None:
        """Store the last grab taken before ``action`` as its pre-action frame."""
        with self._cond:
            self._requests.append((action.seq, action.t, point))
            self._cond.notify()

    def note_action(self, seq: int) -> None:
        """An action happened; take a post frame once things have been quiet a while."""
        with self._cond:
            self._post_for = seq
            self._settle_due = self._clock() + self._config.settle_delay

    def grab_soon(self) -> threading.Event:
        """Grab now (without storing); the returned event is set once the grab is done."""
        done = threading.Event()
        with self._cond:
            self._grab_waiters.append(done)
            self._cond.notify()
        return done

    def note_focus(self) -> None:
        with self._cond:
            self._focus_due = self._clock() + self._config.settle_delay
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(30)

    # -- the worker thread --------------------------------------------------------------

    def _run(self) -> None:
        try:
            screen = self._open_screen()
            self.monitors = screen.monitors()
        except BaseException as exc:  # reported to start()'s caller
            self._startup_error = exc
            self._ready.set()
            return
        # Two grabs a monitor are enough: requests are committed before each new grab, so
        # at most one grab can be newer than an action whose request is still queued.
        self._history = deque(maxlen=_HISTORY_PER_MONITOR * max(1, len(self.monitors)))
        self._grab_all(screen)
        next_refresh = self._clock() + self._config.refresh_interval
        self._ready.set()
        try:
            while True:
                with self._cond:
                    while not (self._requests or self._stopping or self._grab_waiters):
                        due = min(
                            d for d in (self._settle_due, self._focus_due, next_refresh)
                            if d is not None
                        )
                        wait = due - self._clock()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    requests = list(self._requests)
                    self._requests.clear()
                    waiters, self._grab_waiters = self._grab_waiters, []
                    stopping = self._stopping
                for seq, t, point in requests:
                    self._commit_pre(seq, t, point)
                now = self._clock()
                settle = self._settle_due is not None and now >= self._settle_due
                focus = self._focus_due is not None and now >= self._focus_due
                if settle or focus or waiters or now >= next_refresh:
                    grabs = self._grab_all(screen)
                    next_refresh = now + self._config.refresh_interval
                    if settle:
                        with self._cond:
                            post_for, self._settle_due = self._post_for, None
                        self._commit(self._grab_at_cursor(grabs), "post", post_for)
                    if focus:
                        self._focus_due = None
                        self._commit(self._grab_at_cursor(grabs), "focus", None)
                    for waiter in waiters:
                        waiter.set()
                if stopping:
                    return
        finally:
            screen.close()

    def _grab_all(self, screen: ScreenSource) -> list[Grab]:
        grabs: list[Grab] = []
        if not self._may_capture() or self._redactor is None:
            return grabs  # nothing is even grabbed while the policy says no
        try:
            windows: list[ev.WindowInfo] | None = self._stacking()
        except Exception:  # without the window layout the frame cannot be masked
            windows = None
        for monitor in self.monitors:
            started = time.perf_counter_ns()
            t = self._stamper.clock()
            try:
                image = screen.grab(monitor)
            except Exception as exc:  # a failed grab costs a frame, never the session
                self.stats.errors += 1
                log.warning("screen grab failed: %s", type(exc).__name__)
                continue
            self.stats.grab_ns += time.perf_counter_ns() - started
            self.stats.grabs += 1
            grab = Grab(t, monitor, image, allowed=self._may_capture(), windows=windows)
            self._history.append(grab)
            grabs.append(grab)
        return grabs

    def _monitor_for(self, point: tuple[int, int] | None) -> ev.Monitor | None:
        if point is not None:
            for monitor in self.monitors:
                if monitor.bounds.contains(*point):
                    return monitor
        return next((m for m in self.monitors if m.primary), self.monitors[0] if self.monitors else None)

    def _grab_at_cursor(self, grabs: list[Grab]) -> Grab | None:
        monitor = self._monitor_for(self.cursor)
        return next((g for g in grabs if g.monitor == monitor), grabs[0] if grabs else None)

    def _commit_pre(self, seq: int, t: int, point: tuple[int, int] | None) -> None:
        monitor = self._monitor_for(point or self.cursor)
        before = [g for g in self._history if g.monitor == monitor and g.t < t]
        if not before:
            self.stats.no_prior_grab += 1
            return
        self._commit(before[-1], "pre", seq)

    def _commit(self, grab: Grab | None, trigger: ev.FrameTrigger, for_seq: int | None) -> None:
        # A grab taken while capture was refused (another window had focus) is never
        # stored, even if capture is allowed again by the time an action asks for it.
        if grab is None or not grab.allowed or not self._may_capture() or self._redactor is None:
            return
        if grab.dropped is not None:  # redaction already refused this grab: no second OCR
            self.stats.redaction_dropped += 1
            self._on_dropped(grab.dropped)
            return
        if grab.pixels is None:
            if grab.image is None:
                return
            started = time.perf_counter_ns()
            result, reason = None, "window_geometry_unknown"
            if grab.windows is not None:
                # Mask every window the policy does not allow, OCR what changed, fill every
                # secret or PII found. Any failure drops the frame (fail closed).
                try:
                    result = self._redactor.redact(
                        grab.image, grab.monitor, grab.windows, self._window_allowed
                    )
                except FrameDropped as exc:
                    reason = exc.reason
            self.stats.redact_ns += time.perf_counter_ns() - started
            if result is None:
                grab.dropped = reason
                self.stats.redaction_dropped += 1
                self._on_dropped(reason)
                return
            grab.redacted, grab.masked = result.image, dict(result.masked)
            grab.image = None  # the unredacted pixels are never needed again
            # Hash the redacted pixels: the raw pixels' hash never leaves the worker.
            grab.pixels = pixel_hash(grab.redacted)
        known = self._stored.get(grab.pixels)
        blob: FrameBlob | None = None
        if known is not None:
            self._stored.move_to_end(grab.pixels)
            self.stats.deduplicated += 1
            digest, width, height = known
        else:
            if grab.redacted is None:  # stored once, then forgotten (more than _STORED_MEMORY ago)
                return
            if not self._bucket.take():
                self.stats.rate_limited += 1
                return
            started = time.perf_counter_ns()
            try:
                data, width, height = encode(grab.redacted, self._config)
            except Exception as exc:
                self.stats.errors += 1
                log.warning("frame encoding failed: %s", type(exc).__name__)
                return
            self.stats.encode_ns += time.perf_counter_ns() - started
            digest = blob_hash(data)
            blob = FrameBlob(digest, self._config.frame_format, width, height, data)
            self._stored[grab.pixels] = (digest, width, height)
            if len(self._stored) > _STORED_MEMORY:
                self._stored.popitem(last=False)
            grab.redacted = None  # from now on this grab is a reference to the stored blob
        fields = dict(
            blob=digest, trigger=trigger, monitor=grab.monitor.index, bounds=grab.monitor.bounds,
            width=width, height=height, format=self._config.frame_format,
            pixel_hash=grab.pixels, for_seq=for_seq, cursor=self.cursor,
            masked=grab.masked or {},
        )
        new_blob = blob
        self._stamper.stamp_with(ev.Frame, lambda e: self._deliver(e, new_blob), t=grab.t, **fields)
        if blob is not None:
            self.stats.stored += 1
        self.stats.by_trigger[trigger] = self.stats.by_trigger.get(trigger, 0) + 1
