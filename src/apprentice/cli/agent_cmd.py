"""``apprentice agent``: upload a spool's closed segments to the collector, continuously."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import typer

log = logging.getLogger("apprentice.agent")


def agent(
    spool: Path = typer.Option(..., "--spool", help="The spool folder `apprentice record` writes."),
    key_file: Path | None = typer.Option(None, "--key-file", help="Spool key (default: its usual place)."),
    device_dir: Path | None = typer.Option(None, "--device-dir", help="Enrolled device folder."),
    interval: float = typer.Option(30.0, "--interval", min=0.1, help="Seconds between upload passes."),
    once: bool = typer.Option(False, "--once", help="Upload what is ready, then exit."),
) -> None:
    """Seal each closed spool segment to your contributor key and upload it.

    Segments are deleted only after the collector acknowledges them; while it is away the
    spool keeps recording within its size cap and the agent catches up later.

    Example: apprentice agent --spool ~/recordings/today
    """
    from apprentice.client import SpoolUploader, Uploader, load_identity
    from apprentice.crypto import load_key_file
    from apprentice.errors import UploadError
    from apprentice.spool import open_layout

    identity = load_identity(device_dir)
    key = load_key_file(key_file or open_layout(spool).key_path())
    uploader = Uploader(identity)
    spool_uploader = SpoolUploader(spool, key, uploader)
    stop = threading.Event()
    try:
        while True:
            try:
                stats = spool_uploader.run_once()
                if stats.chunks:
                    typer.echo(f"uploaded {stats.chunks} chunks ({stats.bytes / 1e6:.1f} MB)", err=True)
            except UploadError as exc:
                if once:
                    raise
                log.warning("upload pass failed, will retry: %s", exc)
            if once or stop.wait(interval):
                break
    except KeyboardInterrupt:
        pass
    finally:
        uploader.close()
