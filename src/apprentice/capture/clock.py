"""The one clock of a recording session, and the stamper that orders every event.

Every event gets its ``seq`` and ``t`` from :class:`Stamper` under one lock, and is handed
to the spool inside that same lock, so the spool's order is the ``seq`` order even when
several threads record at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from apprentice import events as ev

E = TypeVar("E", bound=ev.Event)


class Stamper:
    def __init__(
        self,
        deliver: Callable[[ev.Event], None],
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._deliver = deliver
        self.clock = clock
        self._seq = 0
        self._lock = threading.Lock()

    def stamp(self, cls: type[E], t: int | None = None, **fields: Any) -> E:
        """Create, number and deliver one event; ``t`` overrides the clock (grab times)."""
        with self._lock:
            self._seq += 1
            event = cls(seq=self._seq, t=self.clock() if t is None else t, **fields)
            self._deliver(event)
        return event

    def stamp_with(self, cls: type[E], deliver: Callable[[E], None], t: int, **fields: Any) -> E:
        """Like :meth:`stamp` but hand the event to ``deliver`` (used for frames)."""
        with self._lock:
            self._seq += 1
            event = cls(seq=self._seq, t=t, **fields)
            deliver(event)
        return event
