"""``apprentice agent``: the endpoint daemon — sync with the collector, upload the spool, and
(with ``--record``) run the recorder while the device may record (docs/governance.md)."""

from __future__ import annotations

import threading
from pathlib import Path

import typer


def agent(
    spool: Path = typer.Option(..., "--spool", help="The spool folder the recorder writes."),
    key_file: Path | None = typer.Option(None, "--key-file", help="Spool key (default: its usual place)."),
    device_dir: Path | None = typer.Option(None, "--device-dir", help="Enrolled device folder."),
    interval: float = typer.Option(30.0, "--interval", min=0.1, help="Seconds between upload passes."),
    once: bool = typer.Option(False, "--once", help="Sync and upload once, then exit."),
    record: bool = typer.Option(
        False, "--record/--no-record",
        help="Also run the recorder, once consent, policy and the organisation allow it."),
    sync: bool = typer.Option(True, "--sync/--no-sync",
                              help="Sync policy, consent, exemption and pause with the collector."),
    sync_interval: float = typer.Option(10.0, "--sync-interval", min=0.5, help="Seconds between syncs."),
) -> None:
    """Sync with the collector, seal each closed spool segment to your contributor key and
    upload it, and with --record run the recorder.

    Every sync reports this device's state (never content) and applies what the collector
    says: the organisation's policy, your consent from the portal, exemption, and pause or
    resume requests. Until the organisation approved its DPIA and you accepted the notice in
    the portal, nothing is recorded. Segments are deleted only after the collector
    acknowledges them; while it is away the spool keeps recording within its size cap.

    Example: apprentice agent --spool ~/recordings/agent --record
    """
    from apprentice.capture.device_state import DeviceState
    from apprentice.client import load_identity
    from apprentice.embedded.agent_loop import AgentLoop

    loop = AgentLoop(spool, DeviceState.default(), load_identity(device_dir), key_file=key_file,
                     record=record, sync=sync, upload_interval=interval, sync_interval=sync_interval,
                     echo=lambda line: typer.echo(line, err=True))
    try:
        loop.run(threading.Event(), once=once)
    except KeyboardInterrupt:
        pass
    finally:
        loop.close()
