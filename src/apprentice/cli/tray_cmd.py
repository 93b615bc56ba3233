"""``apprentice tray``: the recording state, always visible, in the desktop's system tray.

A red dot while recording, amber bars while paused (the tooltip says how long), a grey ring
when nothing is recorded (with the reason: not allowlisted, no consent, outside hours…).
The menu pauses for 15 minutes or the policy's cap, and resumes. It reads the same state
files as `apprentice status` and never sees content. Needs a tray (XEmbed system tray on
X11); without one it exits with an explanation.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import typer
from PIL import Image, ImageDraw

from apprentice.capture.device_state import DeviceState, read_status
from apprentice.errors import ConfigError

_SIZE = 64
_COLOURS = {"recording": (214, 39, 40), "paused": (230, 159, 0), "off": (140, 140, 140)}


def describe(info: dict[str, object]) -> tuple[str, str]:
    """(state, tooltip) for a status dict from :func:`read_status`."""
    if "paused_until" in info:
        minutes = int(info.get("pause_left_s", 0)) // 60 + 1  # type: ignore[call-overload]
        return "paused", f"apprentice: paused, {minutes} min left"
    if info.get("recording"):
        keys = "" if info.get("keys", True) else " (keystrokes off)"
        return "recording", f"apprentice: recording{keys}"
    return "off", f"apprentice: not recording ({info.get('reason', 'unknown')})"


def icon_image(state: str) -> Image.Image:
    image = Image.new("RGBA", (_SIZE, _SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    colour = _COLOURS[state]
    if state == "recording":
        draw.ellipse((6, 6, _SIZE - 6, _SIZE - 6), fill=colour)
    elif state == "paused":
        draw.rectangle((14, 8, 28, _SIZE - 8), fill=colour)
        draw.rectangle((36, 8, 50, _SIZE - 8), fill=colour)
    else:
        draw.ellipse((8, 8, _SIZE - 8, _SIZE - 8), outline=colour, width=8)
    return image


def tray(
    interval: float = typer.Option(1.0, min=0.2, help="Seconds between state checks."),
) -> None:
    """Show the recording state in the system tray, with pause and resume in its menu."""
    try:
        import pystray
    except Exception as exc:  # pystray picks its backend at import and needs a display
        raise ConfigError(f"no system tray available here ({type(exc).__name__}); "
                          "use `apprentice status` instead") from None

    state = DeviceState.default()
    stop = threading.Event()

    def pause(minutes: float) -> None:
        state.set_pause(datetime.now(UTC) + timedelta(minutes=minutes))

    current, tip = describe(read_status(state))
    menu = pystray.Menu(
        pystray.MenuItem("Pause 15 minutes", lambda: pause(15)),
        pystray.MenuItem("Resume", lambda: state.set_pause(None)),
        pystray.MenuItem("Quit", lambda icon: (stop.set(), icon.stop())),
    )
    icon = pystray.Icon("apprentice", icon_image(current), tip, menu)

    def watch(icon: pystray.Icon) -> None:
        nonlocal current
        icon.visible = True
        while not stop.wait(interval):
            new, text = describe(read_status(state))
            # pystray's X11 backend docks when shown and otherwise only when the icon image
            # changes: started before the panel (a login race), it would stay invisible until
            # the state changed. Setting the image again asks it to dock now.
            if new != current or getattr(icon, "_systray_manager", True) is None:
                icon.icon = icon_image(new)
                current = new
            icon.title = text

    icon.run(setup=watch)
