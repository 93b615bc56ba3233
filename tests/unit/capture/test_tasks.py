"""Task boundaries: `apprentice task start/end` → command files → controls in the spool."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from apprentice import events as ev
from apprentice.capture.device_state import DeviceState
from apprentice.cli import task_cmd
from apprentice.errors import ConfigError
from apprentice.spool import open_spool
from tests.unit.helpers import fake_session


def _wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Poll for a condition another thread makes true (no fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _command(op: str, **fields: object) -> dict[str, object]:
    return {"op": op, "created_ns": time.time_ns(), **fields}


def _controls(spool: Path) -> list[ev.Control]:
    return [e for e in open_spool(spool).events()
            if isinstance(e, ev.Control) and e.op in ("task_start", "task_end")]


def test_commands_are_stamped_in_the_order_they_were_sent(tmp_path: Path) -> None:
    session, *_ = fake_session(tmp_path / "s")
    session.start()
    state = DeviceState.default()
    state.put_command(_command("task_start", instruction="Rename the invoices"))
    state.put_command(_command("task_end", status="failure"))
    state.put_command(_command("task_start", instruction="Try again"))
    session.refresh()
    session.stop()
    controls = _controls(tmp_path / "s")
    assert [(c.op, c.info) for c in controls] == [
        ("task_start", {"instruction": "Rename the invoices"}),
        ("task_end", {"status": "failure"}),
        ("task_start", {"instruction": "Try again"}),
    ]
    assert [c.seq for c in controls] == sorted(c.seq for c in controls)
    assert list(state.commands_dir.iterdir()) == []  # taken, not run twice


def test_the_instruction_is_redacted_before_it_is_stored(tmp_path: Path) -> None:
    session, *_ = fake_session(tmp_path / "s")
    session.start()
    DeviceState.default().put_command(
        _command("task_start", instruction="Email the report to jane.doe@example.com"))
    session.refresh()
    session.stop()
    (control,) = _controls(tmp_path / "s")
    assert "jane.doe@example.com" not in json.dumps(control.info)
    assert control.info["instruction"].startswith("Email the report to ")


def test_an_instruction_that_cannot_be_redacted_is_dropped(tmp_path: Path) -> None:
    session, *_ = fake_session(tmp_path / "s")

    class Broken:
        def redact(self, text: str) -> object:
            raise RuntimeError("recognizer crashed")

    session.gate.redactor = Broken()  # type: ignore[assignment]
    session.start()
    DeviceState.default().put_command(_command("task_start", instruction="secret plan"))
    session.refresh()
    session.stop()
    (control,) = _controls(tmp_path / "s")
    assert control.info == {}


@pytest.mark.parametrize(
    "command",
    [
        {"op": "task_start", "instruction": "sent before the recorder started", "created_ns": 1},
        {"op": "task_end", "status": "maybe", "created_ns": time.time_ns() * 2},
        {"op": "format_disk", "created_ns": time.time_ns() * 2},
        {"op": "task_end", "status": "success"},  # no creation time
    ],
    ids=["stale", "bad status", "unknown op", "undated"],
)
def test_commands_that_do_not_belong_are_dropped(tmp_path: Path, command: dict[str, object]) -> None:
    session, *_ = fake_session(tmp_path / "s")
    session.start()
    state = DeviceState.default()
    state.put_command(command)
    (state.commands_dir / "0000-damaged.json").write_text("{not json")
    session.refresh()
    session.stop()
    assert _controls(tmp_path / "s") == []
    assert list(state.commands_dir.iterdir()) == []


def test_without_consent_no_marker_is_recorded(tmp_path: Path) -> None:
    session, *_ = fake_session(tmp_path / "s")
    session.start()
    state = DeviceState.default()
    state.consent.path.unlink()
    state.put_command(_command("task_start", instruction="anything"))
    session.refresh()
    session.stop()
    assert _controls(tmp_path / "s") == []


def test_task_cli_refuses_when_no_recorder_is_running() -> None:
    with pytest.raises(ConfigError, match="no recorder is running"):
        task_cmd.send({"op": "task_start", "instruction": "x"})
    assert not DeviceState.default().commands_dir.exists() or not any(
        DeviceState.default().commands_dir.iterdir())


def _pretend_running(state: DeviceState) -> None:
    state.root.mkdir(parents=True, exist_ok=True)
    state.status_path.write_text(json.dumps({"pid": os.getpid(), "recording": True}))


def test_task_cli_returns_once_the_recorder_took_the_command(tmp_path: Path) -> None:
    session, *_ = fake_session(tmp_path / "s")
    session.start()
    state = DeviceState.default()
    _pretend_running(state)
    sender = threading.Thread(target=task_cmd.send, args=({"op": "task_end", "status": "success"},))
    sender.start()
    _wait_for(lambda: any(state.commands_dir.glob("*.json")))
    session.refresh()
    sender.join(10)
    assert not sender.is_alive()
    session.stop()
    assert [(c.op, c.info) for c in _controls(tmp_path / "s")] == [
        ("task_end", {"status": "success"})]


def test_task_cli_withdraws_a_command_nobody_took() -> None:
    state = DeviceState.default()
    _pretend_running(state)
    with pytest.raises(ConfigError, match="did not take the command"):
        task_cmd.send({"op": "task_end", "status": "success"}, timeout=0.1)
    assert list(state.commands_dir.glob("*.json")) == []
