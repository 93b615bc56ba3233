"""Integration fixtures: one real X server (Xvfb + openbox) for the whole run.

Tests marked ``display`` need Xvfb, xdotool and openbox; where they are missing the tests
are skipped with the reason (CI installs them, so CI always runs these).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from apprentice.demo.xvfb import VirtualDisplay, notepad_command, wait_for_window

_TOOLS = ("Xvfb", "xdotool", "openbox", "xprop")


@pytest.fixture(scope="session")
def xserver() -> Iterator[VirtualDisplay]:
    missing = [t for t in _TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install xvfb xdotool openbox x11-utils)")
    with VirtualDisplay(1280, 800) as display:
        yield display


@pytest.fixture
def display(xserver: VirtualDisplay, monkeypatch: pytest.MonkeyPatch) -> VirtualDisplay:
    monkeypatch.setenv("DISPLAY", xserver.display or "")
    return xserver


@pytest.fixture
def open_notepad(display: VirtualDisplay, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Open a real editor window; returns its X window id. Closed after the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def opener(title: str, wm_class: str, geometry: str = "640x420+40+40",
               save_to: Path | None = None) -> str:
        cmd = notepad_command(title, wm_class, save_to) + ["--geometry", geometry]
        procs.append(subprocess.Popen(cmd, env=display.env()))
        return wait_for_window(display, title)

    yield opener
    for proc in procs:
        proc.terminate()
        proc.wait(5)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition the system under test will make true (not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.02)


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return Path(os.environ["APPRENTICE_KEY_DIR"])


@pytest.fixture(scope="session")
def a11y_session_bus(xserver: VirtualDisplay) -> Iterator[str]:
    """A D-Bus session bus on the virtual display; AT-SPI's bus launcher starts on demand.

    Yields the session bus address. The accessibility bus (at-spi-bus-launcher and
    at-spi2-registryd, Debian at-spi2-core) is activated through it by the first client.
    """
    launcher = Path("/usr/libexec/at-spi-bus-launcher")
    if shutil.which("dbus-daemon") is None or not launcher.exists():
        pytest.skip("needs dbus-daemon and at-spi2-core (apt-get install dbus-daemon at-spi2-core)")
    out = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
        env=xserver.env(), capture_output=True, text=True, timeout=30, check=True,
    ).stdout.split()
    address, pid = out[0], int(out[1])
    try:
        yield address
    finally:
        os.kill(pid, 15)  # the launcher and the accessibility bus end with their session bus


@pytest.fixture
def a11y_display(display: VirtualDisplay, a11y_session_bus: str,
                 monkeypatch: pytest.MonkeyPatch) -> VirtualDisplay:
    """The virtual display with the session (and so the accessibility) bus in the environment."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", a11y_session_bus)
    return display
