"""The policy gate: nothing reaches the spool unless consent and policy allow it.

Every input event, window change and screenshot passes :class:`CaptureGate` before it is
stamped. The gate keeps the current :class:`~apprentice.policy.Decision` for the focused
window and re-decides when the window changes, when the consent or pause files change,
and once a second (schedule, idle). Refused periods are recorded as content-free ``gap``
controls (start and end, with the fixed reason code) — never the window, title or keys.

Window titles and URLs of allowed windows pass the text redactor; if redaction fails the
field is dropped (fail closed).
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apprentice import events as ev
from apprentice.capture.device_state import DeviceState, OrganisationState
from apprentice.errors import PolicyError
from apprentice.policy import CaptureState, Decision, Notice, Policy, decide, load_policy
from apprentice.redact import Redactor, safe_redact, safe_redact_url

_CONSENT_ERROR = Decision(capture=False, keys=False, reason="no_consent")


class CaptureGate:
    def __init__(
        self,
        policy: Policy,
        notice: Notice,
        state: DeviceState,
        redactor: Redactor,
        *,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        policy_path: Path | None = None,
    ) -> None:
        self.policy = policy
        self._policy_path = policy_path
        self._policy_mtime = _mtime(policy_path)
        #: Set when a changed policy file no longer parses: the agent must stop (fail closed).
        self.policy_error: PolicyError | None = None
        self._notice = notice
        self._state = state
        self.redactor = redactor
        self._wall_clock = wall_clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._window: ev.WindowInfo | None = None
        self._last_input = monotonic()
        self._secure_input = False
        self._files_stamp: tuple[float, ...] | None = None
        self._organisation = OrganisationState()
        self._consent_version: int | None = None
        self._paused_until: datetime | None = None
        self.decision = Decision(capture=False, keys=False, reason="no_window")
        self._reload_files()

    # -- inputs to the decision -------------------------------------------------------

    def note_input(self) -> None:
        self._last_input = self._monotonic()

    def set_window(self, window: ev.WindowInfo | None) -> Decision:
        with self._lock:
            self._window = window
            return self._redecide()

    def set_secure_input(self, secure: bool) -> Decision:
        with self._lock:
            self._secure_input = secure
            return self._redecide()

    def toggle_pause(self) -> Decision:
        """The pause hotkey: pause for the policy's maximum, or resume if paused."""
        with self._lock:
            now = self._wall_clock()
            if self._paused_until is not None and self._paused_until > now:
                self._state.set_pause(None)
            else:
                self._state.set_pause(now + timedelta(minutes=self.policy.pause_cap_minutes))
            self._files_stamp = None  # re-read what we just wrote
            self._reload_files()
            return self._redecide()

    def refresh(self) -> Decision:
        """Re-read the contributor's controls if they changed and decide again."""
        with self._lock:
            self._reload_files()
            return self._redecide()

    # -- what may be stored -------------------------------------------------------------

    def window_allowed(self, window: ev.WindowInfo) -> bool:
        """May this (possibly unfocused) window's pixels appear in a screenshot right now?"""
        state = CaptureState(
            policy=self.policy,
            notice_version=self._notice.version,
            consent_version=self._consent_version,
            paused_until=self._paused_until,
            secure_input=False,
            exempt=self._organisation.exempt,
            capture_disabled=self._organisation.capture_disabled,
        )
        try:
            return decide(window, self._wall_clock(), state).capture
        except Exception:
            return False

    def redact_window(self, window: ev.WindowInfo) -> ev.WindowInfo:
        """The window as it may be stored: title and URL redacted, or dropped if that fails."""
        title = safe_redact(self.redactor, window.title) if window.title else None
        url = None
        if window.url:
            url = safe_redact_url(self.redactor, window.url)
        return dataclasses.replace(window, title=title, url=url)

    # -- internals ------------------------------------------------------------------------

    def _reload_policy(self) -> None:
        """Pick up a changed policy file (e.g. the person was exempted) within a second."""
        if self._policy_path is None:
            return
        mtime = _mtime(self._policy_path)
        if mtime == self._policy_mtime:
            return
        self._policy_mtime = mtime
        try:
            self.policy = load_policy(self._policy_path)
        except PolicyError as exc:
            self.policy_error = exc
        except OSError:
            self.policy_error = PolicyError(str(self._policy_path), None, "the policy file went away")

    def _reload_files(self) -> None:
        self._reload_policy()
        stamp = self._state.stamp()
        if stamp == self._files_stamp:
            return
        self._files_stamp = stamp
        try:
            self._consent_version = self._state.consent.consent_version(self._notice)
        except Exception:  # a damaged record is no consent (fail closed)
            self._consent_version = None
        self._paused_until = self._state.paused_until()
        self._organisation = self._state.organisation()

    def _redecide(self) -> Decision:
        if self.policy_error is not None:
            self.decision = Decision(capture=False, keys=False, reason="policy_error")
            return self.decision
        state = CaptureState(
            policy=self.policy,
            notice_version=self._notice.version,
            consent_version=self._consent_version,
            paused_until=self._paused_until,
            idle_seconds=self._monotonic() - self._last_input,
            secure_input=self._secure_input,
            exempt=self._organisation.exempt,
            capture_disabled=self._organisation.capture_disabled,
        )
        try:
            self.decision = decide(self._window, self._wall_clock(), state)
        except Exception:  # any failure to decide is a refusal
            self.decision = _CONSENT_ERROR
        return self.decision


def _mtime(path: Path | None) -> int:
    if path is None:
        return 0
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return -1
