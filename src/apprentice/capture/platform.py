"""Which desktop we are on, and whether it can be recorded.

Wayland is refused: it deliberately gives no client a global view of input or other
windows, so an X11 recorder under XWayland would silently see only X11 apps — a recording
that looks complete and is not. We say so instead.
"""

from __future__ import annotations

import os
import sys

from apprentice.errors import UnsupportedPlatform


def platform_name() -> str:
    if sys.platform.startswith("linux"):
        return "linux-x11"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform == "win32":
        return "windows"
    return sys.platform


def check_recordable(environ: dict[str, str] | None = None) -> str:
    """Return the platform name, or raise UnsupportedPlatform with what to do instead."""
    env = os.environ if environ is None else environ
    name = platform_name()
    if name != "linux-x11":
        return name
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        raise UnsupportedPlatform(
            "this is a Wayland session, which does not let any program see other windows' "
            "input; log in with an X11 (Xorg) session to record, or use --display to record "
            "a virtual X display"
        )
    if not env.get("DISPLAY"):
        raise UnsupportedPlatform(
            "no X display: DISPLAY is not set; run inside a desktop session or pass "
            "--display :N (for a virtual display, start Xvfb first or use `apprentice up --demo`)"
        )
    return name
