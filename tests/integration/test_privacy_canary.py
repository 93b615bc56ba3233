"""The privacy canary drill (issue "Privacy at the source"): secrets typed and shown on a real
X display must reach nothing — not the decrypted spool, not any export, not the logs, not a
temp file, and not the OCR of any stored screenshot."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from apprentice import events as ev
from apprentice.demo.scripted import ocr_canaries
from apprentice.demo.xvfb import VirtualDisplay, xdotool
from apprentice.pipeline import build_dataset
from apprentice.spool import open_spool
from tests.integration.conftest import wait_until
from tests.support import prepare_device

pytestmark = pytest.mark.display

CANARIES = {
    "password": "Hunter2-Canary-Pass!",
    "chat": "CANARY private note for Alice 5511",
    "card": "4111 1111 1111 1111",
    "api_key": "AKIAZ7QX3MPLCANARY42",
    "viewer": "CANARY holiday photo caption 9932",
}


def _contains_canary(data: bytes) -> set[str]:
    found = set()
    for name, value in CANARIES.items():
        for variant in {value, value.replace(" ", "")}:
            if variant.encode() in data:
                found.add(name)
    return found


def test_no_canary_survives_anywhere(display: VirtualDisplay, open_notepad: Any, tmp_path: Path) -> None:
    prepare_device(["Workpad"])
    editor = open_notepad("Work notes", "workpad", "560x380+20+20")
    chat = open_notepad("Signal - Alice", "signal", "420x300+620+20")
    viewer = open_notepad("Photo viewer", "viewer", "420x300+620+380")
    prompt = open_notepad("Authentication Required", "pinentry", "360x160+120+480")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = tmp_path / "spool"
    log_path = tmp_path / "recorder.log"
    env = display.env()
    env["TMPDIR"] = str(tmpdir)
    with log_path.open("wb") as log:
        recorder = subprocess.Popen(
            [sys.executable, "-m", "apprentice", "--verbose", "record", "--out", str(out)],
            env=env, stdout=log, stderr=log,
        )
    status = Path(os.environ["APPRENTICE_CONFIG_DIR"]) / "status.json"
    try:
        # The viewer shows a canary and stays visible beside the editor the whole time.
        xdotool(display, "windowactivate", "--sync", viewer)
        xdotool(display, "type", "--delay", "20", CANARIES["viewer"])
        xdotool(display, "windowactivate", "--sync", editor)
        wait_until(lambda: status.exists() and json.loads(status.read_text())["recording"], 30)
        xdotool(display, "mousemove", "200", "120", "click", "1")
        xdotool(display, "type", "--delay", "30", f"card {CANARIES['card']} key {CANARIES['api_key']}")
        xdotool(display, "key", "Return")
        xdotool(display, "type", "--delay", "30", "meeting notes follow")
        xdotool(display, "windowactivate", "--sync", prompt)
        xdotool(display, "type", "--delay", "30", CANARIES["password"])
        xdotool(display, "key", "Return")
        xdotool(display, "windowactivate", "--sync", chat)
        xdotool(display, "type", "--delay", "30", CANARIES["chat"])
        xdotool(display, "windowactivate", "--sync", editor)
        xdotool(display, "mousemove", "220", "200", "click", "1")
        xdotool(display, "type", "--delay", "30", "done")
        xdotool(display, "key", "Return")

        def settled() -> bool:  # the last keys and a post-action frame are in the spool
            try:
                events = list(open_spool(out).events())
            except Exception:
                return False
            return any(isinstance(e, ev.KeyDown) and e.key == "enter" for e in events[-40:]) and any(
                isinstance(e, ev.Frame) and e.trigger == "post" and e.t > events[-1].t - 5e9 for e in events
            )

        wait_until(settled, 30)
    finally:
        recorder.send_signal(signal.SIGTERM)
        recorder.wait(60)

    reader = open_spool(out)
    events = list(reader.events())
    # The work was recorded...
    typed = "".join(e.char or "" for e in events if isinstance(e, ev.KeyDown))
    assert "meeting notes follow" in typed and "done" in typed
    redacted = {e.reason for e in events if isinstance(e, ev.Control) and e.op == "redacted"}
    assert "CREDIT_CARD" in redacted
    reasons = {e.reason for e in events if isinstance(e, ev.Control) and e.op == "gap"}
    assert {"denylisted:credential_prompt", "denylisted:messaging"} <= reasons
    frames = [e for e in events if isinstance(e, ev.Frame)]
    assert frames and any(f.masked.get("WINDOW") for f in frames)

    # ...and no canary is anywhere.
    decrypted = json.dumps([ev.to_dict(e) for e in events]).encode()
    assert _contains_canary(decrypted) == set()
    assert _contains_canary(typed.encode()) == set()
    dataset = tmp_path / "dataset"
    build_dataset(events, reader.load_frame, dataset, ("parquet", "osworld", "agentnet", "computer13", "wds"))
    for folder in (out, dataset, tmpdir, Path(os.environ["APPRENTICE_CONFIG_DIR"])):
        for path in folder.rglob("*"):
            if path.is_file():
                assert _contains_canary(path.read_bytes()) == set(), path
    assert _contains_canary(log_path.read_bytes()) == set()
    assert list(tmpdir.iterdir()) == []  # nothing, not even an empty temp file, was left behind
    stored = [reader.load_frame(h) for h in reader.frame_hashes()]
    assert stored
    assert ocr_canaries(stored, CANARIES) == set()
    exported = [p.read_bytes() for p in (dataset / "images").iterdir()]
    assert ocr_canaries(exported, CANARIES) == set()
