"""Running the recorder inside ``apprentice agent --record``: start it once the device may
record, and let it stop itself when it may not.

The recorder starts only when a policy file exists, the contributor's consent covers the
notice, and the organisation's capture is enabled and the person is not exempt (the files
``apprentice agent``'s sync writes, ``device_state.py``). Once running, the gate itself
refuses (gaps with reason codes) when any of that changes, and on an exemption the recorder
stops and destroys its spool (``recorder.record_until``). A recorder that fails to start
(no display, a bad policy) is retried after ``retry_s``, never in a tight loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apprentice.capture.device_state import DeviceState
from apprentice.capture.recorder import ExemptionApplied, purge_spool, record_until
from apprentice.errors import ApprenticeError
from apprentice.policy import load_notice

log = logging.getLogger("apprentice.capture.supervise")


class RecorderSupervisor:
    def __init__(self, out: Path, state: DeviceState, *, key_file: Path | None = None,
                 run: Callable[..., Any] = record_until, retry_s: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic, **options: Any) -> None:
        self.out = out
        self.state = state
        self._key_file = key_file
        self._run = run
        self._retry_s = retry_s
        self._monotonic = monotonic
        self._options = options
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._not_before = 0.0
        self.exempted = False
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def waiting_for(self) -> str | None:
        """Why the recorder may not start now (a reason code), or None when it may."""
        organisation = self.state.organisation()
        if self.exempted or organisation.exempt:
            return "exempt"
        if organisation.capture_disabled is not None:
            return organisation.capture_disabled
        if not self.state.policy_path.exists():
            return "no_policy"
        try:
            consented = self.state.consent.consent_version(load_notice()) is not None
        except Exception:  # a damaged record is no consent
            consented = False
        return None if consented else "no_consent"

    def tick(self) -> str:
        """Start the recorder if it may run and is not running; return what it is doing."""
        if self.running:
            return "recording"
        reason = self.waiting_for()
        if reason == "exempt":
            self.exempted = True
            return "exempt"
        if reason is not None:
            return reason
        if self._monotonic() < self._not_before:
            return "retrying"
        self._stop.clear()
        self._thread = threading.Thread(target=self._record, name="apprentice-recorder", daemon=True)
        self._thread.start()
        return "recording"

    def purge(self) -> None:
        """Destroy the spool (exempted while the recorder was not running to do it itself)."""
        if self.out.joinpath("spool.json").exists():
            purge_spool(self.out, self._key_file)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _record(self) -> None:
        try:
            self._run(self.out, duration=None, stop_event=self._stop, key_file=self._key_file,
                      state=self.state, **self._options)
        except ExemptionApplied:
            self.exempted = True
        except Exception as exc:  # start again later, never in a tight loop
            self.last_error = type(exc).__name__
            self._not_before = self._monotonic() + self._retry_s
            # Our own errors carry fixed, content-free messages; anything else is named only by
            # its type, since a stray exception text could quote a window title.
            why = str(exc) if isinstance(exc, ApprenticeError) else type(exc).__name__
            log.warning("the recorder stopped (%s); retrying in %.0f s", why, self._retry_s)
