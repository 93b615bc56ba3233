"""``apprentice up``: everything on this machine on the embedded default (DESIGN §3).

One process runs the collector and the portal (127.0.0.1), the key service, the pipeline
and the local agent, with SQLite and local folders (``apprentice.embedded``). ``--demo``
adds a virtual display and a scripted contributor (``apprentice.demo.scripted``).
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from types import FrameType

import typer
from rich.console import Console

from apprentice.errors import ExposureRefused

#: exit status when the exposure guard refuses (as `apprentice server`)
EXIT_REFUSED = 3
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def up(
    demo: bool = typer.Option(
        False, "--demo", help="Use a virtual display and a scripted contributor (no desktop needed)."
    ),
    data_dir: Path = typer.Option(
        Path("apprentice-data"), "--data-dir", help="Where the database, chunks, spool and datasets live."
    ),
    key_dir: Path | None = typer.Option(
        None, "--key-dir", help="Keys and this machine's private settings [default: DATA-keys beside DATA]."
    ),
    port: int | None = typer.Option(
        None, "--port", min=0, max=65535,
        help="Port on 127.0.0.1 [default: 8750, the demo any free one; 0: any free one]."),
    serve: bool = typer.Option(
        False, "--serve", help="With --demo: keep serving the portal afterwards (Ctrl+C stops)."),
    record: bool | None = typer.Option(
        None, "--record/--no-record",
        help="Run the recorder in the local agent [default: when $DISPLAY is set]."),
) -> None:
    """Run the whole system on this machine with nothing to configure.

    The first start creates the keys (outside the data folder), a privacy-officer account, a
    contributor account for you and an ML-engineer account, prints their portal logins once,
    and enrols this machine's agent. Nothing is recorded until the privacy officer approves
    the DPIA and you accept the notice in the portal. Ctrl+C stops everything cleanly.

    Examples: apprentice up
              apprentice up --demo --data-dir /tmp/demo    (a virtual display, a scripted contributor)
    """
    os.umask(0o077)  # what the collector and pipeline create is this user's alone
    try:
        if demo:
            from apprentice.demo.scripted import run_demo

            run_demo(data_dir, out, key_dir=key_dir, port=0 if port is None else port, serve=serve,
                     wait=_wait_for_stop)
            return
        _run(data_dir, key_dir, 8750 if port is None else port, record)
    except ExposureRefused as exc:
        for line in exc.lines:
            typer.echo(line, err=True)
        raise typer.Exit(EXIT_REFUSED) from None


def _run(data_dir: Path, key_dir: Path | None, port: int, record: bool | None) -> None:
    from apprentice.embedded.system import EmbeddedSystem

    system = EmbeddedSystem(data_dir, key_dir=key_dir, port=port, record=record,
                            echo=lambda line: err.print(f"agent: {line}"))
    system.start()
    try:
        for line in system.warnings:
            err.print(line, markup=False)
        show_start(system)
        if system.first_start is not None:
            out.print("Capture starts only after two decisions in the portal:")
            contributor = system.record_data["logins"]["contributor"]
            out.print(f"  1. sign in as [bold]officer[/], review the policy, approve the DPIA: "
                      f"{system.url}/officer")
            out.print(f"  2. sign in as [bold]{contributor}[/], read the notice and accept it")
        if not system.record:
            out.print("The local agent syncs and uploads; there is no display here, so it does not record "
                      "(set DISPLAY, or try `apprentice up --demo`).")
        out.print("Ctrl+C stops everything.")
        _wait_for_stop()
    finally:
        err.print("stopping: the agent uploads what it has, the pipeline finishes its run …")
        system.stop()
    err.print("stopped")


def show_start(system: object) -> None:
    """The portal URL, the one-time secrets of a first start, where things are."""
    from apprentice.embedded.system import EmbeddedSystem

    assert isinstance(system, EmbeddedSystem)
    layout = system.layout
    out.print(f"[bold]apprentice[/] is running: portal [link]{system.url}/login[/link]")
    out.print(f"  data: {layout.data}   keys and settings: {layout.private}")
    first = system.first_start
    if first is not None:
        out.print("[bold]First start.[/] These portal logins and the privacy officer's API token are "
                  "shown once and kept nowhere (only their hashes are stored):")
        for login in first.logins:
            out.print(f"  {login.role:<18} login [bold]{login.login}[/]  password [bold]{login.password}[/]")
        out.print(f"  privacy officer API token: {first.officer_token}")
        out.print(f"  reset a password: apprentice server accounts set-password --config {layout.config} "
                  "--account ID --login NAME")
    out.print(f"  local agent: `APPRENTICE_CONFIG_DIR={layout.private} apprentice status`")


def _wait_for_stop() -> None:
    """Block until Ctrl+C or SIGTERM."""
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
