"""A window source that adds what the browser knows: the URL, private windows, credential focus.

:class:`BrowserWindows` wraps the platform's :class:`~apprentice.capture.base.WindowSource`.
For a window no connected browser owns it changes nothing. For a browser's window it fills
``WindowInfo.url`` (origin and path) from the extension's report, or marks the window
``private`` (incognito, or not visible to the extension), so the policy's domain rules and
the ``private_window`` refusal apply. (Credential fields reach the session through the
element source: a focus answer with the ``password`` state switches keys off.)

While the browser has not yet said which of its windows gained focus (usually a few
milliseconds) the focused window is reported as unknown (``None``: the gate records a
``no_window`` gap), so nothing typed into it is kept under the previous window's decision.
After ``pending_timeout_s`` without an answer the window is treated as private.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from apprentice.capture.base import WindowSource
from apprentice.capture.browser.context import BrowserContext, Known, View, with_view
from apprentice.events import WindowInfo


class BrowserWindows:
    def __init__(
        self,
        inner: WindowSource,
        context: BrowserContext,
        *,
        pending_timeout_s: float = 0.5,
    ) -> None:
        self._inner = inner
        self._context = context
        self._timeout_ns = int(pending_timeout_s * 1e9)
        self._on_change: Callable[[WindowInfo | None], None] | None = None
        self._emit_lock = threading.RLock()  # one emission at a time, in order
        self._window: WindowInfo | None = None  # the focused window, as the platform said
        self._since = 0
        self._emitted: WindowInfo | None = None
        self._has_emitted = False
        self._timer: threading.Timer | None = None
        self._stopped = False

    # -- WindowSource ---------------------------------------------------------------------------

    def start(self, on_change: Callable[[WindowInfo | None], None]) -> None:
        self._on_change = on_change
        self._context.subscribe(self._browser_changed)
        self._inner.start(self._platform_changed)

    def active(self) -> WindowInfo | None:
        return self._emitted

    def stacking(self) -> list[WindowInfo]:
        focused = self._emitted
        out = []
        for window in self._inner.stacking():
            if focused is not None and window.wid == focused.wid:
                # Same decoration as the focused window, the stacking's bounds (with frame).
                out.append(with_view(window, _view_of(focused)))
            else:
                out.append(self._context.decorate_unfocused(window))
        return out

    def stop(self) -> None:
        self._stopped = True
        with self._emit_lock:
            if self._timer is not None:
                self._timer.cancel()
        self._inner.stop()

    # -- changes ---------------------------------------------------------------------------------

    def _platform_changed(self, window: WindowInfo | None) -> None:
        with self._emit_lock:
            moved = window is None or self._window is None or window.wid != self._window.wid
            self._window = window
            if moved:
                self._since = self._context.clock()
                if window is not None and self._context.owns(window):
                    self._context.query(window)
            self._update()

    def _browser_changed(self) -> None:
        with self._emit_lock:
            self._update()

    def _timed_out(self) -> None:
        with self._emit_lock:
            self._timer = None
            self._update()

    def _update(self) -> None:
        if self._stopped or self._on_change is None:
            return
        window = self._window
        out: WindowInfo | None
        if window is None:
            out = None
        else:
            view = self._context.view(window, self._since)
            if view is View.PENDING:
                waited = self._context.clock() - self._since
                if waited < self._timeout_ns:
                    self._arm(self._timeout_ns - waited)
                    out = None
                else:
                    out = with_view(window, View.PRIVATE)
            else:
                out = with_view(window, view)
        if not self._has_emitted or out != self._emitted:
            self._emitted, self._has_emitted = out, True
            self._on_change(out)

    def _arm(self, delay_ns: int) -> None:
        if self._timer is not None:
            return
        self._timer = threading.Timer(delay_ns / 1e9 + 0.01, self._timed_out)
        self._timer.daemon = True
        self._timer.start()


def _view_of(window: WindowInfo) -> View | Known:
    if window.private:
        return View.PRIVATE
    if window.url is None:
        return View.NOT_BROWSER
    return Known(browser=0, window=0, url=window.url, incognito=False, credential=False)
