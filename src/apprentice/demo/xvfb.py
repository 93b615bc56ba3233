"""Start and stop a real X server (Xvfb) with an EWMH window manager (openbox).

Xvfb picks a free display number itself (``-displayfd``), so parallel runs never collide.
The RECORD extension (what input hooks use) and XTEST (what xdotool injects through) are
enabled explicitly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType

from apprentice.errors import ConfigError

_NEEDED = ("Xvfb", "xdotool", "openbox", "xprop")


class VirtualDisplay:
    def __init__(self, width: int = 1280, height: int = 800, window_manager: bool = True) -> None:
        self.width, self.height = width, height
        self._window_manager = window_manager
        self._procs: list[subprocess.Popen[bytes]] = []
        self.display: str | None = None

    def start(self) -> VirtualDisplay:
        missing = [tool for tool in _NEEDED if shutil.which(tool) is None]
        if missing:
            raise ConfigError(
                f"missing {', '.join(missing)}; install them with: "
                "sudo apt-get install xvfb xdotool openbox x11-utils"
            )
        read_fd, write_fd = os.pipe()
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
             f"{self.width}x{self.height}x24", "-nolisten", "tcp",
             "+extension", "RECORD", "+extension", "XTEST", "-noreset"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        self._procs.append(xvfb)
        number = b""
        with os.fdopen(read_fd, "rb") as pipe:
            while not number.endswith(b"\n"):
                chunk = pipe.read(1)
                if not chunk:
                    self.stop()
                    raise ConfigError("Xvfb exited before announcing its display number")
                number += chunk
        self.display = f":{int(number)}"
        if self._window_manager:
            wm = subprocess.Popen(
                ["openbox", "--sm-disable"], env=self.env(),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            self._procs.append(wm)
            self._wait_for_wm()
        return self

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env.pop("WAYLAND_DISPLAY", None)
        env["DISPLAY"] = self.display or ""
        return env

    def _wait_for_wm(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=self.env(),
                capture_output=True,
            )
            # An EWMH window manager announces itself with this root property.
            if b"window id" in probe.stdout:
                return
            time.sleep(0.05)
        raise ConfigError("the window manager (openbox) did not start on the virtual display")

    def stop(self) -> None:
        for proc in reversed(self._procs):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()

    def __enter__(self) -> VirtualDisplay:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def xdotool(display: VirtualDisplay, *args: str, check: bool = True) -> str:
    """Run one xdotool command on the display and return its stdout."""
    done = subprocess.run(
        ["xdotool", *args], env=display.env(), capture_output=True, text=True, timeout=30
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"xdotool {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def wait_for_window(display: VirtualDisplay, name: str, timeout: float = 15.0) -> str:
    """Wait until a window whose title matches ``name`` is mapped; return its id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = xdotool(display, "search", "--onlyvisible", "--name", name, check=False).split()
        if found:
            return found[0]
        time.sleep(0.05)
    raise TimeoutError(f"no window named {name!r} appeared")


def notepad_command(title: str, wm_class: str, save_to: Path | None = None) -> list[str]:
    """The command line that opens the demo notepad (a small Tk text editor)."""
    import sys

    cmd = [sys.executable, "-m", "apprentice.demo.notepad", "--title", title, "--class", wm_class]
    if save_to is not None:
        cmd += ["--save-to", str(save_to)]
    return cmd
