"""Record → dataset → replay on Xvfb: the replayed editor saves the very same document."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from apprentice.capture import CaptureConfig, CaptureSession, record_until
from apprentice.demo.xvfb import VirtualDisplay, xdotool
from apprentice.pipeline import build_dataset
from apprentice.spool import open_spool
from tests.integration.conftest import wait_until
from tests.support import prepare_device

pytestmark = pytest.mark.display

GEOMETRY = "600x400+60+60"
# xdotool key names for the characters we type; capitals are typed with Shift held.
_NAMES = {" ": "space", ",": "comma", ".": "period", "!": "exclam"}


def _keys(text: str) -> list[str]:
    return [f"shift+{c.lower()}" if c.isupper() else _NAMES.get(c, c) for c in text]


class Typist:
    """Drives xdotool and counts the key presses the recorder must then have seen."""

    def __init__(self, display: VirtualDisplay) -> None:
        self.display = display
        self.presses = 0

    def key(self, *combos: str) -> None:
        xdotool(self.display, "key", "--delay", "30", *combos)
        self.presses += sum(len(c.split("+")) for c in combos)

    def type(self, text: str) -> None:
        self.key(*_keys(text))


def _record(display: VirtualDisplay, wid: str, spool: Path, saved: Path) -> None:
    started = threading.Event()
    stop = threading.Event()
    holder: dict[str, CaptureSession] = {}
    failure: list[BaseException] = []

    def on_started(session: CaptureSession) -> None:
        holder["session"] = session
        started.set()

    def run() -> None:
        try:
            record_until(spool, duration=120, stop_event=stop, on_started=on_started,
                         config=CaptureConfig(settle_delay=0.15))
        except BaseException as exc:  # surfaced in the test, not lost in the thread
            failure.append(exc)
            started.set()

    recorder = threading.Thread(target=run)
    recorder.start()
    try:
        assert started.wait(30)
        assert not failure, failure
        session = holder["session"]
        xdotool(display, "windowactivate", "--sync", wid)
        # The only window: once the gate allows capture, the recorder sees the editor.
        wait_until(lambda: session.gate.decision.capture)
        typist = Typist(display)
        xdotool(display, "mousemove", "--sync", "200", "160", "click", "1")
        typist.type("Hello Wrold")
        typist.key(*["BackSpace"] * 4)  # the typo, corrected
        typist.type("orld")
        typist.key("Return")
        typist.type("Second line, OK.")
        typist.key("ctrl+s")
        wait_until(saved.exists)
        wait_until(lambda: min(session.counts.by_kind.get("key_down", 0),
                               session.counts.by_kind.get("key_up", 0)) >= typist.presses)
    finally:
        stop.set()
        recorder.join(60)
    assert not failure, failure


def test_a_replayed_episode_writes_the_same_document(
    display: VirtualDisplay, open_notepad: Any, tmp_path: Path
) -> None:
    prepare_device(["Replaypad"])  # Tk capitalises the class name
    recorded, replayed = tmp_path / "recorded.txt", tmp_path / "replayed.txt"
    wid = open_notepad("Recorded notes", "replaypad", GEOMETRY, save_to=recorded)
    _record(display, wid, tmp_path / "spool", recorded)
    assert recorded.read_text("utf-8") == "Hello World\nSecond line, OK."

    reader = open_spool(tmp_path / "spool")
    result = build_dataset(list(reader.events()), reader.load_frame, tmp_path / "ds", ("parquet",))
    (episode,) = result.dataset.episodes
    assert [(s.action.type, s.action.text or "+".join(s.action.keys)) for s in episode.steps] == [
        ("click", ""), ("type", "Hello World"), ("press", "enter"),
        ("type", "Second line, OK."), ("hotkey", "ctrl+s"),
    ]

    xdotool(display, "windowminimize", "--sync", wid)
    open_notepad("Replayed notes", "replaypad", GEOMETRY, save_to=replayed)
    done = subprocess.run(
        [sys.executable, "-m", "apprentice", "replay", str(tmp_path / "ds"),
         "--episode", episode.id, "--display", display.display or "", "--speed", "2"],
        env=display.env(), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    wait_until(replayed.exists)
    assert replayed.read_bytes() == recorded.read_bytes()
