"""The recorder's side of the browser channel: context merge, private windows, element answers.

The platform's window source is the fake one (no X server needed for this logic); reports go
through the real listener on a real Unix socket where the socket matters.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from apprentice.capture.base import ElementQuery
from apprentice.capture.browser import BrowserContext, BrowserElementSource, BrowserWindows
from apprentice.capture.browser.listener import BrowserListener
from apprentice.capture.browser.schema import parse_report
from apprentice.capture.window._fake import WindowSource as FakeWindows
from apprentice.errors import ConfigError
from apprentice.events import WindowInfo
from apprentice.policy import CaptureState, decide, parse_policy
from tests.integration.conftest import wait_until

PID = 5000
CHROME = WindowInfo(11, app_id="Chromium", instance="chromium", pid=PID, title="Orders - Chromium")
CHROME2 = WindowInfo(12, app_id="Chromium", instance="chromium", pid=PID, title="New Tab - Chromium")
EDITOR = WindowInfo(20, app_id="code", pid=77, title="main.py")
POLICY = parse_policy("version: 1\nallow:\n  apps: [{app_id: code}]\n  domains: [work.example]\n")


def state(focused: int, *windows: dict[str, Any]) -> Any:
    return parse_report({"type": "state", "focused": focused, "windows": [
        {"id": w["id"], "focused": w["id"] == focused, "incognito": w.get("incognito", False),
         "url": w.get("url"), "credential": w.get("credential", False)} for w in windows]})


def click(window: int, x: int, y: int, role: str = "button", name: str = "Save") -> Any:
    return parse_report({"type": "click", "window": window, "credential": False,
                         "point": {"x": x, "y": y},
                         "bounds": {"x": x - 5, "y": y - 5, "width": 60, "height": 20},
                         "element": {"role": role, "name": name, "tag": "button", "states": []}})


def reason(window: WindowInfo | None) -> str:
    from datetime import UTC, datetime

    state = CaptureState(policy=POLICY, notice_version=1, consent_version=1)
    return decide(window, datetime.now(UTC), state).reason


class Harness:
    def __init__(self, timeout_s: float = 0.3) -> None:
        self.context = BrowserContext()
        self.sent: list[dict[str, Any]] = []
        self.key = self.context.connect(PID, self.sent.append)
        self.platform = FakeWindows(None)
        self.windows = BrowserWindows(self.platform, self.context, pending_timeout_s=timeout_s)
        self.seen: list[WindowInfo | None] = []
        self.windows.start(self.seen.append)

    def report(self, report: Any) -> None:
        self.context.report(self.key, report)


def test_the_focused_browser_window_gets_the_reported_url_and_the_policy_applies() -> None:
    h = Harness()
    h.platform.focus(CHROME)
    assert h.seen[-1] is None  # not known yet: nothing is kept under the previous decision
    assert h.sent == [{"type": "query"}]
    h.report(state(1, {"id": 1, "url": "https://work.example/orders"}))
    assert h.seen[-1] is not None and h.seen[-1].url == "https://work.example/orders"
    assert reason(h.seen[-1]) == "allowed"
    h.report(state(1, {"id": 1, "url": "https://news.example/today"}))
    assert reason(h.seen[-1]) == "not_allowlisted"
    h.platform.focus(EDITOR)  # not a browser window: passed through unchanged
    assert h.seen[-1] == EDITOR


def test_an_incognito_window_is_private_and_never_carries_a_url() -> None:
    h = Harness()
    h.platform.focus(CHROME)
    h.report(state(1, {"id": 1, "incognito": True, "url": "https://work.example/"}))
    assert h.seen[-1] is not None and h.seen[-1].private and h.seen[-1].url is None
    assert reason(h.seen[-1]) == "private_window"


def test_a_window_the_extension_cannot_see_is_private() -> None:
    """An incognito window of an extension not allowed in incognito: focus is 'none'."""
    h = Harness()
    h.platform.focus(CHROME)
    h.report(state(-1))
    assert reason(h.seen[-1]) == "private_window"


def test_no_answer_in_time_means_private() -> None:
    h = Harness(timeout_s=0.05)
    h.platform.focus(CHROME)
    assert h.seen[-1] is None
    wait_until(lambda: h.seen[-1] is not None, timeout=2)
    assert reason(h.seen[-1]) == "private_window"


def test_a_stale_report_about_another_window_is_not_used() -> None:
    h = Harness()
    h.platform.focus(CHROME)
    h.report(state(1, {"id": 1, "url": "https://work.example/a"}, {"id": 2, "incognito": True}))
    assert reason(h.seen[-1]) == "allowed"
    # The second browser window gains focus; the last report still names window 1 (bound to
    # CHROME), so it says nothing about CHROME2 until the browser reports again.
    h.platform.focus(CHROME2)
    assert h.seen[-1] is None
    h.report(state(2, {"id": 1, "url": "https://work.example/a"}, {"id": 2, "incognito": True}))
    assert reason(h.seen[-1]) == "private_window"
    # Back to the first window: it is bound, the browser's report confirms it at once.
    h.report(state(1, {"id": 1, "url": "https://work.example/a"}, {"id": 2, "incognito": True}))
    h.platform.focus(CHROME)
    assert reason(h.seen[-1]) == "allowed"


def test_unfocused_browser_windows_are_masked_unless_known() -> None:
    h = Harness()
    h.platform.focus(CHROME)
    h.report(state(1, {"id": 1, "url": "https://work.example/a"}, {"id": 2}))
    h.platform.stack = [CHROME2, EDITOR, CHROME]
    stack = {w.wid: w for w in h.windows.stacking()}
    assert stack[CHROME2.wid].private  # never bound: its content is unknown, so masked
    assert stack[EDITOR.wid] == EDITOR
    assert stack[CHROME.wid].url == "https://work.example/a"


def test_a_window_of_another_process_is_not_the_browsers() -> None:
    h = Harness()
    other = WindowInfo(30, app_id="Chromium", instance="chromium", pid=9999)
    h.context.connect(4444, lambda m: None)  # two browsers: WM_CLASS alone decides nothing
    h.platform.focus(other)
    assert h.seen[-1] == other


# -- the element source -----------------------------------------------------------------------


def _bound() -> tuple[Harness, BrowserElementSource]:
    h = Harness()
    h.platform.focus(CHROME)
    h.report(state(1, {"id": 1, "url": "https://work.example/a"}))
    return h, BrowserElementSource(h.context)


def test_a_click_is_answered_from_the_report_at_that_point() -> None:
    h, source = _bound()
    t = time.monotonic_ns()
    h.report(click(1, 400, 300, role="combobox", name="Country"))
    h.report(click(1, 100, 100))
    info = source.element(ElementQuery(1, t, "pointer", CHROME, 101, 99), 0.05)
    assert info is not None and (info.role, info.name, info.source) == ("button", "Save", "browser")
    info = source.element(ElementQuery(2, t, "pointer", CHROME, 400, 300), 0.05)
    assert info is not None and (info.role, info.name) == ("combo box", "Country")
    assert info.bounds is not None and info.bounds.contains(400, 300)
    # Each report answers one click; nothing else is there.
    assert source.element(ElementQuery(3, t, "pointer", CHROME, 400, 300), 0.05) is None


def test_a_report_that_arrives_while_waiting_is_used_and_old_ones_are_not() -> None:
    h, source = _bound()
    h.report(click(1, 50, 50))
    time.sleep(0.01)
    t = time.monotonic_ns() + 400_000_000  # the click report is far older than this input
    assert source.element(ElementQuery(1, t, "pointer", CHROME, 50, 50), 0.05) is None
    import threading

    threading.Timer(0.05, lambda: h.report(click(1, 60, 60))).start()
    info = source.element(ElementQuery(2, time.monotonic_ns(), "pointer", CHROME, 60, 60), 1.0)
    assert info is not None and info.name == "Save"


def test_other_windows_get_no_answer() -> None:
    h, source = _bound()
    h.report(click(1, 10, 10))
    started = time.monotonic()
    assert source.element(ElementQuery(1, time.monotonic_ns(), "pointer", EDITOR, 10, 10), 1.0) is None
    assert time.monotonic() - started < 0.5  # not its window: answered at once


def test_a_focused_credential_field_is_a_password() -> None:
    h, source = _bound()
    h.report(parse_report({"type": "focus", "window": 1, "credential": True, "element": {
        "role": "textbox", "name": "PIN", "tag": "input", "states": ["focused", "editable"]}}))
    info = source.element(ElementQuery(1, time.monotonic_ns(), "focus", CHROME), 0.2)
    assert info is not None and info.role == "password text" and "password" in info.states
    h.report(parse_report({"type": "focus", "window": 1, "credential": False, "element": None}))
    assert source.element(ElementQuery(2, time.monotonic_ns(), "focus", CHROME), 0.2) is None


# -- the listener ---------------------------------------------------------------------------------


def _client(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    return sock


def test_the_listener_is_private_validates_again_and_relays_queries(tmp_path: Path) -> None:
    path = tmp_path / "browser.sock"
    context = BrowserContext()
    listener = BrowserListener(path, context)
    listener.start()
    try:
        assert os.stat(path).st_mode & 0o777 == 0o600
        with pytest.raises(ConfigError, match="already listening"):
            BrowserListener(path, BrowserContext()).start()
        sock = _client(path)
        sock.sendall(b'{"type": "hello", "v": 1, "browser_pid": 1}\n')
        sock.sendall(b'{"type": "state", "focused": 1, "windows": "lots"}\nnot json\n')
        sock.sendall(json.dumps({"type": "state", "focused": 1, "windows": [
            {"id": 1, "focused": True, "incognito": False, "url": "https://work.example/p?secret=1",
             "credential": False}]}).encode() + b"\n")
        wait_until(lambda: listener.rejected == 2 and context._browsers, timeout=5)
        (browser,) = context._browsers.values()
        # The browser is the peer's parent as the OS says (here the peer is this process),
        # whatever the hello claimed.
        assert browser.pid == os.getppid()
        wait_until(lambda: browser.state is not None, timeout=5)
        assert browser.state.windows[0].url == "https://work.example/p"
        context.query(WindowInfo(1, pid=os.getppid()))
        with sock.makefile("rb") as lines:
            assert json.loads(lines.readline()) == {"type": "query"}
        sock.close()
        wait_until(lambda: not context._browsers, timeout=5)
    finally:
        listener.close()
    assert not path.exists()


def test_a_stale_socket_is_replaced_and_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "browser.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()  # left behind by a recorder that died
    listener = BrowserListener(path, BrowserContext())
    listener.start()
    listener.close()
    path.write_text("x")
    with pytest.raises(ConfigError, match="not a socket"):
        BrowserListener(path, BrowserContext()).start()
