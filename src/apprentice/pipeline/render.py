"""Actions rendered as code an agent could emit: pyautogui (absolute or normalised) and
OSWorld's ``computer_13`` JSON action space.

* ``render_pyautogui(action)`` — OSWorld style, absolute root-window pixels:
  ``pyautogui.click(x=640, y=360)``. One statement per line; several lines only where
  pyautogui needs them (a drag is ``moveTo`` then ``dragTo``; modifiers held around a
  click are ``keyDown``/``keyUp``).
* ``render_pyautogui(action, frame=rect)`` — AgentNet style: the same calls with
  coordinates divided by the monitor rectangle the observation shows, 4 decimals.
* ``render_computer13(action)`` — a list of ``{"action_type", "parameters"}`` dicts
  following OSWorld's ``desktop_env/actions.py``: ``CLICK`` (button, x, y, num_clicks),
  ``DOUBLE_CLICK``, ``RIGHT_CLICK``, ``MOVE_TO``, ``DRAG_TO`` (left button, from the
  current position), ``MOUSE_DOWN``/``MOUSE_UP`` (button), ``SCROLL`` (dx, dy at the
  current position), ``TYPING`` (text), ``PRESS`` (key), ``KEY_DOWN``/``KEY_UP``,
  ``HOTKEY`` (keys), ``WAIT``, ``DONE``, ``FAIL``.

Text is always written with ``repr`` so any character, quote or backslash yields a line
that parses as Python. ``wait`` renders as ``time.sleep(s)``; ``done``/``fail`` as
OSWorld's special codes ``DONE``/``FAIL``. Pure string building; never executes anything.
"""

from __future__ import annotations

from typing import Any

from apprentice import events as ev
from apprentice.pipeline.model import Action

_CLICK_CALLS = {
    "click": "click", "double_click": "doubleClick", "triple_click": "tripleClick",
    "right_click": "rightClick", "middle_click": "middleClick",
}
# computer_13 key names differ from pyautogui's in one place: it lists " " not "space".
_C13_KEYS = {"space": " "}


def key_name(key: str, platform: str) -> str:
    """Return the pyautogui name of a key on ``platform`` (Super is ``command`` on macOS)."""
    if key == "win" and platform.startswith("darwin"):
        return "command"
    return key


def render_pyautogui(
    action: Action, frame: ev.Rect | None = None, platform: str = "linux-x11"
) -> str:
    """Return the pyautogui code for ``action``, normalised to ``frame`` when given."""

    def at(x: int | None, y: int | None) -> str:
        if x is None or y is None:
            return ""
        if frame is None:
            return f"x={x}, y={y}"
        return f"x={_norm(x, frame.x, frame.width)}, y={_norm(y, frame.y, frame.height)}"

    def keys(names: tuple[str, ...]) -> str:
        return ", ".join(repr(key_name(k, platform)) for k in names)

    kind = action.type
    if kind in _CLICK_CALLS:
        call = f"pyautogui.{_CLICK_CALLS[kind]}({at(action.x, action.y)})"
        return _held(action.modifiers, [call], platform)
    if kind == "drag":
        lines = [
            f"pyautogui.moveTo({at(action.x, action.y)})",
            f"pyautogui.dragTo({at(action.end_x, action.end_y)}, "
            f"duration={_seconds(action.duration_ns)}, button={action.button!r})",
        ]
        return _held(action.modifiers, lines, platform)
    if kind == "long_press":
        lines = [
            f"pyautogui.mouseDown({at(action.x, action.y)}, button={action.button!r})",
            f"time.sleep({_seconds(action.duration_ns)})",
            f"pyautogui.mouseUp({at(action.x, action.y)}, button={action.button!r})",
        ]
        return _held(action.modifiers, lines, platform)
    if kind == "scroll":
        lines = []
        if action.dy:
            lines.append(f"pyautogui.scroll({action.dy}, {at(action.x, action.y)})")
        if action.dx:
            lines.append(f"pyautogui.hscroll({action.dx}, {at(action.x, action.y)})")
        return "\n".join(lines)
    if kind == "type":
        return f"pyautogui.write({action.text!r})"
    if kind in ("press", "hotkey"):
        key = repr(key_name(action.key or "", platform))
        presses = f", presses={action.count}" if action.count > 1 else ""
        if not action.modifiers:
            return f"pyautogui.press({key}{presses})"
        if action.count == 1:
            return f"pyautogui.hotkey({keys(action.keys)})"
        return _held(action.modifiers, [f"pyautogui.press({key}{presses})"], platform)
    if kind == "wait":
        return f"time.sleep({_seconds(action.duration_ns)})"
    if kind in ("done", "fail"):
        return kind.upper()
    raise ValueError(f"cannot render action type {kind!r}")


def render_computer13(action: Action, platform: str = "linux-x11") -> list[dict[str, Any]]:
    """Return ``action`` as a list of computer_13 actions (absolute pixels)."""
    kind = action.type
    xy = {"x": action.x, "y": action.y}
    if kind in _CLICK_CALLS:
        if kind == "double_click":
            body = [_c13("DOUBLE_CLICK", **xy)]
        elif kind == "right_click":
            body = [_c13("RIGHT_CLICK", **xy)]
        else:
            button = "middle" if kind == "middle_click" else "left"
            clicks = 3 if kind == "triple_click" else 1
            body = [_c13("CLICK", button=button, **xy, num_clicks=clicks)]
        return _c13_held(action.modifiers, body, platform)
    if kind == "drag":
        end = {"x": action.end_x, "y": action.end_y}
        if action.button == "left":
            body = [_c13("MOVE_TO", **xy), _c13("DRAG_TO", **end)]
        else:  # DRAG_TO is left-button only; other buttons go down, move, come up
            body = [_c13("MOVE_TO", **xy), _c13("MOUSE_DOWN", button=action.button),
                    _c13("MOVE_TO", **end), _c13("MOUSE_UP", button=action.button)]
        return _c13_held(action.modifiers, body, platform)
    if kind == "long_press":
        body = [_c13("MOVE_TO", **xy), _c13("MOUSE_DOWN", button=action.button),
                _c13("WAIT"), _c13("MOUSE_UP", button=action.button)]
        return _c13_held(action.modifiers, body, platform)
    if kind == "scroll":
        return [_c13("MOVE_TO", **xy), _c13("SCROLL", dx=action.dx, dy=action.dy)]
    if kind == "type":
        return [_c13("TYPING", text=action.text)]
    if kind in ("press", "hotkey"):
        names = [_C13_KEYS.get(k, key_name(k, platform)) for k in action.keys]
        one = _c13("HOTKEY", keys=names) if len(names) > 1 else _c13("PRESS", key=names[0])
        return [one] * action.count
    if kind in ("wait", "done", "fail"):
        return [_c13(kind.upper())]
    raise ValueError(f"cannot render action type {kind!r}")


def _held(modifiers: tuple[str, ...], lines: list[str], platform: str) -> str:
    downs = [f"pyautogui.keyDown({key_name(m, platform)!r})" for m in modifiers]
    ups = [f"pyautogui.keyUp({key_name(m, platform)!r})" for m in reversed(modifiers)]
    return "\n".join([*downs, *lines, *ups])


def _c13_held(
    modifiers: tuple[str, ...], body: list[dict[str, Any]], platform: str
) -> list[dict[str, Any]]:
    downs = [_c13("KEY_DOWN", key=key_name(m, platform)) for m in modifiers]
    ups = [_c13("KEY_UP", key=key_name(m, platform)) for m in reversed(modifiers)]
    return [*downs, *body, *ups]


def _c13(action_type: str, **parameters: Any) -> dict[str, Any]:
    return {"action_type": action_type, "parameters": parameters}


def _norm(value: int, origin: int, size: int) -> str:
    return f"{(value - origin) / size:.4f}" if size else "0.0000"


def _seconds(ns: int) -> float:
    return round(ns / 1e9, 2)
