"""Keyboard and mouse hooks through pynput (X11 RECORD extension on Linux)."""

from __future__ import annotations

from typing import Any

from pynput import keyboard, mouse

from apprentice.capture.base import InputCallback

_BUTTONS = {"left": "left", "middle": "middle", "right": "right",
            "button8": "back", "button9": "forward"}


def describe_key(key: Any) -> dict[str, Any]:
    """Return the key symbol name, its virtual key (the X keysym) and the character."""
    if isinstance(key, keyboard.Key):
        code = key.value
        # pynput names the space bar but gives it no character; it does type one.
        char = " " if key == keyboard.Key.space else None
        return {"key": key.name, "vk": getattr(code, "vk", None), "char": char}
    char = getattr(key, "char", None)
    vk = getattr(key, "vk", None)
    if char and char.isprintable():
        return {"key": char, "vk": vk, "char": char}
    return {"key": _keysym_name(vk), "vk": vk, "char": None}


def _keysym_name(vk: int | None) -> str:
    if vk is None:
        return "unknown"
    try:
        from Xlib import XK

        name = XK.keysym_to_string(vk)
    except ImportError:
        name = None
    return name if name and name.isprintable() else f"vk_{vk}"


class InputSource:
    def __init__(self) -> None:
        self._keyboard: keyboard.Listener | None = None
        self._mouse: mouse.Listener | None = None

    def start(self, emit: InputCallback) -> None:
        def on_press(key: Any) -> None:
            emit("key_down", describe_key(key))

        def on_release(key: Any) -> None:
            emit("key_up", describe_key(key))

        def on_move(x: int, y: int) -> None:
            emit("mouse_move", {"x": int(x), "y": int(y)})

        def on_click(x: int, y: int, button: Any, pressed: bool) -> None:
            name = _BUTTONS.get(getattr(button, "name", ""), "other")
            emit("mouse_down" if pressed else "mouse_up", {"x": int(x), "y": int(y), "button": name})

        def on_scroll(x: int, y: int, dx: int, dy: int) -> None:
            # pynput already reports +dy = up, +dx = right (X buttons 4/5/6/7).
            emit("scroll", {"x": int(x), "y": int(y), "dx": int(dx), "dy": int(dy)})

        self._keyboard = keyboard.Listener(on_press=on_press, on_release=on_release)
        self._mouse = mouse.Listener(on_move=on_move, on_click=on_click, on_scroll=on_scroll)
        self._keyboard.start()
        self._mouse.start()
        self._keyboard.wait()
        self._mouse.wait()

    def stop(self) -> None:
        listeners = [x for x in (self._keyboard, self._mouse) if x is not None]
        _disable_record_contexts(listeners)
        for listener in listeners:
            listener.join(5)
            if listener.is_alive():
                listener.stop()
                listener.join(5)
            # Stopped through its record context; keep pynput from disabling it again on a
            # connection its own thread has already closed.
            listener._running = False


def _disable_record_contexts(listeners: list[Any]) -> None:
    """Stop RECORD delivery from a connection of our own.

    pynput disables its context on the recording connection itself, where the request
    stays buffered behind a blocking read until the next input event arrives — so a stop
    could hang until someone touched the mouse. The X RECORD spec has the disable sent on
    another connection; this does that.
    """
    try:
        from Xlib import display, error
    except ImportError:  # not X11: pynput's own stop() is all there is
        for listener in listeners:
            listener.stop()
        return
    try:
        control = display.Display()
    except error.DisplayError:
        return
    try:
        for listener in listeners:
            context = getattr(listener, "_context", None)
            if context is not None:
                control.record_disable_context(context)
        control.sync()
    except error.XError:
        pass
    finally:
        control.close()
