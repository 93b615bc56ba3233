"""Running a recording from start to a clean stop: the glue behind ``apprentice record``.

Stops on the deadline, on ``stop_event`` (set by the CLI's SIGINT/SIGTERM handlers), or
when the caller's ``should_stop`` says so; in every case the spool is drained and closed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from apprentice.capture.a11y import open_element_source
from apprentice.capture.base import ElementSource
from apprentice.capture.browser import BrowserContext, BrowserElementSource, BrowserWindows
from apprentice.capture.browser.channel import socket_path
from apprentice.capture.browser.listener import BrowserListener
from apprentice.capture.config import CaptureConfig
from apprentice.capture.device_state import DeviceState
from apprentice.capture.gate import CaptureGate
from apprentice.capture.inputs import open_input_source
from apprentice.capture.platform import check_recordable
from apprentice.capture.screens import open_screen_source
from apprentice.capture.session import CaptureSession
from apprentice.capture.window import open_window_source
from apprentice.errors import ApprenticeError, CaptureError, ConfigError, ConsentError
from apprentice.policy import load_notice, load_policy
from apprentice.redact import RedactorConfig, build_redactor
from apprentice.redact.image import ScreenRedactor
from apprentice.redact.ocr import OcrUnavailable
from apprentice.spool import open_sink

log = logging.getLogger(__name__)


@dataclass
class Recording:
    out: Path
    session_id: str
    events: int
    frames_stored: int
    spool_bytes: int
    seconds: float


def record_until(
    out: Path,
    *,
    duration: float | None,
    stop_event: threading.Event,
    config: CaptureConfig | None = None,
    key_file: Path | None = None,
    display: str | None = None,
    policy_file: Path | None = None,
    state: DeviceState | None = None,
    on_started: Callable[[CaptureSession], None] | None = None,
    accessibility: bool = True,
) -> Recording:
    """Record to the spool at ``out`` until the duration passes or ``stop_event`` is set.

    Refuses to start without a valid policy file or without consent to the current notice.
    With ``accessibility``, each click and typing burst also records the UI element it
    targeted (docs/accessibility.md); where no accessibility bus is running the recorder
    warns and goes on without.
    """
    state = state or DeviceState.default()
    gate = open_gate(state, policy_file)
    if display:
        os.environ["DISPLAY"] = display
    platform = check_recordable()
    config = config or CaptureConfig()
    browser = BrowserContext()
    listener = open_browser_listener(state, browser)  # before the spool: it may refuse
    try:
        sink = open_sink(
            out, key_file, max_total_bytes=config.max_spool_bytes,
            flush_interval=config.flush_interval, fsync_interval=config.fsync_interval,
        )
    except BaseException:
        if listener is not None:
            listener.close()
        raise
    session = CaptureSession(
        sink, open_input_source("pynput"), BrowserWindows(open_window_source("auto"), browser),
        lambda: open_screen_source("mss"), gate, config, platform=platform,
        screen_redactor=open_screen_redactor(gate), state=state,
        on_state=lambda decision: _on_state(decision),
        # The browser's own answer first (web roles and names), then the platform's.
        element_sources=[BrowserElementSource(browser),
                         *(open_element_sources() if accessibility else ())],
    )
    ended: dict[str, str] = {}

    def _on_state(decision: object) -> None:
        write_status(state, decision)
        reason = getattr(decision, "reason", "")
        if reason in ("exempt", "policy_error") and not ended:
            ended["reason"] = reason
            stop_event.set()
    started = time.monotonic()
    session.start()
    try:
        if on_started is not None:
            on_started(session)
        stop_event.wait(duration)
    finally:
        session.stop()
        if listener is not None:
            listener.close()
        state.status_path.unlink(missing_ok=True)
    if ended.get("reason") == "exempt":
        purge_spool(out, key_file)
        raise ExemptionApplied(
            "you have been exempted: recording stopped and everything not yet uploaded was destroyed"
        )
    if ended.get("reason") == "policy_error" and gate.policy_error is not None:
        raise gate.policy_error
    return Recording(
        out=out,
        session_id=session.session_id,
        events=sink.stats.events_written,
        frames_stored=sink.stats.frames_written,
        spool_bytes=sum(p.stat().st_size for p in (out / "segments").iterdir()),
        seconds=time.monotonic() - started,
    )


class ExemptionApplied(ApprenticeError):
    """The contributor was exempted while recording; the local data is gone."""


def purge_spool(out: Path, key_file: Path | None = None) -> None:
    """Destroy a spool: its key first (crypto-shredding: any copy becomes unreadable), then
    its segments."""
    from apprentice.spool import open_layout

    layout = open_layout(out)
    (key_file or layout.key_path()).unlink(missing_ok=True)
    for path in sorted(layout.segments.glob("*.seg")):
        path.unlink()


def open_browser_listener(state: DeviceState, context: BrowserContext) -> BrowserListener | None:
    """Listen for the browser extension's host on ``browser.sock`` in the device folder.

    Another live recorder on the same socket is an error (ConfigError); a socket that cannot
    be made (e.g. a path too long for AF_UNIX) means no browser context, with a warning:
    browser windows are then judged by their titles alone, as without the extension.
    """
    listener = BrowserListener(socket_path(state.root), context)
    try:
        listener.start()
    except OSError as exc:
        log.warning("no browser context: cannot listen on %s (%s)", listener.path, exc.strerror)
        listener.close()
        return None
    return listener


def open_element_sources() -> list[ElementSource]:
    """This platform's accessibility backend, or none (and a warning) where it cannot start."""
    try:
        return [open_element_source("auto")]
    except CaptureError as exc:
        log.warning("recording without UI element context: %s", exc)
        return []


def open_screen_redactor(gate: CaptureGate) -> ScreenRedactor | None:
    """The screenshot redactor, or None (and a warning) where Tesseract is not installed."""
    try:
        return ScreenRedactor(gate.redactor)
    except OcrUnavailable:
        log.warning(
            "Tesseract OCR is not installed, so screenshots cannot be redacted and none will be "
            "kept; install it with: sudo apt-get install tesseract-ocr tesseract-ocr-eng"
        )
        return None


def open_gate(state: DeviceState, policy_file: Path | None = None) -> CaptureGate:
    """Load the policy, the notice and the redactor; refuse to go on without consent."""
    path = policy_file or state.policy_path
    if not path.exists():
        raise ConfigError(
            f"no capture policy at {path}; pass --policy FILE or ask your privacy officer "
            "for one (see docs/privacy.md for the format)"
        )
    policy = load_policy(path)
    notice = load_notice()
    if state.consent.consent_version(notice) is None:
        raise ConsentError(
            "you have not accepted the current notice; read it with `apprentice consent show` "
            "and accept it with `apprentice consent accept`"
        )
    redactor = build_redactor(RedactorConfig(keep_url_query=policy.keep_url_query))
    return CaptureGate(policy, notice, state, redactor, policy_path=path)


def write_status(state: DeviceState, decision: object) -> None:
    """Publish the recorder's state for `apprentice status` (no content, just the state)."""
    import json

    from apprentice.fileio import write_atomically

    capture = bool(getattr(decision, "capture", False))
    body = {
        "recording": capture,
        "keys": bool(getattr(decision, "keys", False)),
        "reason": getattr(decision, "reason", "unknown"),
        "pid": os.getpid(),
        "updated": time.time(),
    }
    try:
        state.root.mkdir(parents=True, exist_ok=True)
        write_atomically(state.status_path, json.dumps(body).encode(), durable=False)
    except OSError:
        pass  # status is informative; never stop recording over it
