"""Window context through pywinctl, for Windows and macOS. UNTESTED in this repository.

Neither platform is available to this project's CI, so this backend is written against the
same protocol as ``_xorg`` and kept deliberately small. pywinctl exposes no focus-change
callback that works across windows, so this one checks the active window twice a second
on a timer thread that sleeps between checks (an OS hook would be better; see
docs/architecture.md, "Platforms").
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pywinctl

from apprentice.events import Rect, WindowInfo

_INTERVAL = 0.5


class WindowSource:
    def __init__(self) -> None:
        self._current: WindowInfo | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_change: Callable[[WindowInfo | None], None]) -> None:
        self._current = _describe()
        on_change(self._current)

        def loop() -> None:
            while not self._stop.wait(_INTERVAL):
                info = _describe()
                if info != self._current:
                    self._current = info
                    on_change(info)

        self._thread = threading.Thread(target=loop, name="apprentice-windows", daemon=True)
        self._thread.start()

    def active(self) -> WindowInfo | None:
        return self._current

    def stacking(self) -> list[WindowInfo]:
        # pywinctl lists windows top-first on both platforms; masking wants bottom-first.
        found = []
        for window in reversed(pywinctl.getAllWindows()):
            if window.isVisible and not window.isMinimized:
                box = window.box
                found.append(WindowInfo(
                    wid=hash(window.getHandle()), app_id=window.getAppName(), title=window.title,
                    bounds=Rect(int(box.left), int(box.top), int(box.width), int(box.height)),
                ))
        return found

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


def _describe() -> WindowInfo | None:
    window = pywinctl.getActiveWindow()
    if window is None:
        return None
    box = window.box
    return WindowInfo(
        wid=int(window.getHandle()) if str(window.getHandle()).isdigit() else hash(window.getHandle()),
        app_id=window.getAppName(),
        process=window.getAppName(),
        pid=window.getPID(),
        title=window.title,
        bounds=Rect(int(box.left), int(box.top), int(box.width), int(box.height)),
    )
