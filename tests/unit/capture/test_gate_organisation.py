"""The gate follows what the collector said at the last sync: no approved DPIA means
``dpia_pending`` gaps and nothing captured; an exemption stops the recording."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from apprentice.capture.device_state import DeviceState
from apprentice.capture.gate import CaptureGate
from apprentice.capture.recorder import open_gate
from apprentice.policy import ORGANISATION_REASONS, REASONS
from tests.support import prepare_device
from tests.unit.helpers import EDITOR


def _gate(tmp_path: Path) -> tuple[DeviceState, CaptureGate]:
    state = prepare_device(["Editor"])
    return state, open_gate(state)


def test_dpia_pending_refuses_an_allowlisted_window_with_its_own_reason(tmp_path: Path) -> None:
    state, gate = _gate(tmp_path)
    assert gate.set_window(EDITOR).reason == "allowed"
    state.write_organisation(False, "dpia_pending", False, datetime.now(UTC))
    decision = gate.refresh()
    assert (decision.capture, decision.keys, decision.reason) == (False, False, "dpia_pending")
    assert gate.window_allowed(EDITOR) is False
    state.write_organisation(True, None, False, datetime.now(UTC))
    assert gate.refresh().reason == "allowed"


def test_an_exemption_from_sync_refuses_as_exempt(tmp_path: Path) -> None:
    state, gate = _gate(tmp_path)
    gate.set_window(EDITOR)
    state.write_organisation(False, None, True, datetime.now(UTC))
    assert gate.refresh().reason == "exempt"


def test_organisation_reasons_are_reason_codes() -> None:
    assert ORGANISATION_REASONS <= REASONS and "dpia_pending" in REASONS
    assert all(r.isascii() and r.replace("_", "").isalpha() for r in ORGANISATION_REASONS)
