"""``apprentice agent --record``'s supervisor: the recorder starts only once policy, consent
and the organisation allow it, an exemption ends it for good, and a failing start is retried
later, not in a loop. The recorder is replaced by a function that blocks until told to stop
(the real one needs a display; tests/integration covers it)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apprentice.capture.device_state import DeviceState
from apprentice.capture.recorder import ExemptionApplied
from apprentice.capture.supervise import RecorderSupervisor
from tests.support import prepare_device


class FakeRecorder:
    def __init__(self) -> None:
        self.starts = 0
        self.fail: BaseException | None = None

    def __call__(self, out: Path, *, stop_event: threading.Event, **_: Any) -> None:
        self.starts += 1
        if self.fail is not None:
            raise self.fail
        stop_event.wait(10)


def _wait_stopped(sup: RecorderSupervisor) -> None:
    deadline = time.monotonic() + 5
    while sup.running and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_recorder_waits_for_policy_consent_and_the_organisation(tmp_path: Path) -> None:
    state = DeviceState.default()
    fake = FakeRecorder()
    sup = RecorderSupervisor(tmp_path / "spool", state, run=fake)
    assert sup.tick() == "no_policy"
    prepare_device(["Editor"], consent=False)
    assert sup.tick() == "no_consent"
    prepare_device(["Editor"])
    state.write_organisation(False, "dpia_pending", False, datetime.now(UTC))
    assert sup.tick() == "dpia_pending" and fake.starts == 0
    state.write_organisation(True, None, False, datetime.now(UTC))
    assert sup.tick() == "recording" and fake.starts == 1
    assert sup.tick() == "recording" and fake.starts == 1  # one recorder, not one per tick
    sup.stop()
    assert not sup.running


def test_an_exemption_ends_recording_for_good(tmp_path: Path) -> None:
    prepare_device(["Editor"])
    fake = FakeRecorder()
    fake.fail = ExemptionApplied("exempted")
    sup = RecorderSupervisor(tmp_path / "spool", DeviceState.default(), run=fake)
    sup.tick()
    _wait_stopped(sup)
    assert sup.exempted and sup.tick() == "exempt" and fake.starts == 1


def test_a_failing_start_is_retried_after_the_delay(tmp_path: Path) -> None:
    prepare_device(["Editor"])
    now = [0.0]
    fake = FakeRecorder()
    fake.fail = RuntimeError("no display")
    sup = RecorderSupervisor(tmp_path / "spool", DeviceState.default(), run=fake, retry_s=60,
                             monotonic=lambda: now[0])
    sup.tick()
    _wait_stopped(sup)
    assert sup.tick() == "retrying" and fake.starts == 1 and sup.last_error == "RuntimeError"
    now[0] = 61.0
    sup.tick()
    _wait_stopped(sup)
    assert fake.starts == 2
