"""CaptureSession: the one public entry point of the recorder.

    hooks ──▶ gate (consent, policy, pause) ──▶ stamper (one clock) ──▶ text guard ──▶ spool
    screen ─▶ frame worker (only while the gate is open) ──────────────┘

Hook callbacks do the least possible work — ask the gate, stamp, enqueue — so input is
never delayed by disk or image work. There is no path from a hook to the spool that does
not pass the gate: a refused event is not stamped at all, and refused periods appear only
as content-free ``gap`` controls.

Task markers: ``apprentice task start/end`` queue commands in the device-state folder;
the once-a-second refresh takes them in order and stamps ``task_start`` (instruction
redacted, or left out if redaction fails) and ``task_end`` controls. Commands sent before
this session started, or while there is no consent, are dropped.

UI elements: with element sources (accessibility, browser), a pointer query is queued at
each allowed ``mouse_down`` and a focus query at the first ``key_down`` of a burst (and the
first after a click, Tab, Enter or Esc, which may move focus). The element worker answers
off the hook threads; a focus answer that names a password field turns on ``secure_input``
(no keystrokes) until a click, Tab, Enter, Esc or window change, and the text guard drops
the keys it was holding for that answer.

Lifecycle: ``start()`` writes ``control/start`` with the session's single wall-clock
anchor and the monitor geometry; ``stop()`` stops the hooks first, then the frame worker,
writes ``control/stop`` with counts, releases held keystrokes and drains the spool.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from apprentice import __version__
from apprentice import events as ev
from apprentice.capture.base import (
    ElementInfo,
    ElementQuery,
    ElementSource,
    InputSource,
    ScreenSource,
    WindowSource,
)
from apprentice.capture.clock import Stamper
from apprentice.capture.config import CaptureConfig
from apprentice.capture.device_state import DeviceState
from apprentice.capture.elements import ElementWorker, is_password
from apprentice.capture.frames import FrameWorker
from apprentice.capture.gate import CaptureGate
from apprentice.capture.textguard import TypedTextGuard
from apprentice.policy import Decision
from apprentice.redact import safe_redact
from apprentice.redact.image import ScreenRedactor
from apprentice.spool.codec import FrameBlob
from apprentice.spool.sink import SpoolSink

log = logging.getLogger(__name__)
_REFRESH_S = 1.0
_TASK_STATUSES = frozenset({"success", "failure"})
_NO_CONSENT = frozenset({"no_consent", "exempt"})
#: The recorder's own hotkeys, never recorded as steps: Ctrl+Alt+Shift+P pauses (or
#: resumes); Ctrl+Alt+Shift+T starts a task (or ends the open one as a success).
PAUSE_HOTKEY = frozenset({"ctrl", "alt", "shift"}), "p"
TASK_HOTKEY = frozenset({"ctrl", "alt", "shift"}), "t"
#: Keys after which keyboard focus has probably moved (the next key asks for the focus again).
_FOCUS_MOVING_KEYS = frozenset({"tab", "enter", "esc"})
_MODIFIER_FAMILY = {
    "ctrl": "ctrl", "ctrl_l": "ctrl", "ctrl_r": "ctrl", "alt": "alt", "alt_l": "alt",
    "alt_r": "alt", "alt_gr": "alt", "shift": "shift", "shift_l": "shift", "shift_r": "shift",
}


@dataclass
class SessionCounts:
    by_kind: dict[str, int]
    suppressed: int = 0
    password_late: int = 0  # password answers that came after the guard released the keys
    started_ns: int = 0
    stopped_ns: int = 0


class CaptureSession:
    def __init__(
        self,
        sink: SpoolSink,
        inputs: InputSource,
        windows: WindowSource,
        open_screen: Callable[[], ScreenSource],
        gate: CaptureGate,
        config: CaptureConfig | None = None,
        *,
        platform: str = "linux-x11",
        clock: Callable[[], int] = time.monotonic_ns,
        wall_clock: Callable[[], int] = time.time_ns,
        on_state: Callable[[Decision], None] | None = None,
        state: DeviceState | None = None,
        screen_redactor: ScreenRedactor | None = None,
        element_sources: Sequence[ElementSource] = (),
    ) -> None:
        self.config = config or CaptureConfig()
        self.session_id = secrets.token_hex(8)
        self.gate = gate
        self._sink = sink
        self._inputs = inputs
        self._windows = windows
        self._platform = platform
        self._wall_clock = wall_clock
        self._on_state = on_state or (lambda decision: None)
        self._state = state or DeviceState.default()  # where `apprentice task` queues commands
        self._started_wall = 0
        self._commands_lock = threading.Lock()
        self.guard = TypedTextGuard(gate.redactor, self._release, element_wait=self.config.element_wait)
        self._stamper = Stamper(self.guard.accept, clock)
        self.elements = ElementWorker(
            element_sources, self._stamper.stamp, gate,
            may_capture=lambda: self.gate.decision.capture,
            on_focus_answer=self._focus_answered,
            timeout_s=self.config.element_timeout,
        )
        self._window: ev.WindowInfo | None = None
        self._focus_stale = True  # the next key-down asks which element has focus
        self._secure_field = False  # a password field has focus (keys off until focus moves)
        self._screen_redactor = screen_redactor
        self.frames = FrameWorker(
            open_screen, self._stamper, self._deliver_frame, self.config,
            may_capture=lambda: self.gate.decision.capture,
            screen_redactor=screen_redactor,
            stacking=windows.stacking,
            window_allowed=gate.window_allowed,
            on_dropped=self._frame_dropped,
        )
        self._last_key_ns: int | None = None
        self._burst_open = False
        self._scrolling_since: int | None = None
        self._blocked: str | None = None  # reason of the open gap, if any
        self._keys_blocked: str | None = None
        self._modifiers: set[str] = set()
        self._swallow_up: str | None = None
        self._task_open = False
        self._running = False
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._stop_refresh = threading.Event()
        self._refresher: threading.Thread | None = None
        self.counts = SessionCounts(by_kind={})
        self.ready = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.frames.start()
        mono = self._stamper.clock()
        wall = self._wall_clock()
        self.counts.started_ns = mono
        self._started_wall = wall
        self._stamper.stamp(
            ev.Control, t=mono, op="start",
            info={
                "session": self.session_id,
                "wall_ns": wall,
                "mono_ns": mono,
                "platform": self._platform,
                "schema": ev.SCHEMA_VERSION,
                "recorder": __version__,
                "pid": os.getpid(),
                "monitors": [_monitor_dict(m) for m in self.frames.monitors],
                "policy_version": self.gate.policy.version,
                "config": {
                    "max_frame_rate": self.config.max_frame_rate,
                    "frame_scale": self.config.frame_scale,
                    "frame_format": self.config.frame_format,
                },
            },
        )
        self._sink.start(self._gap_event)
        if self._screen_redactor is None:
            # No OCR on this machine: screenshots cannot be redacted, so none are kept.
            self._stamper.stamp(
                ev.Control, op="gap", reason="screenshots_unavailable", info={"stream": "frames"}
            )
        self.guard.start()
        self.elements.start()
        self._running = True
        self._windows.start(self._on_focus)
        if self._apply(self.gate.refresh()).capture:
            self.ready = self.frames.grab_soon()  # a first pre-action candidate
            self.ready.wait(5)  # so that the very first action has a frame before it
        self._inputs.start(self._on_input)
        self._refresher = threading.Thread(target=self._refresh_loop, name="apprentice-gate", daemon=True)
        self._refresher.start()

    def stop(self) -> None:
        with self._lock:
            if not self._running:
                return
            self._running = False
        self._stop_refresh.set()
        if self._refresher is not None:
            self._refresher.join(5)
        self._inputs.stop()
        self.elements.stop()
        self.frames.stop()  # before the windows: the frame worker asks them for the stacking
        self._windows.stop()
        with self._lock:
            self._close_gaps()
        stopped = self._stamper.stamp(
            ev.Control, op="stop",
            info={
                "counts": dict(self.counts.by_kind),
                "suppressed": self.counts.suppressed,
                "frames": _frame_summary(self.frames),
                "redacted": dict(self.guard.redacted),
                **({"elements": {
                    **self.elements.stats.as_dict(),
                    "checks_expired": self.guard.element_checks_expired,
                    "password_late": self.counts.password_late,
                }} if self.elements.enabled else {}),
            },
        )
        self.counts.stopped_ns = stopped.t
        self.guard.stop()
        self._sink.stop()

    def marker(self, op: ev.ControlOp, reason: str | None = None, **info: Any) -> None:
        """Record a control marker (task start/end…)."""
        self._stamper.stamp(ev.Control, op=op, reason=reason, info=info)
        self._note_task(op)

    def _note_task(self, op: str) -> None:
        if op in ("task_start", "task_end"):
            self._task_open = op == "task_start"

    # -- hook callbacks (other threads; keep them short) ------------------------------------

    def _on_input(self, kind: str, fields: dict[str, Any]) -> None:
        if not self._running:
            return
        if kind.startswith("key") and self._own_hotkey(kind, fields["key"]):
            return
        self.gate.note_input()
        decision = self.gate.decision
        if not decision.capture and decision.reason == "idle":
            decision = self._apply(self.gate.refresh())
        if kind == "mouse_down" and self._secure_field:
            self._leave_secure_field()  # a click may move the focus: ask again at the next key
        if not decision.capture or (kind.startswith("key") and not decision.keys):
            self.counts.suppressed += 1
            if kind == "key_up" and self._secure_field and fields.get("key") in _FOCUS_MOVING_KEYS:
                self._leave_secure_field()
            return
        ask_focus = kind == "key_down" and self.elements.enabled and self._new_burst(self._stamper.clock())
        if ask_focus:
            self.guard.arm_element_check()  # hold this burst's keys until the answer
        cls = ev.EVENT_TYPES[kind]
        event = self._stamper.stamp(cls, **fields)  # type: ignore[arg-type]
        self._count(kind)
        if self.elements.enabled:
            self._ask_element(kind, event, fields, ask_focus)
        if kind == "mouse_move":
            self.frames.cursor = (fields["x"], fields["y"])
        elif kind == "mouse_down":
            self.frames.cursor = (fields["x"], fields["y"])
            self._burst_open = False
            self.frames.request_pre(event, self.frames.cursor)
        elif kind == "mouse_up":
            self.frames.note_action(event.seq)
        elif kind == "scroll":
            gap = self.config.burst_gap * 1e9
            if self._scrolling_since is None or event.t - self._scrolling_since > gap:
                self.frames.request_pre(event, (fields["x"], fields["y"]))
            self._scrolling_since = event.t
            self.frames.note_action(event.seq)
        elif kind == "key_down":
            fresh = self._last_key_ns is None or event.t - self._last_key_ns > self.config.burst_gap * 1e9
            if fresh or not self._burst_open:
                self.frames.request_pre(event, self.frames.cursor)
                self._burst_open = True
            self._last_key_ns = event.t
        elif kind == "key_up":
            self.frames.note_action(event.seq)

    def _new_burst(self, now: int) -> bool:
        last = self._last_key_ns
        return self._focus_stale or not self._burst_open or last is None or (
            now - last > self.config.burst_gap * 1e9
        )

    def _ask_element(self, kind: str, event: ev.Event, fields: dict[str, Any], ask_focus: bool) -> None:
        window = self._window
        if kind == "mouse_down":
            self._focus_stale = True
            if window is not None:
                self.elements.submit(ElementQuery(event.seq, event.t, "pointer", window,
                                                  fields["x"], fields["y"]))
        elif ask_focus:
            self._focus_stale = False
            queued = window is not None and self.elements.submit(
                ElementQuery(event.seq, event.t, "focus", window)
            )
            if not queued:
                self.guard.element_answered(event.seq, password=False)
        if kind == "key_down" and fields.get("key") in _FOCUS_MOVING_KEYS:
            self._focus_stale = True

    def _focus_answered(self, query: ElementQuery, info: ElementInfo | None) -> None:
        """The worker learnt which element had focus for a burst (worker thread)."""
        password = is_password(info)
        if password:
            self._secure_field = True
            self._apply(self.gate.set_secure_input(True))  # before the guard: no key slips between
        if query.target == "pointer":
            return  # no keys wait on a click's answer
        if not self.guard.element_answered(query.seq, password) and password:
            self.counts.password_late += 1
            log.warning("a password field was recognised after its first keys were released")

    def _leave_secure_field(self) -> None:
        self._secure_field = False
        self._focus_stale = True
        self._apply(self.gate.set_secure_input(False))

    def _count(self, kind: str) -> None:
        # Keyboard and mouse hooks call in from different threads: count under a lock.
        with self._count_lock:
            self.counts.by_kind[kind] = self.counts.by_kind.get(kind, 0) + 1

    def _own_hotkey(self, kind: str, key: str) -> bool:
        """Handle the recorder's own hotkey; True if this key event belongs to it."""
        family = _MODIFIER_FAMILY.get(key)
        if family is not None:
            (self._modifiers.add if kind == "key_down" else self._modifiers.discard)(family)
            return False
        if kind == "key_up" and self._swallow_up is not None and key.lower() == self._swallow_up:
            self._swallow_up = None
            return True
        if kind != "key_down":
            return False
        for (chord, trigger), action in ((PAUSE_HOTKEY, self._toggle_pause),
                                         (TASK_HOTKEY, self._toggle_task)):
            if key.lower() == trigger and chord <= self._modifiers:
                self._swallow_up = trigger
                action()
                return True
        return False

    def _toggle_pause(self) -> None:
        self._apply(self.gate.toggle_pause())

    def _toggle_task(self) -> None:
        if not self.gate.decision.capture:
            return  # no task boundaries inside a gap: there is nothing to bound
        if self._task_open:
            self.marker("task_end", status="success")
        else:
            self.marker("task_start")

    def _on_focus(self, window: ev.WindowInfo | None) -> None:
        if not self._running:
            return
        if window is not None and window.bounds is not None and window.monitor is None:
            window = dataclasses.replace(window, monitor=self._monitor_of(window.bounds))
        self._window = window
        self._focus_stale = True
        if self._secure_field:
            self._secure_field = False
            self.gate.set_secure_input(False)  # a new window: the next key asks again
        decision = self._apply(self.gate.set_window(window))
        self._burst_open = False
        if decision.capture and window is not None:
            self._stamper.stamp(ev.Focus, window=self.gate.redact_window(window))
            self._count("focus")
            self.frames.note_focus()

    def refresh(self) -> Decision:
        """Re-read consent and pause, re-decide, record any change, and stamp queued task
        markers (also run each second)."""
        decision = self._apply(self.gate.refresh())
        self._take_commands(decision)
        return decision

    def _take_commands(self, decision: Decision) -> None:
        with self._commands_lock:
            for command in self._state.take_commands():
                created = command.get("created_ns")
                if decision.reason in _NO_CONSENT or not isinstance(created, int) or (
                    created < self._started_wall
                ):
                    continue
                if command.get("op") == "task_start":
                    info: dict[str, Any] = {}
                    instruction = command.get("instruction")
                    if isinstance(instruction, str) and instruction:
                        redacted = safe_redact(self.gate.redactor, instruction)
                        if redacted is not None:
                            info["instruction"] = redacted
                    self._stamper.stamp(ev.Control, op="task_start", info=info)
                    self._note_task("task_start")
                elif command.get("op") == "task_end" and command.get("status") in _TASK_STATUSES:
                    self._stamper.stamp(ev.Control, op="task_end",
                                        info={"status": command["status"]})
                    self._note_task("task_end")

    def _refresh_loop(self) -> None:
        while not self._stop_refresh.wait(_REFRESH_S):
            self.refresh()

    # -- gaps -------------------------------------------------------------------------------

    def _apply(self, decision: Decision) -> Decision:
        """Record where capture stops and starts again (content-free gap controls).

        ``decision`` is the one the caller just had the gate make, but the window thread, the
        once-a-second refresh and the element worker each decide and then apply; under load a
        thread can be preempted between the two and apply its decision after a newer one was
        applied (e.g. the editor's after the chat's), so the gap records would say capture
        is on while the gate refuses. So the gate's latest decision is applied, never an older one.
        """
        with self._lock:
            decision = self.gate.decision
            blocked = None if decision.capture else decision.reason
            if blocked != self._blocked:
                if self._blocked is not None:
                    self._gap("end", self._blocked)
                    if self._blocked == "paused":
                        self._stamper.stamp(ev.Control, op="resume")
                        log.warning("recording resumed")
                if blocked is not None:
                    self._gap("start", blocked)
                self._blocked = blocked
            keys_blocked = None if (not decision.capture or decision.keys) else decision.reason
            if keys_blocked != self._keys_blocked:
                if self._keys_blocked is not None:
                    self._gap("end", self._keys_blocked, stream="keys")
                if keys_blocked is not None:
                    self._gap("start", keys_blocked, stream="keys")
                self._keys_blocked = keys_blocked
            self._on_state(decision)  # in order too: the status file shows the latest decision
        return decision

    def _close_gaps(self) -> None:
        if self._keys_blocked is not None:
            self._gap("end", self._keys_blocked, stream="keys")
        if self._blocked is not None:
            self._gap("end", self._blocked)

    def _gap(self, state: str, reason: str, stream: str = "all") -> None:
        self._stamper.stamp(ev.Control, op="gap", reason=reason, info={"state": state, "stream": stream})

    def _frame_dropped(self, why: str) -> None:
        self._stamper.stamp(
            ev.Control, op="gap", reason="frame_redaction", info={"why": why, "dropped_frames": 1}
        )

    def _gap_event(self, info: dict[str, Any]) -> ev.Event:
        reason = str(info.get("reason", "dropped"))
        return self._stamper.stamp(
            ev.Control, op="gap", reason=reason,
            info={k: v for k, v in info.items() if k != "reason"},
        )

    # -- delivery -----------------------------------------------------------------------------

    def _deliver_frame(self, event: ev.Frame, blob: FrameBlob | None) -> None:
        self.guard.accept(event, blob)

    def _release(self, event: ev.Event, blob: object | None) -> None:
        if isinstance(blob, FrameBlob) and isinstance(event, ev.Frame):
            self._sink.put_frame(blob, event)
        else:
            self._sink.put_event(event)

    def _monitor_of(self, bounds: ev.Rect) -> int | None:
        cx, cy = bounds.x + bounds.width // 2, bounds.y + bounds.height // 2
        for monitor in self.frames.monitors:
            if monitor.bounds.contains(cx, cy):
                return monitor.index
        return None


def _monitor_dict(monitor: ev.Monitor) -> dict[str, Any]:
    b = monitor.bounds
    return {
        "index": monitor.index, "x": b.x, "y": b.y, "width": b.width, "height": b.height,
        "scale": monitor.scale, "primary": monitor.primary,
    }


def _frame_summary(frames: FrameWorker) -> dict[str, Any]:
    s = frames.stats
    return {
        "grabs": s.grabs, "stored": s.stored, "deduplicated": s.deduplicated,
        "rate_limited": s.rate_limited, "errors": s.errors, "by_trigger": dict(s.by_trigger),
    }
