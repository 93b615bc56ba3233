"""`apprentice tray` in a real system tray (trayer, an XEmbed tray) on Xvfb."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apprentice.capture.device_state import DeviceState
from apprentice.demo.xvfb import VirtualDisplay, xdotool
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.display


def _xwininfo(display: VirtualDisplay, *args: str) -> str:
    return subprocess.run(["xwininfo", *args], env=display.env(), capture_output=True, text=True).stdout


def _icon_pixels(display: VirtualDisplay, wid: str) -> set[tuple[int, int, int]]:
    import os

    import mss

    info = _xwininfo(display, "-id", wid)
    x = int(re.search(r"Absolute upper-left X:\s+(-?\d+)", info).group(1))  # type: ignore[union-attr]
    y = int(re.search(r"Absolute upper-left Y:\s+(-?\d+)", info).group(1))  # type: ignore[union-attr]
    w = int(re.search(r"Width:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    h = int(re.search(r"Height:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    os.environ["DISPLAY"] = display.display or ""
    with mss.MSS() as grabber:
        shot = grabber.grab({"left": x, "top": y, "width": w, "height": h})
    return set(shot.pixels[r][c] for r in range(shot.height) for c in range(shot.width))  # type: ignore[misc]


def test_the_tray_shows_the_state_and_follows_a_pause(display: VirtualDisplay, tmp_path: Path) -> None:
    if shutil.which("trayer") is None:
        pytest.skip("needs trayer, an XEmbed system tray (apt-get install trayer)")
    env = display.env()
    env["PYSTRAY_BACKEND"] = "xorg"
    # The icon starts before the tray, as at a login where the panel comes up late: it must
    # dock once the tray appears (this order also removes a race the test used to lose).
    with (tmp_path / "tray.log").open("wb") as log:
        tray = subprocess.Popen([sys.executable, "-m", "apprentice", "tray", "--interval", "0.2"],
                                env=env, stdout=log, stderr=log)
    tray_host: subprocess.Popen[bytes] | None = None
    try:
        wait_until(lambda: bool(xdotool(display, "search", "--classname", "apprenticeSystemTrayIcon",
                                        check=False).split()), 20)
        tray_host = subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "64",
             "--height", "32"], env=display.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        found: list[str] = []

        def embedded() -> bool:
            ids = xdotool(display, "search", "--classname", "apprenticeSystemTrayIcon", check=False).split()
            if not ids:
                return False
            parent = re.search(r"Parent window id: (0x[0-9a-f]+)", _xwininfo(display, "-tree", "-id", ids[0]))
            root = re.search(r"Root window id: (0x[0-9a-f]+)", _xwininfo(display, "-tree", "-id", ids[0]))
            if parent and root and parent.group(1) != root.group(1):  # reparented by the tray
                found[:] = ids[:1]
                return True
            return False

        wait_until(embedded, 20)
        wid = found[0]
        name = lambda: xdotool(display, "getwindowname", wid, check=False).strip()  # noqa: E731
        assert name().startswith("apprentice: not recording")
        grey = (140, 140, 140)
        wait_until(lambda: grey in _icon_pixels(display, wid), 10)

        DeviceState.default().set_pause(datetime.now(UTC) + timedelta(minutes=10))
        wait_until(lambda: name().startswith("apprentice: paused"), 10)
        assert "min left" in name()
        wait_until(lambda: (230, 159, 0) in _icon_pixels(display, wid), 10)

        DeviceState.default().set_pause(None)
        wait_until(lambda: name().startswith("apprentice: not recording"), 10)
    finally:
        tray.terminate()
        tray.wait(10)
        if tray_host is not None:
            tray_host.terminate()
            tray_host.wait(10)
