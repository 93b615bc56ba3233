"""Builders for synthetic raw event logs: a clock that moves only when told to."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest

from apprentice import events as ev

MS = 1_000_000


class Log:
    """Appends events with increasing seq; ``t`` advances by ``step_ms`` per event."""

    def __init__(self, step_ms: int = 10) -> None:
        self.events: list[ev.Event] = []
        self.t = 1_000 * MS
        self.step = step_ms * MS
        self.window: ev.WindowInfo | None = None

    # -- low level ------------------------------------------------------------------------

    def add(self, cls: type, t: int | None = None, **fields: Any) -> ev.Event:
        if t is None:
            self.t += self.step
            t = self.t
        event = cls(seq=len(self.events) + 1, t=t, **fields)
        self.events.append(event)
        return event

    def wait(self, ms: int) -> Log:
        self.t += ms * MS
        return self

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq

    # -- session --------------------------------------------------------------------------

    def start(self, session: str = "sess-1", monitors: list[dict[str, Any]] | None = None) -> Log:
        monitors = monitors or [
            {"index": 0, "x": 0, "y": 0, "width": 1920, "height": 1080, "scale": 1.0,
             "primary": True}
        ]
        self.add(ev.Control, op="start",
                 info={"session": session, "platform": "linux-x11", "monitors": monitors,
                       "wall_ns": 1_700_000_000 * 10**9})
        return self

    def control(self, op: str, **info: Any) -> Log:
        self.add(ev.Control, op=op, info=info)
        return self

    def focus(self, wid: int, app_id: str | None = "App", title: str | None = None,
              url: str | None = None) -> Log:
        self.window = ev.WindowInfo(wid=wid, app_id=app_id, title=title, url=url)
        self.add(ev.Focus, window=self.window)
        return self

    # -- keyboard -------------------------------------------------------------------------

    def down(self, key: str, char: str | None = None) -> Log:
        self.add(ev.KeyDown, key=key, char=char)
        return self

    def up(self, key: str, char: str | None = None) -> Log:
        self.add(ev.KeyUp, key=key, char=char)
        return self

    def tap(self, key: str, char: str | None = None) -> Log:
        return self.down(key, char).up(key, char)

    def text(self, text: str) -> Log:
        """Type characters as pynput reports them: key == char, Shift for capitals."""
        for ch in text:
            if ch == " ":
                self.tap("space", " ")
            elif ch.isupper():
                self.down("shift").tap(ch, ch).up("shift")
            else:
                self.tap(ch, ch)
        return self

    def combo(self, *keys: str) -> Log:
        """Hold all but the last key, tap the last, release in reverse."""
        *mods, last = keys
        for m in mods:
            self.down(m)
        self.tap(last, last if len(last) == 1 else None)
        for m in reversed(mods):
            self.up(m)
        return self

    # -- mouse ----------------------------------------------------------------------------

    def move(self, x: int, y: int) -> Log:
        self.add(ev.MouseMove, x=x, y=y)
        return self

    def click(self, x: int, y: int, button: str = "left", hold_ms: int = 0) -> Log:
        self.add(ev.MouseDown, x=x, y=y, button=button)
        self.wait(hold_ms)
        self.add(ev.MouseUp, x=x, y=y, button=button)
        return self

    def drag(self, points: list[tuple[int, int]], button: str = "left") -> Log:
        (x0, y0), *rest = points
        self.add(ev.MouseDown, x=x0, y=y0, button=button)
        for x, y in rest[:-1]:
            self.move(x, y)
        x1, y1 = rest[-1]
        self.move(x1, y1)
        self.add(ev.MouseUp, x=x1, y=y1, button=button)
        return self

    def scroll(self, x: int, y: int, dx: int = 0, dy: int = 0) -> Log:
        self.add(ev.Scroll, x=x, y=y, dx=dx, dy=dy)
        return self

    # -- frames ---------------------------------------------------------------------------

    def frame(self, pixels: str = "p0", t: int | None = None, trigger: str = "refresh",
              for_seq: int | None = None, monitor: int = 0, blob: str | None = None,
              bounds: ev.Rect | None = None, cursor: tuple[int, int] | None = None) -> Log:
        """Record a frame; ``t`` defaults to now (the grab time may be given earlier)."""
        self.add(
            ev.Frame, t=t, blob=blob or blob_for(pixels), trigger=trigger, monitor=monitor,
            bounds=bounds or ev.Rect(0, 0, 1920, 1080), width=960, height=540, format="png",
            pixel_hash=pixels, for_seq=for_seq, cursor=cursor,
        )
        return self


def blob_for(pixels: str) -> str:
    """The blob hash of the synthetic PNG drawn for ``pixels`` (see :func:`png_for`)."""
    return hashlib.sha256(png_for(pixels)).hexdigest()


def png_for(pixels: str) -> bytes:
    """A small PNG whose colour is derived from ``pixels``; same input, same bytes."""
    from PIL import Image

    digest = hashlib.sha256(pixels.encode()).digest()
    image = Image.new("RGB", (96, 54), (digest[0], digest[1], digest[2]))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def log() -> Log:
    return Log()
