"""Accessibility on a real desktop: AT-SPI bus, real GTK 3 widgets, the real recorder.

Xvfb + openbox + a D-Bus session bus with AT-SPI's accessibility bus; the applications under
test are small GTK 3 forms run by the system python3 (python3-gi), clicked and typed into
with xdotool. Asserts the element events the recorder stored for a menu item, a combo-box
option and a button, that a password field yields no keystrokes, that a window outside the
allowlist leaves no accessible name behind, and that the dataset's steps carry the targets.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from apprentice import events as ev
from apprentice.capture import CaptureConfig, CaptureSession, record_until
from apprentice.demo.xvfb import VirtualDisplay, wait_for_window, xdotool
from apprentice.pipeline.build import build_dataset
from apprentice.spool import open_spool
from tests.integration.conftest import wait_until
from tests.support import prepare_device

pytestmark = pytest.mark.display

APP = Path(__file__).parent / "apps" / "gtk_form.py"
SYSTEM_PYTHON = "/usr/bin/python3"


class GtkForm:
    """One running form: its window id, widget centres and the lines it printed."""

    def __init__(self, display: VirtualDisplay, title: str, wm_class: str, x: int, y: int) -> None:
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(APP), title, wm_class, str(x), str(y)], env=display.env(),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.lines: list[str] = []
        self.at: dict[str, tuple[int, int, int]] = {}
        threading.Thread(target=self._read, daemon=True).start()
        wait_until(lambda: "ready" in self.lines, timeout=20)
        self.wid = wait_for_window(display, title)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if line.startswith("at "):
                _, name, cx, cy, height = line.split()
                self.at[name] = (int(cx), int(cy), int(height))
            self.lines.append(line)

    def said(self, line: str) -> bool:
        return line in self.lines

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def gtk_form(a11y_display: VirtualDisplay) -> Iterator[Callable[..., GtkForm]]:
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import gi; gi.require_version('Gtk', '3.0')"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("needs the system python3 with GTK 3 (apt-get install python3-gi gir1.2-gtk-3.0)")
    forms: list[GtkForm] = []

    def opener(title: str, wm_class: str, x: int, y: int) -> GtkForm:
        forms.append(GtkForm(a11y_display, title, wm_class, x, y))
        return forms[-1]

    yield opener
    for form in forms:
        form.close()


def _click(display: VirtualDisplay, x: int, y: int) -> None:
    # A person holds the button for a moment; the element is asked for at the press.
    xdotool(display, "mousemove", "--sync", str(x), str(y))
    xdotool(display, "mousedown", "1")
    time.sleep(0.12)
    xdotool(display, "mouseup", "1")


def _record(tmp_path: Path, body: Callable[[CaptureSession], None]) -> list[ev.Event]:
    started, stop = threading.Event(), threading.Event()
    holder: dict[str, CaptureSession] = {}
    failure: list[BaseException] = []

    def run() -> None:
        try:
            record_until(tmp_path / "spool", duration=120, stop_event=stop,
                         on_started=lambda s: (holder.update(session=s), started.set()),
                         config=CaptureConfig(settle_delay=0.15), accessibility=True)
        except BaseException as exc:  # surfaced in the test, not lost in the thread
            failure.append(exc)
            started.set()

    recorder = threading.Thread(target=run)
    recorder.start()
    try:
        assert started.wait(30)
        assert not failure, failure
        body(holder["session"])
    finally:
        stop.set()
        recorder.join(60)
    assert not failure, failure
    return list(open_spool(tmp_path / "spool").events())


def _focus(display: VirtualDisplay, session: CaptureSession, wid: str, reason: str) -> None:
    """Focus a window and wait until the recorder's gate has decided about it.

    openbox on Xvfb now and then leaves no active window after a GTK grab ends; asking again
    is what a person would do (click the window), so the activation is retried.
    """
    for _ in range(3):
        xdotool(display, "windowactivate", "--sync", wid)
        try:
            wait_until(lambda: session.gate.decision.reason == reason, timeout=4)
            return
        except TimeoutError:
            continue
    raise AssertionError(f"the recorder never saw window {wid} focused: {session.gate.decision}")


def _element_for(events: list[ev.Event], down: ev.MouseDown) -> ev.Element | None:
    return next((e for e in events if isinstance(e, ev.Element) and e.for_seq == down.seq), None)


def test_clicked_widgets_are_recorded_with_role_and_name_and_passwords_are_not(
    a11y_display: VirtualDisplay, gtk_form: Callable[..., GtkForm], tmp_path: Path
) -> None:
    display = a11y_display
    prepare_device(["Alphaform"])
    alpha = gtk_form("Alpha form", "Alphaform", 40, 40)
    beta = gtk_form("Beta ledger", "Betaform", 700, 380)  # not allowlisted
    clicks: dict[str, tuple[int, int]] = {}

    def script(session: CaptureSession) -> None:
        _focus(display, session, alpha.wid, "allowed")
        mx, my, mh = alpha.at["menu"]
        _click(display, mx, my)  # open the menu
        clicks["menu item"] = (mx, my + mh)  # its first item sits just below the title
        _click(display, *clicks["menu item"])
        wait_until(lambda: any(line.startswith("menu ") for line in alpha.lines))

        cx, cy, ch = alpha.at["combo"]
        clicks["combo option"] = (cx, cy + ch)
        for _ in range(3):  # under load the popup may not be in place yet: a person tries again
            _click(display, cx, cy)  # open the list; the current option lies over the box
            time.sleep(0.5)  # the popup animates into place (nothing to observe from here)
            _click(display, *clicks["combo option"])
            try:
                wait_until(lambda: any(line.startswith("combo ") for line in alpha.lines), timeout=3)
                break
            except TimeoutError:
                xdotool(display, "key", "Escape")

        bx, by, _ = alpha.at["button"]
        clicks["button"] = (bx, by)
        _click(display, bx, by)
        wait_until(lambda: alpha.said("button Submit request"))

        ux, uy, _ = alpha.at["user"]
        _click(display, ux, uy)
        xdotool(display, "type", "--delay", "60", "alice")
        px, py, _ = alpha.at["password"]
        _click(display, px, py)
        xdotool(display, "type", "--delay", "60", "hunter2")
        wait_until(lambda: alpha.said("password length 7"))
        time.sleep(1.2)  # past the typing burst and the guard's hold

        _focus(display, session, beta.wid, "not_allowlisted")
        bbx, bby, _ = beta.at["button"]
        _click(display, bbx, bby)
        wait_until(lambda: beta.said("button Submit request"))
        wait_until(lambda: session.elements.stats.answered >= 6, timeout=15)
        assert session.elements.stats.refused == 0  # beta was never even asked about

    events = _record(tmp_path, script)
    downs = [e for e in events if isinstance(e, ev.MouseDown)]
    by_point = {(d.x, d.y): _element_for(events, d) for d in downs}

    menu_choice = next(line for line in alpha.lines if line.startswith("menu ")).removeprefix("menu ")
    item = by_point[clicks["menu item"]]
    assert item is not None and (item.role, item.name) == ("menu item", menu_choice)
    assert [n.role for n in item.path][-2:] == ["menu bar", "menu"] and item.path[0].name == "Alpha form"

    combo_choice = next(line for line in alpha.lines if line.startswith("combo ")).removeprefix("combo ")
    option = by_point[clicks["combo option"]]
    assert option is not None and (option.role, option.name) == ("menu item", combo_choice)
    assert any(n.role == "combo box" for n in option.path)

    button = by_point[clicks["button"]]
    assert button is not None and (button.role, button.name) == ("push button", "Submit request")
    assert button.bounds is not None and button.bounds.contains(*clicks["button"])

    # Typing: the user field's keys are kept with their element; the password's are not.
    typed = "".join(e.char or "" for e in events if isinstance(e, ev.KeyDown))
    assert typed == "alice"
    down_seqs = {d.seq for d in downs}
    focus_elements = [e for e in events if isinstance(e, ev.Element) and e.for_seq not in down_seqs]
    assert [(e.role, e.name) for e in focus_elements][:1] == [("text", "Account user")]
    password_click = next(e for e in events if isinstance(e, ev.Element) and e.role == "password text")
    assert password_click.name == "Account password" and "password" in password_click.states
    # Keys stop at the click's answer (secure input); any typed before it were held and dropped.
    assert any(isinstance(e, ev.Control) and e.reason == "secure_input" for e in events)

    # The window outside the allowlist: no element, no name, nothing.
    stored = json.dumps([ev.to_dict(e) for e in events])
    assert "Beta" not in stored and "hunter2" not in stored
    stop = next(e for e in events if isinstance(e, ev.Control) and e.op == "stop")
    assert stop.info["elements"]["answered"] >= 6

    # The dataset's steps carry the targets; every export still builds.
    reader = open_spool(tmp_path / "spool")
    result = build_dataset(events, reader.load_frame, tmp_path / "ds",
                           ("parquet", "osworld", "agentnet"))
    targets = [(s.target.role, s.target.name) for ep in result.dataset.episodes for s in ep.steps
               if s.target is not None]
    assert ("push button", "Submit request") in targets
    assert ("menu item", menu_choice) in targets and ("menu item", combo_choice) in targets
