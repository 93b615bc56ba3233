"""The raw event vocabulary every layer shares (schema version 1).

One event is one thing that happened on the device, stamped once by the capture clock:

* ``seq`` — a per-session sequence number, strictly increasing in the order events were
  recorded. The raw log is stored and read in ``seq`` order.
* ``t`` — nanoseconds on the one monotonic clock of the session (``time.monotonic_ns``).
  No stream re-bases its own clock; the ``control``/``start`` event holds the single
  wall-clock anchor (``wall_ns`` at ``t``). Frame events carry the time the screen was
  *grabbed*, which may be earlier than the time they were recorded, so ``t`` is not
  monotonic in ``seq`` for frames (by design: a pre-action frame is grabbed before the
  action and committed after it).

Coordinates are X11 root-window pixels (origin top-left of the virtual screen, +x right,
+y down). Scroll amounts are wheel clicks in the pyautogui convention: ``+dy`` is up,
``+dx`` is right.

This module does no I/O and imports only the standard library. The human-readable
description lives in ``docs/events.md``; a test checks the two agree.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias

SCHEMA_VERSION = 1

MouseButton: TypeAlias = Literal["left", "middle", "right", "back", "forward", "other"]
FrameTrigger: TypeAlias = Literal["pre", "post", "focus", "refresh"]
ElementSource: TypeAlias = Literal["atspi", "browser", "uia", "ax"]
ControlOp: TypeAlias = Literal[
    "start", "stop", "pause", "resume", "consent", "gap", "marker", "task_start", "task_end",
    "redacted",
]


@dataclass(frozen=True, slots=True)
class Rect:
    """A rectangle in root-window pixels."""

    x: int
    y: int
    width: int
    height: int

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


@dataclass(frozen=True, slots=True)
class Monitor:
    """One physical monitor: its place in the virtual screen and its scale factor."""

    index: int
    bounds: Rect
    scale: float = 1.0
    primary: bool = False


@dataclass(frozen=True, slots=True)
class RawImage:
    """Screen pixels as grabbed: BGRA, 4 bytes a pixel, rows top to bottom. Never stored
    as is: frames are redacted and encoded before they reach the spool."""

    width: int
    height: int
    bgra: bytes


@dataclass(frozen=True, slots=True)
class WindowInfo:
    """What is known about a top-level window. Any field may be unknown (None)."""

    wid: int
    app_id: str | None = None  # WM_CLASS class on X11, bundle id on macOS, exe on Windows
    instance: str | None = None  # WM_CLASS instance on X11
    process: str | None = None
    pid: int | None = None
    title: str | None = None
    bounds: Rect | None = None
    monitor: int | None = None
    url: str | None = None
    role: str | None = None  # WM_WINDOW_ROLE on X11
    #: True when the browser extension says the window is private (incognito) or cannot see
    #: it; such a window is never captured, so a stored window never carries True.
    private: bool | None = None


@dataclass(frozen=True, slots=True)
class KeyDown:
    """A key went down. ``key`` is the key symbol name, ``char`` the character it produced."""

    seq: int
    t: int
    key: str
    vk: int | None = None
    char: str | None = None
    kind: ClassVar[str] = "key_down"


@dataclass(frozen=True, slots=True)
class KeyUp:
    seq: int
    t: int
    key: str
    vk: int | None = None
    char: str | None = None
    kind: ClassVar[str] = "key_up"


@dataclass(frozen=True, slots=True)
class MouseDown:
    seq: int
    t: int
    x: int
    y: int
    button: MouseButton
    kind: ClassVar[str] = "mouse_down"


@dataclass(frozen=True, slots=True)
class MouseUp:
    seq: int
    t: int
    x: int
    y: int
    button: MouseButton
    kind: ClassVar[str] = "mouse_up"


@dataclass(frozen=True, slots=True)
class MouseMove:
    seq: int
    t: int
    x: int
    y: int
    kind: ClassVar[str] = "mouse_move"


@dataclass(frozen=True, slots=True)
class Scroll:
    """Wheel movement at (x, y): +dy is up, +dx is right, in wheel clicks."""

    seq: int
    t: int
    x: int
    y: int
    dx: int
    dy: int
    kind: ClassVar[str] = "scroll"


@dataclass(frozen=True, slots=True)
class Focus:
    """The focused top-level window changed (or its title/URL did)."""

    seq: int
    t: int
    window: WindowInfo | None = None  # None: no window has focus (e.g. the desktop)
    kind: ClassVar[str] = "focus"


@dataclass(frozen=True, slots=True)
class Frame:
    """A stored screenshot of one monitor, referenced by the content hash of its image.

    ``t`` is when the screen was grabbed. ``for_seq`` names the action event a ``pre``
    frame precedes or a ``post`` frame follows. ``masked`` counts what redaction removed,
    by type, never what it was.
    """

    seq: int
    t: int
    blob: str  # sha256 hex of the encoded image bytes
    trigger: FrameTrigger
    monitor: int
    bounds: Rect  # the monitor area the image shows, in root pixels
    width: int  # stored image size (after any downscale)
    height: int
    format: str  # "png", "webp", "jpeg"
    pixel_hash: str  # hash of the raw pixels, for de-duplication across encodings
    for_seq: int | None = None
    cursor: tuple[int, int] | None = None
    masked: dict[str, int] = field(default_factory=dict)
    kind: ClassVar[str] = "frame"


@dataclass(frozen=True, slots=True)
class Control:
    """Session bookkeeping: start/stop, pause/resume, consent, gaps and task markers.

    A ``gap`` says that something was not recorded and why (``reason``), with counts in
    ``info``; it never says what the missing content was. A ``redacted`` control stands
    where typed keys were removed by redaction: ``reason`` is the entity type and
    ``info["keys"]`` the number of key presses removed.
    """

    seq: int
    t: int
    op: ControlOp
    reason: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "control"


@dataclass(frozen=True, slots=True)
class UiNode:
    """One ancestor of a UI element: its role and accessible name (name may be unknown)."""

    role: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Element:
    """The UI element an input event targeted, as an accessibility API or the browser saw it.

    ``for_seq`` names the input event (a ``mouse_down``, or the first ``key_down`` of a
    burst) the element was under or focused for. ``role`` uses lower-case ARIA-style
    names (``button``, ``menu item``, ``combo box``, ``password text``); ``name`` is the
    accessible name after the text redactors ran, never a field's value; ``states`` is a
    sorted tuple from a small vocabulary (``focused``, ``checked``, ``expanded``,
    ``selected``, ``editable``, ``password``); ``bounds`` is in root-window pixels;
    ``path`` lists ancestors from the window down to the element's parent.
    """

    seq: int
    t: int
    for_seq: int
    source: ElementSource
    role: str
    name: str | None = None
    states: tuple[str, ...] = ()
    bounds: Rect | None = None
    path: tuple[UiNode, ...] = ()
    tag: str | None = None  # the HTML tag name, from the browser only
    kind: ClassVar[str] = "element"


Event: TypeAlias = (
    KeyDown | KeyUp | MouseDown | MouseUp | MouseMove | Scroll | Focus | Frame | Control | Element
)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls  # type: ignore[misc]
    for cls in (KeyDown, KeyUp, MouseDown, MouseUp, MouseMove, Scroll, Focus, Frame, Control, Element)
}
INPUT_KINDS = frozenset({"key_down", "key_up", "mouse_down", "mouse_up", "mouse_move", "scroll"})


class SchemaError(ValueError):
    """A dictionary does not describe a valid event of this schema version."""


def to_dict(event: Event) -> dict[str, Any]:
    """Return the JSON-ready form of an event: ``{"k": kind, "seq":…, "t":…, …fields}``.

    Fields that are None are left out, which keeps stored events small.
    """
    out: dict[str, Any] = {"k": event.kind}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if value is None or (f.name in ("masked", "info", "states", "path") and not value):
            continue
        out[f.name] = _plain(value)
    return out


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from :func:`to_dict` output, raising SchemaError if it is not one."""
    try:
        cls = EVENT_TYPES[data["k"]]
    except (KeyError, TypeError):
        raise SchemaError(f"unknown event kind {data.get('k')!r}") from None
    kwargs = {k: v for k, v in data.items() if k != "k"}
    try:
        if cls is Focus and kwargs.get("window") is not None:
            kwargs["window"] = _window_from(kwargs["window"])
        if cls is Element:
            if kwargs.get("bounds") is not None:
                kwargs["bounds"] = Rect(**kwargs["bounds"])
            kwargs["states"] = tuple(kwargs.get("states", ()))
            kwargs["path"] = tuple(UiNode(**node) for node in kwargs.get("path", ()))
        if cls is Frame:
            kwargs["bounds"] = Rect(**kwargs["bounds"])
            if kwargs.get("cursor") is not None:
                kwargs["cursor"] = tuple(kwargs["cursor"])
        return cls(**kwargs)
    except (TypeError, KeyError) as exc:
        raise SchemaError(f"malformed {data['k']} event: {exc}") from None


def _window_from(data: dict[str, Any]) -> WindowInfo:
    fields = dict(data)
    if fields.get("bounds") is not None:
        fields["bounds"] = Rect(**fields["bounds"])
    return WindowInfo(**fields)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value
