"""Registering the native-messaging host ``com.apprentice.agent`` with Chromium-family browsers.

Chrome finds a host through a JSON manifest named after it in a ``NativeMessagingHosts``
folder: per user in the browser's configuration folder (or a ``--user-data-dir``), or
system-wide for managed fleets (docs/browser.md). The manifest's ``path`` must be an
executable that takes no options of ours, so we write a small launcher script next to the
device state that runs this Python with ``-m apprentice.capture.browser.host --socket …``.
``allowed_origins`` names only the apprentice extension.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from apprentice.capture.browser.channel import socket_path
from apprentice.errors import ConfigError
from apprentice.fileio import write_atomically

HOST_NAME = "com.apprentice.agent"
#: The id fixed by the public key in extensions/chromium/manifest.json.
EXTENSION_ID = "gekgdmgoncjlfcemhfndfhlpnfangaeh"
_ID = re.compile(r"^[a-p]{32}$")

#: Per-user configuration folders, relative to ~/.config (Linux).
USER_BROWSER_DIRS = {
    "chromium": "chromium",
    "chrome": "google-chrome",
    "chrome-beta": "google-chrome-beta",
    "edge": "microsoft-edge",
    "brave": "BraveSoftware/Brave-Browser",
}


@dataclass(frozen=True)
class Installed:
    manifest: Path
    launcher: Path


def host_manifest(launcher: Path, extension_ids: list[str]) -> dict[str, object]:
    for ext in extension_ids:
        if not _ID.match(ext):
            raise ConfigError(f"{ext!r} is not an extension id (32 letters a-p)")
    return {
        "name": HOST_NAME,
        "description": "apprentice recorder: browser context (origin, private windows, clicked element)",
        "path": str(launcher),
        "type": "stdio",
        "allowed_origins": [f"chrome-extension://{ext}/" for ext in extension_ids],
    }


def write_launcher(device_root: Path, python: str | None = None) -> Path:
    """The executable Chrome starts: this interpreter, the host module, our socket."""
    launcher = device_root / "browser" / "apprentice-browser-host"
    launcher.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    script = (
        "#!/bin/sh\n"
        "# Written by `apprentice browser install`: Chrome starts this for the apprentice extension.\n"
        f"exec {shlex.quote(python or sys.executable)} -m apprentice.capture.browser.host "
        f"--socket {shlex.quote(str(socket_path(device_root)))} \"$@\"\n"
    )
    write_atomically(launcher, script.encode(), durable=False)
    os.chmod(launcher, 0o700)
    return launcher


def install(device_root: Path, *, user_data_dir: Path | None = None, browser: str = "chromium",
            extension_ids: list[str] | None = None) -> Installed:
    """Write the launcher and the host manifest for this user (or into ``user_data_dir``)."""
    if user_data_dir is not None:
        folder = user_data_dir / "NativeMessagingHosts"
    else:
        if browser not in USER_BROWSER_DIRS:
            raise ConfigError(f"unknown browser {browser!r}; choose from {sorted(USER_BROWSER_DIRS)}")
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        folder = base / USER_BROWSER_DIRS[browser] / "NativeMessagingHosts"
    launcher = write_launcher(device_root)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / f"{HOST_NAME}.json"
    body = host_manifest(launcher, extension_ids or [EXTENSION_ID])
    write_atomically(manifest, (json.dumps(body, indent=2) + "\n").encode(), durable=False)
    os.chmod(manifest, 0o644)
    return Installed(manifest=manifest, launcher=launcher)
