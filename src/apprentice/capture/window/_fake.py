"""A window source for tests: the focused window is whatever the test says."""

from __future__ import annotations

from collections.abc import Callable

from apprentice.events import WindowInfo


class WindowSource:
    def __init__(self, current: WindowInfo | None = None) -> None:
        self._current = current
        #: Visible windows bottom to top, for screenshot masking (default: just the focused one).
        self.stack: list[WindowInfo] | None = None
        self._on_change: Callable[[WindowInfo | None], None] | None = None

    def start(self, on_change: Callable[[WindowInfo | None], None]) -> None:
        self._on_change = on_change
        on_change(self._current)

    def focus(self, window: WindowInfo | None) -> None:
        self._current = window
        if self._on_change is not None:
            self._on_change(window)

    def active(self) -> WindowInfo | None:
        return self._current

    def stacking(self) -> list[WindowInfo]:
        return list(self.stack) if self.stack is not None else ([self._current] if self._current else [])

    def stop(self) -> None:
        self._on_change = None
