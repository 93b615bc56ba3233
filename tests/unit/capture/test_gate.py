"""The policy gate inside the recorder: nothing outside consent and policy reaches the spool."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apprentice import events as ev
from apprentice.capture.device_state import DeviceState
from apprentice.capture.recorder import open_gate
from apprentice.errors import ConfigError, ConsentError, PolicyError
from apprentice.spool import open_spool
from tests.support import prepare_device, spool_bytes
from tests.unit.helpers import EDITOR, fake_session

CHAT = ev.WindowInfo(wid=7, app_id="Signal", process="signal-desktop", title="Alice: my salary is 91k",
                     bounds=ev.Rect(0, 0, 64, 48))
BROWSER = ev.WindowInfo(wid=8, app_id="Firefox", process="firefox", title="Holiday photos",
                        bounds=ev.Rect(0, 0, 64, 48))


def _type(text: str) -> list[tuple[str, dict]]:
    script = []
    for ch in text:
        script.append(("key_down", {"key": ch, "vk": None, "char": ch}))
        script.append(("key_up", {"key": ch, "vk": None, "char": ch}))
    return script


def _events(tmp_path: Path) -> list[ev.Event]:
    return list(open_spool(tmp_path / "s").events())


def test_a_window_outside_the_allowlist_yields_only_a_gap(tmp_path: Path) -> None:
    session, inputs, windows, _, _ = fake_session(tmp_path / "s", window=BROWSER)
    session.start()
    inputs.play(_type("holiday") + [("mouse_down", {"x": 1, "y": 1, "button": "left"})])
    session.stop()
    events = _events(tmp_path)
    assert not any(e.kind in ev.INPUT_KINDS or e.kind in ("focus", "frame") for e in events)
    gaps = [e for e in events if isinstance(e, ev.Control) and e.op == "gap"]
    assert [(g.reason, g.info["state"]) for g in gaps] == [("not_allowlisted", "start"),
                                                         ("not_allowlisted", "end")]
    assert b"Holiday" not in spool_bytes(tmp_path)
    assert session.counts.suppressed == 15


def test_denylisted_chat_is_never_captured_even_if_allowlisted(tmp_path: Path) -> None:
    session, inputs, windows, _, _ = fake_session(tmp_path / "s", apps=("Editor", "Signal"))
    session.start()
    windows.focus(CHAT)
    inputs.play(_type("see you"))
    windows.focus(EDITOR)
    inputs.play(_type("ok"))
    session.stop()
    events = _events(tmp_path)
    reasons = [e.reason for e in events if isinstance(e, ev.Control) and e.op == "gap"]
    assert "denylisted:messaging" in reasons
    typed = "".join(e.char or "" for e in events if isinstance(e, ev.KeyDown))
    assert typed == "ok"
    assert not any(isinstance(e, ev.Focus) and e.window and e.window.app_id == "Signal" for e in events)


def test_typed_card_numbers_and_keys_are_redacted_before_the_spool(tmp_path: Path) -> None:
    session, inputs, _, _, _ = fake_session(tmp_path / "s")
    session.start()
    card = "4111 1111 1111 1111"
    key = "AKIAIOSFODNN7EXAMPLE"
    inputs.play(_type(f"card {card} and key {key} done") + [("key_down", {"key": "enter", "char": None})])
    session.stop()
    events = _events(tmp_path)
    typed = "".join(e.char or "" for e in events if isinstance(e, ev.KeyDown))
    assert "1111" not in typed and "AKIA" not in typed
    assert typed.startswith("card ") and typed.endswith(" done")
    redacted = {e.reason for e in events if isinstance(e, ev.Control) and e.op == "redacted"}
    assert "CREDIT_CARD" in redacted and len(redacted) == 2
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs)


def test_a_secret_typed_then_deleted_is_still_redacted(tmp_path: Path) -> None:
    session, inputs, _, _, _ = fake_session(tmp_path / "s")
    session.start()
    backspaces = [("key_down", {"key": "backspace", "char": None}), ("key_up", {"key": "backspace"})] * 20
    inputs.play(_type("AKIAIOSFODNN7EXAMPLE") + backspaces)
    session.stop()
    typed = "".join(e.char or "" for e in _events(tmp_path) if isinstance(e, ev.KeyDown))
    assert "AKIA" not in typed


def test_window_titles_are_redacted(tmp_path: Path) -> None:
    window = ev.WindowInfo(wid=3, app_id="Editor", title="mail to bob@example.org - Editor",
                           bounds=ev.Rect(0, 0, 64, 48))
    session, _, _, _, _ = fake_session(tmp_path / "s", window=window)
    session.start()
    session.stop()
    focus = next(e for e in _events(tmp_path) if isinstance(e, ev.Focus))
    assert focus.window and focus.window.title == "mail to <EMAIL_ADDRESS> - Editor"


def test_withdrawing_consent_stops_capture_at_once(tmp_path: Path) -> None:
    session, inputs, _, _, _ = fake_session(tmp_path / "s")
    session.start()
    inputs.play(_type("a"))
    DeviceState.default().consent.withdraw()
    session.refresh()
    inputs.play(_type("b"))
    session.stop()
    events = _events(tmp_path)
    assert "".join(e.char or "" for e in events if isinstance(e, ev.KeyDown)) == "a"
    assert any(isinstance(e, ev.Control) and e.reason == "no_consent" for e in events)


def test_pause_and_resume_are_recorded_and_honoured(tmp_path: Path) -> None:
    session, inputs, _, _, _ = fake_session(tmp_path / "s")
    session.start()
    state = DeviceState.default()
    state.set_pause(datetime.now(UTC) + timedelta(minutes=5))
    session.refresh()
    inputs.play(_type("x"))
    state.set_pause(None)
    session.refresh()
    inputs.play(_type("y"))
    session.stop()
    events = _events(tmp_path)
    assert "".join(e.char or "" for e in events if isinstance(e, ev.KeyDown)) == "y"
    ops = [(e.op, e.reason) for e in events if isinstance(e, ev.Control) and e.op in ("gap", "resume")]
    assert ("gap", "paused") in ops and ("resume", None) in ops


def test_secure_input_drops_keys_but_keeps_the_pointer(tmp_path: Path) -> None:
    session, inputs, _, _, _ = fake_session(tmp_path / "s")
    session.start()
    session._apply(session.gate.set_secure_input(True))
    inputs.play(_type("hunter2") + [("mouse_down", {"x": 2, "y": 2, "button": "left"})])
    session.stop()
    events = _events(tmp_path)
    assert not any(isinstance(e, ev.KeyDown) for e in events)
    assert any(isinstance(e, ev.MouseDown) for e in events)
    assert any(isinstance(e, ev.Control) and e.reason == "secure_input" for e in events)


def test_recording_refuses_without_policy_or_consent(tmp_path: Path) -> None:
    state = DeviceState.default()
    with pytest.raises(ConfigError, match="no capture policy"):
        open_gate(state)
    prepare_device(["Editor"], consent=False)
    with pytest.raises(ConsentError, match="consent accept"):
        open_gate(state)
    state.policy_path.write_text("version: 1\nallow: [oops\n")
    with pytest.raises(PolicyError):
        open_gate(state)


def test_the_pause_hotkey_pauses_and_is_never_recorded(tmp_path: Path) -> None:
    session, inputs, _, _, _ = fake_session(tmp_path / "s")
    session.start()
    chord = [("key_down", {"key": "ctrl"}), ("key_down", {"key": "alt"}), ("key_down", {"key": "shift"}),
             ("key_down", {"key": "P", "char": "P"}), ("key_up", {"key": "P", "char": "P"}),
             ("key_up", {"key": "shift"}), ("key_up", {"key": "alt"}), ("key_up", {"key": "ctrl"})]
    inputs.play(chord)
    inputs.play(_type("secret plans"))
    assert DeviceState.default().paused_until() is not None
    inputs.play(chord)  # the same hotkey resumes
    inputs.play(_type("ok"))
    session.stop()
    events = _events(tmp_path)
    assert not any(isinstance(e, ev.KeyDown) and e.key in ("P", "p") for e in events)
    typed = "".join(e.char or "" for e in events if isinstance(e, ev.KeyDown))
    assert typed == "ok"
    assert any(isinstance(e, ev.Control) and e.op == "resume" for e in events)


def test_an_exemption_or_a_broken_policy_file_closes_the_gate(tmp_path: Path) -> None:
    import os

    from apprentice.capture.recorder import open_gate

    state = prepare_device(["Editor"])
    gate = open_gate(state)
    gate.set_window(EDITOR)
    assert gate.refresh().capture
    state.policy_path.write_text(state.policy_path.read_text() + "exempt: true\n")
    os.utime(state.policy_path, ns=(1, 10**18))
    assert gate.refresh().reason == "exempt"
    state.policy_path.write_text("version: [broken\n")
    os.utime(state.policy_path, ns=(1, 2 * 10**18))
    decision = gate.refresh()
    assert decision.reason == "policy_error" and not decision.capture
    assert gate.policy_error is not None


def test_purging_a_spool_shreds_its_key_and_segments(tmp_path: Path) -> None:
    from apprentice.capture.recorder import purge_spool
    from apprentice.errors import KeyFileError
    from apprentice.spool import open_layout

    session, inputs, _, _, _ = fake_session(tmp_path / "s")
    session.start()
    inputs.play(_type("work"))
    session.stop()
    key = open_layout(tmp_path / "s").key_path()
    assert key.exists()
    purge_spool(tmp_path / "s")
    assert not key.exists() and not list((tmp_path / "s" / "segments").iterdir())
    with pytest.raises(KeyFileError):
        open_spool(tmp_path / "s")


def test_the_task_hotkey_marks_task_boundaries_and_is_never_recorded(tmp_path: Path) -> None:
    session, inputs, _, _, _ = fake_session(tmp_path / "s")
    session.start()
    chord = [("key_down", {"key": "ctrl"}), ("key_down", {"key": "alt"}), ("key_down", {"key": "shift"}),
             ("key_down", {"key": "T", "char": "T"}), ("key_up", {"key": "T", "char": "T"}),
             ("key_up", {"key": "shift"}), ("key_up", {"key": "alt"}), ("key_up", {"key": "ctrl"})]
    inputs.play(chord)
    inputs.play(_type("draw"))
    inputs.play(chord)
    session.stop()
    events = _events(tmp_path)
    controls = [e for e in events if isinstance(e, ev.Control)]
    ops = [(e.op, e.info.get("status")) for e in controls if e.op.startswith("task")]
    assert ops == [("task_start", None), ("task_end", "success")]
    assert not any(isinstance(e, ev.KeyDown) and e.key in ("T", "t") for e in events)


def test_a_decision_applied_late_never_undoes_a_newer_one(tmp_path: Path) -> None:
    """The once-a-second refresh decides, is preempted, and applies its decision after the
    window thread applied the chat's: the gap records must still say the chat is refused."""
    session, inputs, windows, _, _ = fake_session(tmp_path / "s", apps=("Editor", "Signal"))
    session.start()
    stale = session.gate.refresh()  # decided for the editor (capture on)...
    assert stale.capture
    windows.focus(CHAT)  # ...then the chat gains focus and its refusal is applied
    session._apply(stale)  # the refresh thread resumes with its older decision
    inputs.play(_type("see you"))
    session.refresh()  # the next refresh: nothing changed, so nothing more is recorded
    session.stop()
    events = _events(tmp_path)
    gaps = [(e.reason, e.info["state"]) for e in events if isinstance(e, ev.Control) and e.op == "gap"]
    assert gaps == [("denylisted:messaging", "start"), ("denylisted:messaging", "end")]
    assert not any(isinstance(e, ev.KeyDown) for e in events)
