"""The scripted contributor of ``apprentice up --demo``.

On a virtual display it opens two work editors (allowlisted), a private chat window and a
password prompt (both on the built-in denylist), accepts the consent notice, then records
while a script works through two short tasks: typing with a correction, clicks, a double
click, scrolling, a hotkey, a card number that must be redacted, a private message that
must not be captured, a password that must not be captured, and a pause. Then it builds a
dataset from the recording and checks that none of the demo's canaries reached it.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from apprentice.capture import CaptureSession, record_until
from apprentice.capture.device_state import DeviceState
from apprentice.demo.xvfb import VirtualDisplay, notepad_command, wait_for_window, xdotool
from apprentice.policy import load_notice
from apprentice.spool import open_spool
from apprentice.spool.summary import summarize

DEMO_POLICY = """\
version: 1
allow:
  apps:
    - app_id: DemoNotepad
pause_cap_minutes: 30
"""

#: Strings the demo types or shows where they must never be kept.
CANARIES = {
    "chat": "CANARY-private-message-7731",
    "password": "CanaryPassw0rd!42",
    "card": "4111 1111 1111 1111",
}


def _script(display: VirtualDisplay, windows: dict[str, str], state: DeviceState,
            session: CaptureSession, done: threading.Event) -> None:
    def focus(name: str) -> None:
        before = session.frames.stats.by_trigger.get("focus", 0)
        xdotool(display, "windowactivate", "--sync", windows[name])
        deadline = time.monotonic() + 3
        while session.frames.stats.by_trigger.get("focus", 0) == before and time.monotonic() < deadline:
            time.sleep(0.05)

    def type_text(text: str) -> None:
        xdotool(display, "type", "--delay", "35", text)

    try:
        session.marker("task_start", info={"instruction": "Draft the quarterly report"})
        focus("report")
        xdotool(display, "mousemove", "300", "200", "click", "1")
        type_text("Quarterly report draftt")
        xdotool(display, "key", "BackSpace", "Return")
        type_text("Revenue grew in Q3.")
        xdotool(display, "key", "Return")
        type_text(f"Card on file: {CANARIES['card']}")
        xdotool(display, "key", "Return", "ctrl+s")
        xdotool(display, "mousemove", "320", "120", "click", "--repeat", "2", "--delay", "80", "1")
        xdotool(display, "click", "5", "click", "5", "click", "4")
        session.marker("task_end", info={"status": "success"})
        # A private chat window: on the built-in denylist, so nothing of it is kept.
        focus("chat")
        type_text(CANARIES["chat"])
        # A password prompt: denylisted as a credential prompt.
        focus("prompt")
        type_text(CANARIES["password"])
        xdotool(display, "key", "Return")
        # The contributor pauses for a moment, then resumes.
        state.set_pause(datetime.now(UTC) + timedelta(minutes=5))
        session.refresh()
        focus("tasks")
        type_text("typed while paused")
        state.set_pause(None)
        session.refresh()
        session.marker("task_start", info={"instruction": "Note a follow-up task"})
        xdotool(display, "mousemove", "800", "500", "click", "1")
        type_text("Follow up with the team")
        xdotool(display, "key", "Return")
        session.marker("task_end", info={"status": "success"})
        time.sleep(0.8)
    finally:
        done.set()


def run_demo(data_dir: Path, console: Console) -> Path:
    """Run the whole demo; return the dataset folder."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("APPRENTICE_CONFIG_DIR", str(data_dir / "config"))
    os.environ.setdefault("APPRENTICE_KEY_DIR", str(data_dir.parent / f".{data_dir.name}-keys"))
    state = DeviceState.default()
    state.root.mkdir(parents=True, exist_ok=True)
    state.policy_path.write_text(DEMO_POLICY)
    run = datetime.now().strftime("%Y%m%d-%H%M%S")
    spool_dir = data_dir / "recordings" / run
    dataset_dir = data_dir / "datasets" / run

    console.print("[bold]apprentice up --demo[/]: a virtual display (Xvfb + openbox) with four windows")
    notice = load_notice()
    state.consent.accept(notice, datetime.now(UTC))
    console.print(f"  the scripted contributor read and accepted notice version {notice.version}")
    with VirtualDisplay() as display:
        apps = {
            "report": notepad_command("Report — Notepad", "DemoNotepad")
            + ["--geometry", "620x420+20+20"],
            "tasks": notepad_command("Tasks — Notepad", "DemoNotepad")
            + ["--geometry", "520x360+700+380"],
            "chat": notepad_command("Signal — Alice", "Signal") + ["--geometry", "420x300+700+20"],
            "prompt": notepad_command("Authentication Required", "Pinentry")
            + ["--geometry", "360x160+300+500"],
        }
        procs = [subprocess.Popen(cmd, env=display.env()) for cmd in apps.values()]
        try:
            titles = {"report": "Report", "tasks": "Tasks", "chat": "Signal", "prompt": "Authentication"}
            windows = {name: wait_for_window(display, title) for name, title in titles.items()}
            done = threading.Event()

            def begin(session: CaptureSession) -> None:
                threading.Thread(
                    target=_script, args=(display, windows, state, session, done), daemon=True
                ).start()

            console.print(f"[bold red]●[/] recording display {display.display} into {spool_dir}")
            result = record_until(
                spool_dir, duration=180, stop_event=done, display=display.display, on_started=begin,
            )
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(5)
    reader = open_spool(spool_dir)
    summary = summarize(reader)
    console.print(
        f"[green]recorded[/] {result.events} events and {result.frames_stored} screenshots "
        f"in {result.seconds:.0f} s, sealed with AES-256-GCM; gaps: "
        + ", ".join(f"{k}×{v}" for k, v in summary.gaps.items())
    )
    from apprentice.pipeline import build_dataset

    built = build_dataset(
        list(reader.events()), reader.load_frame, dataset_dir,
        ("parquet", "osworld", "agentnet", "computer13", "wds"),
    )
    console.print(
        f"[green]dataset[/]: {len(built.dataset.episodes)} episodes, {built.dataset.num_steps} steps "
        f"→ {dataset_dir}"
    )
    leaks = find_canaries([spool_dir, dataset_dir], reader)
    if leaks:
        raise RuntimeError(f"demo canaries found where they must not be: {sorted(leaks)}")
    console.print("[green]privacy check[/]: no chat message, password or card number in the "
                  "decrypted recording, the dataset, or the OCR of any stored screenshot")
    console.print(f"Next: apprentice inspect {spool_dir}  ·  apprentice dataset inspect {dataset_dir}")
    return dataset_dir


def find_canaries(folders: list[Path], reader: object | None = None) -> set[str]:
    """Names of the canaries found in any file under ``folders`` or in the decrypted events."""
    import json

    from apprentice import events as ev

    found: set[str] = set()
    needles = {name: value.encode() for name, value in CANARIES.items()}
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                found |= {name for name, needle in needles.items() if needle in data}
    if reader is not None:
        found |= ocr_canaries(reader.load_frame(h) for h in reader.frame_hashes())  # type: ignore[attr-defined]
        events = list(reader.events())  # type: ignore[attr-defined]
        text = json.dumps([ev.to_dict(e) for e in events])
        typed = "".join(e.char or "" for e in events if isinstance(e, ev.KeyDown))
        for name, value in CANARIES.items():
            compact = value.replace(" ", "")
            if value in text or value in typed or compact in typed.replace(" ", ""):
                found.add(name)
    return found


def ocr_canaries(images: Iterable[bytes], canaries: dict[str, str] | None = None) -> set[str]:
    """Names of the canaries (the demo's by default) Tesseract can read in any of the images."""
    import io

    from PIL import Image

    from apprentice.redact.ocr import TesseractOcr
    from apprentice.redact.ocr_text import normalise_digits

    canaries = CANARIES if canaries is None else canaries
    ocr = TesseractOcr()
    found: set[str] = set()
    for data in images:
        words = ocr.words(Image.open(io.BytesIO(data)).convert("L"), timeout=30)
        text = " ".join(w.text for w in words)
        squeezed = normalise_digits(text).replace(" ", "")
        for name, value in canaries.items():
            if value in text or value.replace(" ", "") in squeezed:
                found.add(name)
    return found
