"""``apprentice enroll``: register this device with the collector."""

from __future__ import annotations

from pathlib import Path

import typer


def enroll(
    server: str = typer.Option(..., "--server", help="Collector URL, e.g. https://collector.example"),
    token: str = typer.Option(..., "--token", help="One-time enrolment token from your privacy officer."),
    device_dir: Path | None = typer.Option(
        None, "--device-dir", help="Where the device key lives (default ~/.config/apprentice/device)."
    ),
) -> None:
    """Create this device's signing key (0600) and register it with a one-time token.

    Example: apprentice enroll --server https://collector.example --token apt_…
    """
    from apprentice.client import default_identity_dir
    from apprentice.client import enroll as do_enroll

    folder = device_dir or default_identity_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    identity = do_enroll(server, token, folder)
    typer.echo(f"enrolled as {identity.device_id} for contributor {identity.contributor_id}")
