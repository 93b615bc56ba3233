"""``apprentice forget-me``: withdraw — the collector destroys your key and your uploads."""

from __future__ import annotations

from pathlib import Path

import typer


def forget_me(
    device_dir: Path | None = typer.Option(None, "--device-dir", help="Enrolled device folder."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Ask the collector to forget you: your key and your uploads are destroyed.

    Nothing you uploaded can be read by anyone again; datasets withdraw what came from it.

    Example: apprentice forget-me
    """
    from apprentice.client import Uploader, load_identity

    identity = load_identity(device_dir)
    if not yes:
        typer.confirm("Destroy everything you uploaded? This cannot be undone", abort=True)
    uploader = Uploader(identity)
    try:
        doc = uploader.forget_me()
    finally:
        uploader.close()
    typer.echo(f"forgotten: {doc['chunks_deleted']} uploads deleted, key destroyed")
