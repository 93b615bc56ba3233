"""A synthetic screen for tests: one monitor whose pixels change when told to."""

from __future__ import annotations

from apprentice.capture.base import RawImage
from apprentice.events import Monitor, Rect


class ScreenSource:
    def __init__(self, width: int = 64, height: int = 48) -> None:
        self.width, self.height = width, height
        self.shade = 0
        self.grabs = 0

    def monitors(self) -> list[Monitor]:
        return [Monitor(0, Rect(0, 0, self.width, self.height), 1.0, True)]

    def grab(self, monitor: Monitor) -> RawImage:
        self.grabs += 1
        pixel = bytes([self.shade % 256, 0, 0, 255])
        return RawImage(self.width, self.height, pixel * (self.width * self.height))

    def close(self) -> None:
        pass
