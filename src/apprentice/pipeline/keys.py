"""Key names: from what the recorder saw (pynput's names) to what pyautogui accepts.

Actions hold pyautogui key names (``"enter"``, ``"pagedown"``, ``"ctrl"``, ``"win"``), so
every renderer can use them as they are; only macOS rendering swaps ``win`` for
``command``. This module is a table and three small lookups; it never sees more than one
key at a time and never records what was typed.
"""

from __future__ import annotations

# Modifier keys as pynput names them, folded to one name per modifier. AltGr is not
# here: it selects a level of the layout (``@`` on a German keyboard), so what it
# produces is text, never a hotkey.
MODIFIERS: dict[str, str] = {
    "shift": "shift", "shift_l": "shift", "shift_r": "shift",
    "ctrl": "ctrl", "ctrl_l": "ctrl", "ctrl_r": "ctrl",
    "alt": "alt", "alt_l": "alt", "alt_r": "alt",
    "cmd": "win", "cmd_l": "win", "cmd_r": "win",
    "super": "win", "super_l": "win", "super_r": "win",
}
LEVEL_KEYS = frozenset({"alt_gr", "iso_level3_shift"})
# Modifiers that make a key press a hotkey; Shift alone only changes the character.
HOTKEY_MODIFIERS = frozenset({"ctrl", "alt", "win"})
# The order modifiers are written in, as people say them: ctrl+alt+shift+win.
MODIFIER_ORDER = ("ctrl", "alt", "shift", "win")

# pynput special-key names whose pyautogui name differs. Names not listed are the same
# in both (enter, esc, tab, backspace, delete, space, up, down, left, right, home, end,
# insert, pause, f1…f24).
_PYAUTOGUI_NAMES: dict[str, str] = {
    "page_up": "pageup",
    "page_down": "pagedown",
    "caps_lock": "capslock",
    "num_lock": "numlock",
    "scroll_lock": "scrolllock",
    "print_screen": "printscreen",
    "menu": "apps",
    "media_play_pause": "playpause",
    "media_volume_mute": "volumemute",
    "media_volume_up": "volumeup",
    "media_volume_down": "volumedown",
    "media_next": "nexttrack",
    "media_previous": "prevtrack",
    "return": "enter",
    "escape": "esc",
    "alt_gr": "altright",
}


def modifier_of(key: str) -> str | None:
    """Return the folded modifier name for a pynput key name, or None."""
    return MODIFIERS.get(key.lower()) if len(key) > 1 else None


def special_name(key: str) -> str:
    """Return the pyautogui name of a pynput special key (``page_down`` → ``pagedown``)."""
    lowered = key.lower()
    return _PYAUTOGUI_NAMES.get(lowered, lowered)


def hotkey_key(key: str, char: str | None) -> str:
    """Return the key of a hotkey as pyautogui names it: ``ctrl`` + ``S`` → ``s``."""
    text = char if char else key
    if len(text) == 1:
        # With Ctrl held some platforms report the control code (``\\x13`` for Ctrl+S);
        # map it back to the letter that was pressed.
        if ord(text) < 32:
            text = chr(ord(text) + 96)
        return text.lower()
    return special_name(key)


def ordered(modifiers: set[str] | frozenset[str]) -> tuple[str, ...]:
    """Return ``modifiers`` in the canonical order ctrl, alt, shift, win."""
    return tuple(m for m in MODIFIER_ORDER if m in modifiers)


def printable_char(key: str, char: str | None, caps_lock: bool) -> str | None:
    """Return the character a key press types, or None for a special key.

    ``char`` already carries Shift (and AltGr); ``caps_lock`` says whether the reducer
    must still apply Caps Lock, which inverts the case of letters only.
    """
    text = char if char else (key if len(key) == 1 else None)
    if key == "space":
        text = " "
    if text is None or len(text) != 1 or not text.isprintable():
        return None
    if caps_lock and text.isalpha():
        flipped = text.upper() if text.islower() else text.lower()
        # Some letters change length when their case changes (ß → SS); keep those.
        if len(flipped) == 1:
            text = flipped
    return text
