"""Raw key and mouse events → actions, the unit a computer-use agent predicts.

``reduce_actions(events, config)`` is a pure function: it reads events of one session in
``seq`` order, never changes them, and returns new frozen :class:`Action` values. Each
action lists the raw events that make it (``seqs``), so anything derived can be traced
back to the log, which is never rewritten.

How the stream is read (thresholds are fields of :class:`ActionConfig`):

* Mouse. A button press starts a gesture; moves while it is down are its path. On
  release: if the path ever strayed ``drag_min_px`` from the press point it is a
  ``drag`` (so a drag that returns to its start is still a drag), else if it was held
  ``long_press_ms`` it is a ``long_press``, else a click of that button (``click``,
  ``right_click``, ``middle_click``). A left click that goes down within
  ``double_click_ms`` of the previous one and within ``multi_click_px`` of the first,
  with nothing else in between, upgrades it to ``double_click`` then ``triple_click``;
  two quick clicks on different spots stay two clicks. The back/forward buttons become
  ``press`` of ``browserback``/``browserforward``. Moves with no button down (hovering)
  are not actions. A press whose release was never recorded is dropped.
* Wheel. Consecutive wheel events no more than ``scroll_gap_ms`` apart and within
  ``scroll_max_drift_px`` of the first are summed into one ``scroll`` with ``dx`` and
  ``dy`` (pyautogui convention: +dy up, +dx right). ``natural_scrolling`` negates both,
  here and nowhere else. A burst that sums to zero in both axes is dropped.
* Text. Printable characters (from ``char``, so non-ASCII and Shift are as typed; Caps
  Lock applied unless ``caps_lock_in_char``) accumulate in a run; Backspace removes the
  last character of the run. The run becomes a ``type`` action when anything else
  happens: Enter, Tab, another special key, a hotkey, a click or scroll, a change of
  focused window (a title change of the same window does not count), a boundary control
  (below), or ``wait_min_ms`` of idleness. A run that ends empty is dropped. A
  ``redacted`` control (typed keys removed on the device) does not end the run: the
  placeholder ``<ENTITY>`` (``<CREDIT_CARD>``, ``<EMAIL_ADDRESS>``…) takes the removed
  keys' place in the text, so ``pay 4111… now`` becomes ``pay <CREDIT_CARD> now``; it is
  one unit of the run, so a Backspace right after it removes all of it.
* Keys. Backspace with nothing in the run to delete, Delete (which removes text after
  the caret, unknown to us), Enter, Tab, Escape, arrows, function keys… are ``press``.
  Shift held with such a key (Shift+arrow selection, Shift+Tab) stays a ``press`` with
  ``modifiers=("shift",)``: that keeps selection extension as one key family, and the
  renderers hold Shift around it. With Ctrl, Alt or Super held any key is a ``hotkey``
  (Shift joins the modifiers: ctrl+shift+t); Shift+letter alone is typing. Key
  auto-repeat (a key going down again before any key comes up) increments ``count`` of
  the same press or hotkey; a key-up named differently from its key-down (X11 reports
  ``z`` for a ``Z`` released after Shift) still releases it. A lone tap of a modifier
  listed in ``lone_modifier_keys`` is a ``press`` of it.
* Waits. An idle gap of at least ``wait_min_ms`` between two actions, with no control
  event inside it, during which frames show different pixels, becomes a ``wait`` (see
  :mod:`apprentice.pipeline.waits`).
* Control events (start, stop, pause, resume, gap, task markers) end every run and
  forget held keys and buttons, because what happened during a pause is unknown.

Never: mutate the input, look at frames' pixels, or log typed text.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from apprentice import events as ev
from apprentice.pipeline import keys as K
from apprentice.pipeline.config import ActionConfig
from apprentice.pipeline.model import ACTION_TYPES, BOUNDARY_OPS, Action, ActionType
from apprentice.pipeline.waits import insert_waits

__all__ = ["Action", "ActionType", "action_counts", "reduce_actions", "redaction_placeholder"]

_CLICK_TYPES = {"left": "click", "right": "right_click", "middle": "middle_click"}
_MULTI = ("click", "double_click", "triple_click")
_BROWSER_BUTTONS = {"back": "browserback", "forward": "browserforward"}


def reduce_actions(events: Iterable[ev.Event], config: ActionConfig | None = None) -> list[Action]:
    """Return the actions of one session's events (in seq order), sorted by start time."""
    config = config or ActionConfig()
    ordered = sorted(events, key=lambda e: e.seq)
    reducer = _Reducer(config)
    for event in ordered:
        reducer.feed(event)
    actions = reducer.finish()
    return insert_waits(actions, ordered, config)


@dataclass
class _Run:
    """Text being typed: the characters so far and the key events behind them."""

    t_start: int
    t_last: int
    window: ev.WindowInfo | None
    chars: list[str] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)


@dataclass
class _Gesture:
    """A mouse button that is down."""

    down: ev.MouseDown
    modifiers: tuple[str, ...]
    window: ev.WindowInfo | None
    path: list[tuple[int, int, int]] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)


@dataclass
class _Wheel:
    """A scroll burst being summed."""

    first: ev.Scroll
    t_last: int
    window: ev.WindowInfo | None
    dx: int = 0
    dy: int = 0
    seqs: list[int] = field(default_factory=list)


@dataclass
class _LastClick:
    """The click a following press could turn into a double or triple click."""

    index: int
    x: int
    y: int
    t_down: int
    modifiers: tuple[str, ...]


class _Reducer:
    """The state machine behind :func:`reduce_actions`; lives for one call only."""

    def __init__(self, config: ActionConfig) -> None:
        self.config = config
        self.out: list[Action] = []
        self.window: ev.WindowInfo | None = None
        self.modifiers: dict[str, tuple[str, int]] = {}  # raw key → (modifier, down seq)
        self.held: dict[str, None] = {}  # non-modifier keys down, in press order
        self.caps_lock = False
        self.run: _Run | None = None
        self.gestures: dict[str, _Gesture] = {}
        self.wheel: _Wheel | None = None
        self.last_click: _LastClick | None = None
        self.repeatable: tuple[str, int] | None = None  # (raw key, index) for auto-repeat
        self.lone_modifier: ev.KeyDown | None = None
        self.last_input_t: int | None = None

    # -- dispatch -------------------------------------------------------------------------

    def feed(self, event: ev.Event) -> None:
        if event.kind in ev.INPUT_KINDS:
            if self.last_input_t is not None and (
                event.t - self.last_input_t >= self.config.wait_min_ms * 1_000_000
            ):
                self._end_runs()
            self.last_input_t = event.t
        if isinstance(event, ev.KeyDown):
            self._key_down(event)
        elif isinstance(event, ev.KeyUp):
            self._key_up(event)
        elif isinstance(event, ev.MouseDown):
            self._mouse_down(event)
        elif isinstance(event, ev.MouseMove):
            for gesture in self.gestures.values():
                gesture.path.append((event.t, event.x, event.y))
                gesture.seqs.append(event.seq)
        elif isinstance(event, ev.MouseUp):
            self._mouse_up(event)
        elif isinstance(event, ev.Scroll):
            self._scroll(event)
        elif isinstance(event, ev.Focus):
            self._focus(event)
        elif isinstance(event, ev.Control) and event.op == "redacted":
            # Keys were removed here by redaction: the run goes on with a placeholder
            # naming only the entity type, so the text around it keeps its shape.
            self._redacted(event)
        elif isinstance(event, ev.Control) and event.op in BOUNDARY_OPS:
            self._end_runs()
            self.gestures.clear()
            self.modifiers.clear()
            self.held.clear()
            self.lone_modifier = None
            self.last_input_t = None

    def finish(self) -> list[Action]:
        self._end_runs()
        return sorted(self.out, key=lambda a: (a.t_start, a.first_seq))

    # -- keyboard ---------------------------------------------------------------------------

    def _key_down(self, event: ev.KeyDown) -> None:
        raw = event.key
        modifier = K.modifier_of(raw)
        if modifier is not None:
            if raw not in self.modifiers:
                self.modifiers[raw] = (modifier, event.seq)
                alone = not (self.held or self.gestures or len(self.modifiers) > 1)
                self.lone_modifier = event if alone else None
            return
        self.lone_modifier = None
        repeat = raw in self.held
        self.held[raw] = None
        if raw.lower() in K.LEVEL_KEYS:
            return
        if raw.lower() == "caps_lock":
            if not repeat:
                self.caps_lock = not self.caps_lock
            return
        held = {m for m, _ in self.modifiers.values()}
        if held & K.HOTKEY_MODIFIERS:
            self._end_text()
            self._emit_key("hotkey", event, K.hotkey_key(raw, event.char), held, repeat)
            return
        caps = self.caps_lock and not self.config.caps_lock_in_char
        char = K.printable_char(raw, event.char, caps)
        if char is not None:
            self._type(event, char)
            return
        name = K.special_name(raw)
        if name == "backspace" and self.run is not None and self.run.chars:
            self.run.chars.pop()
            self.run.seqs.append(event.seq)
            self.run.t_last = event.t
            return
        self._end_text()
        # Shift+Backspace deletes like Backspace; everywhere else Shift is kept (selection).
        mods = set() if name == "backspace" else held & {"shift"}
        self._emit_key("press", event, name, mods, repeat)

    def _key_up(self, event: ev.KeyUp) -> None:
        if K.modifier_of(event.key) is None:
            self.held.pop(self._held_key(event.key), None)
            # Only a key still going down without coming up repeats; any key coming up
            # ends that (X repeats the last key pressed only).
            self.repeatable = None
        if event.key in self.modifiers:
            modifier, _ = self.modifiers.pop(event.key)
            lone = self.lone_modifier
            self.lone_modifier = None
            if lone is not None and lone.key == event.key and (
                modifier in self.config.lone_modifier_keys
            ):
                self._end_text()
                self._emit(Action("press", lone.t, event.t, (lone.seq,), key=modifier,
                                  window=self.window))

    def _held_key(self, released: str) -> str:
        """The held key a key-up releases. On X11 a key that comes up after Shift did
        reports its unshifted symbol (down ``Z``, up ``z``; down ``!``, up ``1``)."""
        if released in self.held or len(released) != 1:
            return released
        chars = [k for k in self.held if len(k) == 1]
        same_letter = [k for k in chars if k.lower() == released.lower()]
        if same_letter:
            return same_letter[0]
        # A shifted symbol: its unshifted partner depends on the layout, so pair it only
        # when it is the one character key down.
        return chars[0] if len(chars) == 1 else released

    def _type(self, event: ev.KeyDown, char: str) -> None:
        self._end_wheel()
        self.last_click = None
        self.repeatable = None
        if self.run is None:
            self.run = _Run(event.t, event.t, self.window)
        self.run.chars.append(char)
        self.run.seqs.append(event.seq)
        self.run.t_last = event.t

    def _redacted(self, event: ev.Control) -> None:
        self._end_wheel()
        self.last_click = None
        self.repeatable = None
        if self.run is None:
            self.run = _Run(event.t, event.t, self.window)
        # One entry of the run, so a Backspace right after it removes the whole placeholder.
        self.run.chars.append(redaction_placeholder(event.reason))
        self.run.seqs.append(event.seq)
        self.run.t_last = event.t

    def _emit_key(
        self, kind: ActionType, event: ev.KeyDown, name: str, held: set[str], repeat: bool
    ) -> None:
        self._end_wheel()
        self.last_click = None
        mods = K.ordered(held)
        if repeat and self.repeatable is not None and self.repeatable[0] == event.key:
            index = self.repeatable[1]
            prev = self.out[index]
            if prev.type == kind and prev.key == name and prev.modifiers == mods:
                self.out[index] = dataclasses.replace(
                    prev, t_end=event.t, count=prev.count + 1, seqs=(*prev.seqs, event.seq)
                )
                return
        mod_seqs = sorted(
            seq for m, seq in self.modifiers.values() if m in mods
        )
        self._emit(Action(kind, event.t, event.t, (*mod_seqs, event.seq), key=name,
                          modifiers=mods, window=self.window))
        self.repeatable = (event.key, len(self.out) - 1)

    # -- mouse ------------------------------------------------------------------------------

    def _mouse_down(self, event: ev.MouseDown) -> None:
        self._end_runs(keep_click=True)
        self.lone_modifier = None
        held = {m for m, _ in self.modifiers.values()}
        self.gestures[event.button] = _Gesture(
            event, K.ordered(held), self.window, [(event.t, event.x, event.y)], [event.seq]
        )

    def _mouse_up(self, event: ev.MouseUp) -> None:
        gesture = self.gestures.pop(event.button, None)
        if gesture is None:  # pressed before recording began, or during a pause
            return
        gesture.path.append((event.t, event.x, event.y))
        gesture.seqs.append(event.seq)
        down = gesture.down
        stray = max(math.hypot(x - down.x, y - down.y) for _, x, y in gesture.path)
        common = dict(t_start=down.t, t_end=event.t, seqs=tuple(gesture.seqs), x=down.x,
                      y=down.y, button=event.button, modifiers=gesture.modifiers,
                      window=gesture.window)
        if stray >= self.config.drag_min_px:
            self.last_click = None
            self._emit(Action("drag", end_x=event.x, end_y=event.y, path=tuple(gesture.path),
                              **common))  # type: ignore[arg-type]
        elif event.t - down.t >= self.config.long_press_ms * 1_000_000:
            self.last_click = None
            self._emit(Action("long_press", **common))  # type: ignore[arg-type]
        elif event.button == "left":
            self._left_click(gesture, event)
        elif event.button in _CLICK_TYPES:
            self.last_click = None
            self._emit(Action(_CLICK_TYPES[event.button], **common))  # type: ignore[arg-type]
        elif event.button in _BROWSER_BUTTONS:
            self.last_click = None
            self._emit(Action("press", down.t, event.t, tuple(gesture.seqs),
                              key=_BROWSER_BUTTONS[event.button], window=gesture.window))

    def _left_click(self, gesture: _Gesture, event: ev.MouseUp) -> None:
        down, last = gesture.down, self.last_click
        if (
            last is not None
            and last.index == len(self.out) - 1
            and self.out[last.index].type in _MULTI[:2]
            and last.modifiers == gesture.modifiers
            and down.t - last.t_down <= self.config.double_click_ms * 1_000_000
            and math.hypot(down.x - last.x, down.y - last.y) <= self.config.multi_click_px
        ):
            prev = self.out[last.index]
            upgraded = _MULTI[_MULTI.index(prev.type) + 1]
            self.out[last.index] = dataclasses.replace(
                prev, type=upgraded, t_end=event.t, seqs=(*prev.seqs, *gesture.seqs)
            )
            self.last_click = dataclasses.replace(last, t_down=down.t)
            return
        self._emit(Action("click", down.t, event.t, tuple(gesture.seqs), x=down.x, y=down.y,
                          button="left", modifiers=gesture.modifiers, window=gesture.window))
        self.last_click = _LastClick(len(self.out) - 1, down.x, down.y, down.t, gesture.modifiers)

    def _scroll(self, event: ev.Scroll) -> None:
        self._end_text()
        self.last_click = None
        self.lone_modifier = None
        self.repeatable = None
        wheel = self.wheel
        if wheel is not None and not (
            event.t - wheel.t_last <= self.config.scroll_gap_ms * 1_000_000
            and math.hypot(event.x - wheel.first.x, event.y - wheel.first.y)
            <= self.config.scroll_max_drift_px
        ):
            self._end_wheel()
            wheel = None
        if wheel is None:
            wheel = self.wheel = _Wheel(event, event.t, self.window)
        # Applied exactly once, here: every later stage takes dx/dy as the content saw it.
        sign = -1 if self.config.natural_scrolling else 1
        wheel.dx += sign * event.dx
        wheel.dy += sign * event.dy
        wheel.seqs.append(event.seq)
        wheel.t_last = event.t

    # -- context ----------------------------------------------------------------------------

    def _focus(self, event: ev.Focus) -> None:
        old = self.window.wid if self.window else None
        new = event.window.wid if event.window else None
        # Only a different window ends a run: editors retitle themselves on the first
        # keystroke ("*untitled"), which must not split the word being typed.
        if old != new:
            self._end_runs()
        self.window = event.window

    # -- flushing ---------------------------------------------------------------------------

    def _end_runs(self, keep_click: bool = False) -> None:
        self._end_text()
        self._end_wheel()
        self.repeatable = None
        if not keep_click:
            self.last_click = None

    def _end_text(self) -> None:
        run, self.run = self.run, None
        if run is not None and run.chars:
            self._emit(Action("type", run.t_start, run.t_last, tuple(run.seqs),
                              text="".join(run.chars), window=run.window))

    def _end_wheel(self) -> None:
        wheel, self.wheel = self.wheel, None
        if wheel is not None and (wheel.dx or wheel.dy):
            self._emit(Action("scroll", wheel.first.t, wheel.t_last, tuple(wheel.seqs),
                              x=wheel.first.x, y=wheel.first.y, dx=wheel.dx, dy=wheel.dy,
                              window=wheel.window))

    def _emit(self, action: Action) -> None:
        self.out.append(action)


def redaction_placeholder(entity: str | None) -> str:
    """The text that stands in a type run for keys redaction removed: ``<CREDIT_CARD>``."""
    return f"<{(entity or 'REDACTED').upper()}>"


def action_counts(actions: Sequence[Action]) -> dict[str, int]:
    """Return how many actions of each type, in :data:`ACTION_TYPES` order."""
    counts = {t: 0 for t in ACTION_TYPES}
    for action in actions:
        counts[action.type] += 1
    return {t: n for t, n in counts.items() if n}
