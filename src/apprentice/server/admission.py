"""Admission of uploads in one collector process: at most ``limit`` at once; the next ones
wait their turn, first come first served, for up to ``upload_queue_s``, then get a 429.

Why wait at all: a waiting upload's body is not read, so TCP flow control holds the device's
bytes in its own socket (a few hundred KiB) while it waits, and nothing is spent on either
side. A 429 instead comes after the device has pushed its whole chunk — up to 32 MiB that
the collector throws away, and that a device on a slow link must send again (httpx, which
the agent uses, does not wait for ``100 Continue``). A short queue turns a burst of devices
(everyone's laptop waking at 9:00) into a few seconds of latency instead of refusals; the
429 with ``Retry-After`` stays for a collector that stays overloaded.

Runs on the event loop only (no locks needed): ``acquire`` and ``release`` are never called
from worker threads.
"""

from __future__ import annotations

import asyncio
from collections import deque


class UploadSlots:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.busy = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def acquire(self, timeout: float) -> bool:
        """Take a slot, waiting up to ``timeout`` seconds behind earlier arrivals; False if
        none came free in time. A cancelled waiter (the device hung up) takes no slot."""
        if self.busy < self.limit and not self._waiting:
            self.busy += 1
            return True
        if timeout <= 0:
            return False
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await asyncio.wait({turn}, timeout=timeout)
        except BaseException:
            self._give_up(turn)
            raise
        if turn.done():  # handed a slot by release(), perhaps just as the time ran out
            return True
        self._give_up(turn)
        return False

    def release(self) -> None:
        """Free a slot: it goes straight to the longest-waiting upload, if any."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot changes hands; busy stays the same
                return
        self.busy -= 1

    def _give_up(self, turn: asyncio.Future[None]) -> None:
        if turn.done():  # it was handed a slot it will not use: pass it on
            self.release()
            return
        turn.cancel()
        self._waiting.remove(turn)
