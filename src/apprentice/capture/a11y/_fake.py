"""An element source for unit tests: answers what the test says, as slowly as it says."""

from __future__ import annotations

import threading
from collections.abc import Callable

from apprentice.capture.base import ElementInfo, ElementQuery

Answer = ElementInfo | None | Callable[[ElementQuery], ElementInfo | None]


class ElementSource:
    def __init__(self, answer: Answer = None, delay: float = 0.0) -> None:
        self.answer = answer
        #: Seconds each call takes, ignoring its timeout (a hung accessibility bus).
        self.delay = delay
        self.calls: list[ElementQuery] = []
        self.closed = False
        self._release = threading.Event()

    def element(self, query: ElementQuery, timeout_s: float) -> ElementInfo | None:
        self.calls.append(query)
        if self.delay:
            self._release.wait(self.delay)
        answer = self.answer
        return answer(query) if callable(answer) else answer

    def unblock(self) -> None:
        """End any call still sleeping (so a test does not leave a thread behind)."""
        self._release.set()

    def close(self) -> None:
        self.closed = True
        self._release.set()
