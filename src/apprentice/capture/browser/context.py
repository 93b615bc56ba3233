"""What the browsers said: the latest state per browser window, and which X window it is.

One :class:`BrowserContext` per recorder. The socket listener feeds it validated reports
(:mod:`.schema`) per connected browser; the window wrapper (:mod:`.windows`) asks it what
the focused window shows, and the element source (:mod:`.elements`) asks it for clicks.

**Which browser owns an X window.** The native-messaging host is started by the browser, so
the host's parent process is the browser; an X window whose ``_NET_WM_PID`` is that process
belongs to it. A window with no pid, or whose pid matches no connected browser, belongs to
the only connected browser if its WM_CLASS names a Chromium-family browser.

**Which browser window an X window is.** The extension says which of its windows has focus;
when a browser's X window gains focus, the first report received after that (or a report
naming the window it is already bound to) binds the X window to that browser window.
A report naming a browser window already bound to another X window is about that other
window and is not used. A fresh report saying that no window the extension can see has
focus means the focused window is one the extension may not see: an incognito window (the
extension is not allowed there by default) or a devtools window — it is treated as private.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from apprentice.capture.browser.schema import (
    NO_WINDOW,
    ClickReport,
    ElementReport,
    FocusReport,
    Report,
    StateReport,
    WindowState,
)
from apprentice.events import WindowInfo

#: WM_CLASS names (instance or class, case-insensitive) of Chromium-family browsers.
BROWSER_CLASSES = frozenset({
    "chromium", "chromium-browser", "google-chrome", "google-chrome-beta", "google-chrome-unstable",
    "chrome", "microsoft-edge", "brave-browser", "vivaldi-stable",
})
_MAX_CLICKS = 32


class View(Enum):
    NOT_BROWSER = "not_browser"  # no connected browser owns the window
    PENDING = "pending"  # a browser window, but which one is not known yet
    PRIVATE = "private"  # incognito, or a window the extension cannot see


@dataclass(frozen=True, slots=True)
class Known:
    """The browser window an X window shows, as last reported."""

    browser: int
    window: int
    url: str | None
    incognito: bool
    credential: bool


@dataclass
class _Browser:
    key: int
    pid: int | None
    send: Callable[[dict[str, Any]], None]
    state: StateReport | None = None
    state_t: int = -1
    credential: dict[int, bool] = field(default_factory=dict)
    focus: dict[int, tuple[int, ElementReport | None, bool]] = field(default_factory=dict)
    clicks: collections.deque[tuple[int, ClickReport]] = field(
        default_factory=lambda: collections.deque(maxlen=_MAX_CLICKS))
    used: set[int] = field(default_factory=set)  # ids of click reports already answered

    def window(self, window_id: int) -> WindowState | None:
        if self.state is None:
            return None
        return next((w for w in self.state.windows if w.id == window_id), None)


class BrowserContext:
    def __init__(self, *, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.clock = clock
        self.cond = threading.Condition()
        self._browsers: dict[int, _Browser] = {}
        self._bindings: dict[int, tuple[int, int]] = {}  # X window id -> (browser, window)
        self._listeners: list[Callable[[], None]] = []
        self._next_key = 1

    # -- fed by the listener --------------------------------------------------------------

    def connect(self, pid: int | None, send: Callable[[dict[str, Any]], None]) -> int:
        with self.cond:
            key = self._next_key
            self._next_key += 1
            self._browsers[key] = _Browser(key=key, pid=pid, send=send)
        return key

    def disconnect(self, key: int) -> None:
        with self.cond:
            self._browsers.pop(key, None)
            self._bindings = {x: b for x, b in self._bindings.items() if b[0] != key}
            self.cond.notify_all()
        self._changed()

    def report(self, key: int, report: Report) -> None:
        now = self.clock()
        with self.cond:
            browser = self._browsers.get(key)
            if browser is None:
                return
            if isinstance(report, StateReport):
                browser.state, browser.state_t = report, now
                for w in report.windows:
                    browser.credential[w.id] = w.credential and not w.incognito
                alive = {w.id for w in report.windows}
                self._bindings = {x: b for x, b in self._bindings.items()
                                  if b[0] != key or b[1] in alive}
            elif isinstance(report, FocusReport):
                browser.credential[report.window] = report.credential
                browser.focus[report.window] = (now, report.element, report.credential)
            elif isinstance(report, ClickReport):
                browser.clicks.append((now, report))
                if report.credential:
                    browser.credential[report.window] = True
            self.cond.notify_all()
        if not isinstance(report, ClickReport):
            self._changed()

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (without locks held) after every state or focus change."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    # -- asked by the window wrapper and the element source -------------------------------------

    def owns(self, window: WindowInfo) -> bool:
        with self.cond:
            return self._owner(window) is not None

    def query(self, window: WindowInfo) -> None:
        """Ask the browser owning ``window`` for a fresh state report (best effort)."""
        with self.cond:
            browser = self._owner(window)
            send = None if browser is None else browser.send
        if send is not None:
            send({"type": "query"})

    def view(self, window: WindowInfo, since_ns: int) -> View | Known:
        """What the browser says the focused X ``window`` shows, using reports received since
        it gained focus at ``since_ns`` (see the module doc); binds the window when it can."""
        with self.cond:
            browser = self._owner(window)
            if browser is None:
                return View.NOT_BROWSER
            state = browser.state
            if state is None:
                return View.PENDING
            fresh = browser.state_t >= since_ns
            bound = self._bindings.get(window.wid)
            if state.focused == NO_WINDOW:
                return View.PRIVATE if fresh else View.PENDING
            target = (browser.key, state.focused)
            holder = next((x for x, b in self._bindings.items() if b == target), None)
            if holder is not None and holder != window.wid:
                return View.PENDING  # the report is about another X window
            if not fresh and bound != target:
                return View.PENDING
            ws = browser.window(state.focused)
            if ws is None:
                return View.PRIVATE if fresh else View.PENDING
            self._bindings[window.wid] = target
            return self._known(browser, ws)

    def decorate_unfocused(self, window: WindowInfo) -> WindowInfo:
        """A window that does not have focus, with the URL its browser last reported for it.

        A browser window never bound (never focused while the extension was connected) is
        treated as private: its pixels are masked, never shown unchecked.
        """
        with self.cond:
            browser = self._owner(window)
            if browser is None:
                return window
            bound = self._bindings.get(window.wid)
            ws = None if bound is None else browser.window(bound[1])
            if ws is None or ws.incognito:
                return with_view(window, View.PRIVATE)
            return with_view(window, self._known(browser, ws))

    def binding(self, wid: int) -> tuple[int, int] | None:
        with self.cond:
            return self._bindings.get(wid)

    def take_click(self, wid: int, x: int, y: int, not_before: int, tolerance: int) -> ClickReport | None:
        """The first unused click report for X window ``wid`` at (x, y), received since
        ``not_before``; marks it used. Call with ``cond`` held or not (it locks)."""
        with self.cond:
            bound = self._bindings.get(wid)
            browser = None if bound is None else self._browsers.get(bound[0])
            if browser is None or bound is None:
                return None
            for received, click in browser.clicks:
                if (received < not_before or click.window != bound[1] or id(click) in browser.used):
                    continue
                if abs(click.point[0] - x) <= tolerance and abs(click.point[1] - y) <= tolerance:
                    browser.used.add(id(click))
                    live = {id(c) for _, c in browser.clicks}
                    browser.used &= live
                    return click
            return None

    def focused_element(self, wid: int) -> tuple[int, int, ElementReport | None, bool] | None:
        """(received, last click received, element, credential) of the focus in X window
        ``wid``; received is -1 when no focus report came yet."""
        with self.cond:
            bound = self._bindings.get(wid)
            browser = None if bound is None else self._browsers.get(bound[0])
            if browser is None or bound is None:
                return None
            last_click = max((t for t, c in browser.clicks if c.window == bound[1]), default=-1)
            entry = browser.focus.get(bound[1])
            if entry is None:
                return (-1, last_click, None, browser.credential.get(bound[1], False))
            return (entry[0], last_click, entry[1], entry[2])

    # -- internals ----------------------------------------------------------------------------

    def _owner(self, window: WindowInfo) -> _Browser | None:
        if not self._browsers:
            return None
        if window.pid is not None:
            for browser in self._browsers.values():
                if browser.pid == window.pid:
                    return browser
        classes = {(window.app_id or "").casefold(), (window.instance or "").casefold()}
        if len(self._browsers) == 1 and classes & BROWSER_CLASSES:
            return next(iter(self._browsers.values()))
        return None

    def _known(self, browser: _Browser, ws: WindowState) -> Known:
        return Known(
            browser=browser.key, window=ws.id, url=ws.url, incognito=ws.incognito,
            credential=browser.credential.get(ws.id, False) and not ws.incognito,
        )


def with_view(window: WindowInfo, view: View | Known) -> WindowInfo:
    """The window as the policy should see it: URL filled in, or marked private."""
    import dataclasses

    if view is View.PRIVATE or (isinstance(view, Known) and view.incognito):
        return dataclasses.replace(window, url=None, private=True)
    if isinstance(view, Known):
        return dataclasses.replace(window, url=view.url, private=None)
    return window
