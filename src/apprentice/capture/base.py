"""The three capture protocols, documented here and only here.

Backends (``inputs/_pynput.py``, ``screens/_mss.py``, ``window/_xorg.py`` and their
``_fake.py`` twins) implement these without repeating the contract. A backend is chosen
when the agent starts, never at import, so importing ``apprentice.capture`` works on a
machine with no display.

Threading: ``InputSource`` and ``WindowSource`` call their callbacks from their own
threads and must return quickly from them; a ``ScreenSource`` is used from exactly one
thread (the frame worker), which creates it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from apprentice.events import ElementSource as ElementOrigin
from apprentice.events import Monitor, RawImage, Rect, UiNode, WindowInfo

__all__ = [
    "ElementInfo", "ElementQuery", "ElementSource", "InputCallback", "InputSource", "RawImage",
    "ScreenSource", "WindowSource",
]

#: ``emit(kind, fields)``: kind is an input event kind ("key_down", "mouse_move", …) and
#: fields are that event's fields except ``seq`` and ``t``, which the session stamps.
InputCallback = Callable[[str, dict[str, Any]], None]


class InputSource(Protocol):
    def start(self, emit: InputCallback) -> None:
        """Begin delivering every keyboard and mouse event to ``emit``, in order."""

    def stop(self) -> None:
        """Stop delivering; no call to ``emit`` starts after this returns."""


class WindowSource(Protocol):
    def start(self, on_change: Callable[[WindowInfo | None], None]) -> None:
        """Call ``on_change`` whenever the focused top-level window, or its title, changes.

        Called once at start with the current window. Event-driven where the platform
        allows; never a busy loop.
        """

    def active(self) -> WindowInfo | None:
        """The focused window as last seen (cheap; no round trip to the display)."""

    def stacking(self) -> list[WindowInfo]:
        """Every visible top-level window, bottom to top, bounds including decorations.

        Used to mask the pixels of windows the policy does not allow. Called from the frame
        worker's thread, never from the thread that delivers ``on_change``.
        """

    def stop(self) -> None: ...


class ScreenSource(Protocol):
    def monitors(self) -> list[Monitor]:
        """Every monitor with its bounds in root pixels and its scale factor."""

    def grab(self, monitor: Monitor) -> RawImage:
        """The current pixels of one monitor."""

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ElementQuery:
    """Which element an input event targeted: the one under the pointer (``pointer``, at
    ``x, y``) or the one with keyboard focus (``focus``), in the focused ``window``."""

    seq: int  # the input event's seq (becomes the element event's ``for_seq``)
    t: int
    target: Literal["pointer", "focus"]
    window: WindowInfo
    x: int | None = None
    y: int | None = None


@dataclass(frozen=True, slots=True)
class ElementInfo:
    """What a backend found, before redaction (the session redacts ``name`` and the path)."""

    source: ElementOrigin
    role: str
    name: str | None = None
    states: frozenset[str] = frozenset()
    bounds: Rect | None = None
    path: tuple[UiNode, ...] = ()
    tag: str | None = None


class ElementSource(Protocol):
    """Tells which UI element an input event targeted (AT-SPI, UI Automation, AX, browser).

    ``element`` is called from the element worker's thread, never from a hook thread; it
    must give up after ``timeout_s`` and return None rather than stall, and must not look
    at any window other than ``query.window``.
    """

    def element(self, query: ElementQuery, timeout_s: float) -> ElementInfo | None: ...

    def close(self) -> None: ...
