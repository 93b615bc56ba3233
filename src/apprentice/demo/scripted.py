"""The scripted contributor of ``apprentice up --demo``.

Opens two editor windows on a virtual display, records while a script types (with a
correction), clicks, double-clicks, scrolls, uses a hotkey and switches windows, then
prints the spool summary.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

from rich.console import Console

from apprentice.capture import CaptureSession, record_until
from apprentice.demo.xvfb import VirtualDisplay, notepad_command, wait_for_window, xdotool
from apprentice.spool import open_spool
from apprentice.spool.summary import summarize


def _script(display: VirtualDisplay, windows: list[str], done: threading.Event) -> None:
    try:
        first, second = windows
        xdotool(display, "windowactivate", "--sync", first)
        xdotool(display, "mousemove", "300", "200", "click", "1")
        xdotool(display, "type", "--delay", "40", "Quarterly report draftt")
        xdotool(display, "key", "BackSpace", "Return")
        xdotool(display, "type", "--delay", "40", "Revenue grew in Q3.")
        xdotool(display, "key", "ctrl+s")
        xdotool(display, "mousemove", "320", "120", "click", "--repeat", "2", "1")
        xdotool(display, "click", "5", "click", "5", "click", "4")
        time.sleep(0.6)
        xdotool(display, "windowactivate", "--sync", second)
        xdotool(display, "mousemove", "800", "500", "click", "1")
        xdotool(display, "type", "--delay", "40", "Follow up with the team")
        time.sleep(0.8)
    finally:
        done.set()


def run_demo(data_dir: Path, console: Console) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    spool_dir = data_dir / "spool"
    os.environ.setdefault("APPRENTICE_KEY_DIR", str(data_dir.resolve().parent / ".apprentice-keys"))
    console.print("[bold]apprentice up --demo[/]: starting a virtual display (Xvfb + openbox)")
    with VirtualDisplay() as display:
        apps = [
            subprocess.Popen(notepad_command("Report — Notepad", "DemoNotepad"), env=display.env()),
            subprocess.Popen(
                notepad_command("Tasks — Notepad", "DemoNotepad") + ["--geometry", "520x360+700+360"],
                env=display.env(),
            ),
        ]
        try:
            windows = [wait_for_window(display, "Report"), wait_for_window(display, "Tasks")]
            done = threading.Event()

            def begin(_session: CaptureSession) -> None:
                threading.Thread(target=_script, args=(display, windows, done), daemon=True).start()

            console.print(f"[bold red]●[/] recording display {display.display} into {spool_dir}")
            result = record_until(
                spool_dir, duration=120, stop_event=done, display=display.display,
                on_started=begin,
            )
        finally:
            for app in apps:
                app.terminate()
                app.wait(5)
    summary = summarize(open_spool(spool_dir))
    console.print(
        f"[green]done[/]: {result.events} events and {result.frames_stored} screenshots, "
        f"sealed with AES-256-GCM in {spool_dir}"
    )
    console.print_json(data=summary.as_dict())
    console.print(f"Next: apprentice inspect {spool_dir} --events | head")
