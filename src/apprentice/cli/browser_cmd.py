"""``apprentice browser install`` and ``apprentice browser-host``: the Chromium extension's link."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from apprentice.capture.browser.install import EXTENSION_ID, USER_BROWSER_DIRS, install
from apprentice.capture.device_state import DeviceState

app = typer.Typer(help="The browser extension's connection to this recorder.", no_args_is_help=True)


@app.command("install")
def install_cmd(
    user_data_dir: Path | None = typer.Option(
        None, "--user-data-dir", help="Install into this browser profile folder (as passed to "
        "chromium --user-data-dir) instead of the browser's default folder."),
    browser: str = typer.Option(
        "chromium", "--browser", help=f"Which browser's folder: {', '.join(USER_BROWSER_DIRS)}."),
    extension_id: list[str] = typer.Option(
        [EXTENSION_ID], "--extension-id", help="Extension id allowed to connect (repeatable; "
        "only needed if your organisation repacked the extension with its own key)."),
) -> None:
    """Register the native-messaging host so the extension can reach the recorder.

    Example: apprentice browser install --browser chrome
    """
    done = install(DeviceState.default().root, user_data_dir=user_data_dir, browser=browser,
                   extension_ids=list(extension_id))
    typer.echo(f"host manifest: {done.manifest}\nlauncher: {done.launcher}")


def host(args: list[str] = typer.Argument(None, hidden=True)) -> None:
    """The native-messaging host itself (Chrome starts it; not for people to run)."""
    from apprentice.capture.browser.host import main

    sys.exit(main(list(args or [])))
