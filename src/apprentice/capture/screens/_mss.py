"""Screenshots through mss (XShmGetImage on X11, falling back to XGetImage)."""

from __future__ import annotations

import mss

from apprentice.capture.base import RawImage
from apprentice.events import Monitor, Rect


class ScreenSource:
    def __init__(self) -> None:
        self._mss = mss.MSS()

    def monitors(self) -> list[Monitor]:
        # mss lists the whole virtual screen first, then each monitor. X11 has no
        # per-monitor scale factor, so scale is 1.0 there (documented in docs/events.md).
        found = self._mss.monitors[1:] or self._mss.monitors[:1]
        return [
            Monitor(
                index=i,
                bounds=Rect(m["left"], m["top"], m["width"], m["height"]),
                scale=1.0,
                primary=bool(m.get("is_primary", i == 0)),
            )
            for i, m in enumerate(found)
        ]

    def grab(self, monitor: Monitor) -> RawImage:
        b = monitor.bounds
        shot = self._mss.grab({"left": b.x, "top": b.y, "width": b.width, "height": b.height})
        return RawImage(shot.width, shot.height, bytes(shot.raw))

    def close(self) -> None:
        self._mss.close()
