"""Replay plans: an episode's actions as ``xdotool`` command lines, for checking fidelity.

``plan_replay(actions)`` returns one list of argv lists per action (``[]`` for ``done``
and ``fail``); the ``replay`` command runs them on a display and compares the
screenshots. Coordinates are absolute root pixels, as recorded. Text goes through
``xdotool type`` (which, unlike pyautogui, types any Unicode character) after ``--`` so
it can never be read as an option. Pure: builds lists, runs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from apprentice.pipeline.model import Action

_BUTTONS = {"left": "1", "middle": "2", "right": "3"}
_CLICKS = {"click": 1, "double_click": 2, "triple_click": 3, "right_click": 1, "middle_click": 1}
# pyautogui key names → X keysyms xdotool understands. Single characters pass through.
_KEYSYMS = {
    "enter": "Return", "esc": "Escape", "backspace": "BackSpace", "delete": "Delete",
    "tab": "Tab", "space": "space", "up": "Up", "down": "Down", "left": "Left",
    "right": "Right", "home": "Home", "end": "End", "pageup": "Prior", "pagedown": "Next",
    "insert": "Insert", "capslock": "Caps_Lock", "numlock": "Num_Lock",
    "scrolllock": "Scroll_Lock", "printscreen": "Print", "pause": "Pause", "apps": "Menu",
    "win": "super", "ctrl": "ctrl", "alt": "alt", "shift": "shift",
    "browserback": "XF86Back", "browserforward": "XF86Forward",
    "playpause": "XF86AudioPlay", "volumemute": "XF86AudioMute",
    "volumeup": "XF86AudioRaiseVolume", "volumedown": "XF86AudioLowerVolume",
    "nexttrack": "XF86AudioNext", "prevtrack": "XF86AudioPrev",
}
_CLICK_DELAY_MS = "80"  # well inside the 500 ms double-click interval
_TYPE_DELAY_MS = "12"


def keysym(key: str) -> str:
    """Return the X keysym xdotool needs for a pyautogui key name."""
    if key in _KEYSYMS:
        return _KEYSYMS[key]
    if len(key) > 1 and key[0] == "f" and key[1:].isdigit():
        return key.upper()
    return key


def plan_replay(actions: Sequence[Action]) -> list[list[list[str]]]:
    """Return, for each action, the xdotool command lines that reproduce it."""
    return [plan_action(a) for a in actions]


def plan_action(action: Action) -> list[list[str]]:
    kind = action.type
    downs = [["xdotool", "keydown", keysym(m)] for m in action.modifiers]
    ups = [["xdotool", "keyup", keysym(m)] for m in reversed(action.modifiers)]
    if kind in _CLICKS:
        button = _BUTTONS.get(action.button or "", {"right_click": "3", "middle_click": "2"}
                              .get(kind, "1"))
        body = [_move(action.x, action.y),
                ["xdotool", "click", "--repeat", str(_CLICKS[kind]), "--delay", _CLICK_DELAY_MS,
                 button]]
        return [*downs, *body, *ups]
    if kind in ("drag", "long_press"):
        button = _BUTTONS.get(action.button or "left", "1")
        body = [_move(action.x, action.y), ["xdotool", "mousedown", button]]
        if kind == "drag":
            body += [_move(x, y) for _, x, y in action.path[1:]] or [
                _move(action.end_x, action.end_y)]
        else:
            body.append(["xdotool", "sleep", f"{action.duration_ns / 1e9:.2f}"])
        body.append(["xdotool", "mouseup", button])
        return [*downs, *body, *ups]
    if kind == "scroll":
        plan = [_move(action.x, action.y)]
        # X wheel buttons: 4 up, 5 down, 6 left, 7 right (+dy is up, +dx is right).
        for amount, positive, negative in ((action.dy, "4", "5"), (action.dx, "7", "6")):
            if amount:
                plan.append(["xdotool", "click", "--repeat", str(abs(amount)),
                             positive if amount > 0 else negative])
        return plan
    if kind == "type":
        return [["xdotool", "type", "--delay", _TYPE_DELAY_MS, "--", action.text or ""]]
    if kind in ("press", "hotkey"):
        combo = "+".join(keysym(k) for k in action.keys)
        return [["xdotool", "key", "--repeat", str(action.count), combo]]
    if kind == "wait":
        return [["xdotool", "sleep", f"{action.duration_ns / 1e9:.2f}"]]
    return []


def _move(x: int | None, y: int | None) -> list[str]:
    return ["xdotool", "mousemove", "--sync", str(x), str(y)]
