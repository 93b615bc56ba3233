"""The recorder on a real X server, driven by xdotool: exact events, context and frames."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from apprentice import events as ev
from apprentice.capture import CaptureConfig, CaptureSession, record_until
from apprentice.demo.xvfb import VirtualDisplay, xdotool
from apprentice.spool import open_spool
from tests.integration.conftest import wait_until
from tests.support import prepare_device

pytestmark = pytest.mark.display

ALPHA_GEOMETRY = "560x400+40+40"
BETA_GEOMETRY = "500x360+700+380"


class Script:
    """Drives xdotool and writes down what the spool must then hold."""

    def __init__(self, display: VirtualDisplay, session: CaptureSession | None = None) -> None:
        self.display = display
        self.session = session
        self.expected: list[tuple[Any, ...]] = []
        self.window_of: list[str] = []  # expected app for each expected input event
        self.app = ""

    def focus(self, wid: str, app: str) -> None:
        assert self.session is not None
        before = self.session.frames.stats.by_trigger.get("focus", 0)
        xdotool(self.display, "windowactivate", "--sync", wid)
        # A newly focused window is grabbed once it settles; actions before that would
        # have no pre-action frame showing it (grabs of the previous window are never used).
        # (Generous: under CPU load the frame's OCR redaction can take seconds.)
        try:
            wait_until(lambda: self.session.frames.stats.by_trigger.get("focus", 0) > before, timeout=30)
        except TimeoutError:
            raise AssertionError(f"no focus frame; frame stats {self.session.frames.stats}, "
                                 f"gate {self.session.gate.decision}") from None
        self.app = app

    def _expect(self, *item: Any) -> None:
        self.expected.append(item)
        self.window_of.append(self.app)

    def click(self, x: int, y: int, button: int = 1, repeat: int = 1) -> None:
        name = {1: "left", 2: "middle", 3: "right"}[button]
        xdotool(self.display, "mousemove", "--sync", str(x), str(y))
        xdotool(self.display, "click", "--repeat", str(repeat), "--delay", "60", str(button))
        for _ in range(repeat):
            self._expect("mouse_down", name, x, y)
            self._expect("mouse_up", name, x, y)

    def keys(self, *combos: str, produced: list[list[tuple[str, str]]]) -> None:
        """Press key combinations; ``produced`` lists the (direction, key name) pynput sees."""
        xdotool(self.display, "key", "--delay", "40", *combos)
        for combo in produced:
            for direction, name in combo:
                self._expect(f"key_{direction}", name)

    def drag(self, path: list[tuple[int, int]]) -> None:
        (x0, y0), (x1, y1) = path[0], path[-1]
        xdotool(self.display, "mousemove", "--sync", str(x0), str(y0), "mousedown", "1")
        for x, y in path[1:]:
            xdotool(self.display, "mousemove", "--sync", str(x), str(y))
        xdotool(self.display, "mouseup", "1")
        self._expect("mouse_down", "left", x0, y0)
        self._expect("mouse_up", "left", x1, y1)

    def scroll(self, button: int, x: int, y: int) -> None:
        xdotool(self.display, "click", str(button))
        dx, dy = {4: (0, 1), 5: (0, -1), 6: (-1, 0), 7: (1, 0)}[button]
        self._expect("scroll", dx, dy, x, y)


def _observed(events: list[ev.Event]) -> tuple[list[tuple[Any, ...]], list[ev.Event]]:
    seen, actions = [], []
    for e in events:
        if isinstance(e, (ev.MouseDown, ev.MouseUp)):
            seen.append((e.kind, e.button, e.x, e.y))
        elif isinstance(e, (ev.KeyDown, ev.KeyUp)):
            seen.append((e.kind, e.key))
        elif isinstance(e, ev.Scroll):
            seen.append((e.kind, e.dx, e.dy, e.x, e.y))
        else:
            continue
        actions.append(e)
    return seen, actions


def _shift(shifted: str, plain: str) -> list[tuple[str, str]]:
    # xdotool releases the modifier first; the release then reports the unshifted symbol.
    return [("down", "shift"), ("down", shifted), ("up", "shift"), ("up", plain)]


def _plain(key: str) -> list[tuple[str, str]]:
    return [("down", key), ("up", key)]


def test_a_scripted_session_is_recorded_exactly(
    display: VirtualDisplay, open_notepad: Any, tmp_path: Path
) -> None:
    prepare_device(["Alphapad", "Betapad"])
    alpha = open_notepad("Alpha notes", "alphapad", ALPHA_GEOMETRY)
    beta = open_notepad("Beta notes", "betapad", BETA_GEOMETRY)
    script = Script(display)
    started = threading.Event()
    stop = threading.Event()
    holder: dict[str, CaptureSession] = {}

    def on_started(session: CaptureSession) -> None:
        holder["session"] = session
        started.set()

    failure: list[BaseException] = []

    def run() -> None:
        try:
            record_until(
                tmp_path / "spool", duration=120, stop_event=stop, on_started=on_started,
                config=CaptureConfig(settle_delay=0.15),
            )
        except BaseException as exc:  # surfaced in the test, not lost in the thread
            failure.append(exc)
            started.set()

    recorder = threading.Thread(target=run)
    recorder.start()
    try:
        assert started.wait(30)
        assert not failure, failure
        script.session = holder["session"]
        script.focus(alpha, "Alphapad")
        script.click(200, 200)
        script.keys("shift+h", "i", "shift+1", "BackSpace",
                    produced=[_shift("H", "h"), _plain("i"), _shift("!", "1"), _plain("backspace")])
        script.click(150, 120, repeat=2)
        script.click(300, 250, button=3)
        script.drag([(100, 150), (140, 160), (220, 190), (260, 200)])
        for button in (4, 5, 6, 7):
            script.scroll(button, 260, 200)
        script.keys("ctrl+s", produced=[[("down", "ctrl"), ("down", "s"), ("up", "ctrl"), ("up", "s")]])
        script.focus(beta, "Betapad")
        script.click(900, 500)
        script.keys("o", "k", produced=[_plain("o"), _plain("k")])
        script.focus(alpha, "Alphapad")
        script.keys("Return", produced=[_plain("enter")])
        expected_inputs = len(script.expected)
        session = holder["session"]
        wait_until(lambda: sum(
            n for k, n in session.counts.by_kind.items() if k not in ("mouse_move", "focus")
        ) >= expected_inputs, timeout=30)
        wait_until(lambda: session.frames.stats.by_trigger.get("post", 0) >= 1)
    finally:
        stop.set()
        recorder.join(60)

    events = list(open_spool(tmp_path / "spool").events())
    seen, actions = _observed(events)
    assert seen == script.expected

    # Window context: the last focus event before each action names the right application.
    current: ev.WindowInfo | None = None
    contexts = []
    for e in events:
        if isinstance(e, ev.Focus):
            current = e.window
        elif e in actions:
            contexts.append(current.app_id if current else None)
    assert contexts == script.window_of
    alpha_focus = next(e.window for e in events if isinstance(e, ev.Focus) and e.window
                       and e.window.title == "Alpha notes")
    assert alpha_focus.process and alpha_focus.pid and alpha_focus.bounds
    assert (alpha_focus.bounds.width, alpha_focus.bounds.height) == (560, 400)

    # Every mouse-down has a pre-action frame grabbed before it.
    pre = {f.for_seq: f for f in events if isinstance(f, ev.Frame) and f.trigger == "pre"}
    for down in (e for e in events if isinstance(e, ev.MouseDown)):
        assert down.seq in pre, f"no pre frame for {down}"
        assert pre[down.seq].t < down.t
    assert any(isinstance(f, ev.Frame) and f.trigger == "post" for f in events)

    # The drag kept its pointer path.
    drag_down = next(e for e in actions if isinstance(e, ev.MouseDown) and (e.x, e.y) == (100, 150))
    moves = [(e.x, e.y) for e in events if isinstance(e, ev.MouseMove) and e.seq > drag_down.seq]
    assert (140, 160) in moves and (220, 190) in moves

    # Frames decode to real screenshots of the whole screen.
    reader = open_spool(tmp_path / "spool")
    frame = next(f for f in events if isinstance(f, ev.Frame))
    assert (frame.width, frame.height) == (1280, 800)
    assert reader.load_frame(frame.blob).startswith(b"\x89PNG")
    assert reader.problems == []
