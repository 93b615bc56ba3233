"""Entry point of the ``apprentice`` command; each sub-command lives in its own module."""

from __future__ import annotations

import logging
import sys

import typer

from apprentice import __version__
from apprentice.cli import (
    agent_cmd,
    audit_cmd,
    consent_cmd,
    control_cmd,
    dataset_cmd,
    doctor_cmd,
    enroll_cmd,
    forget_cmd,
    inspect_cmd,
    keys_cmd,
    record_cmd,
    replay_cmd,
    server_cmd,
    task_cmd,
    tray_cmd,
    up_cmd,
)
from apprentice.errors import ApprenticeError

app = typer.Typer(
    name="apprentice",
    help=(
        "Record how work gets done on a computer — with consent, inside allowlisted work "
        "apps only, encrypted on the device — and turn it into training data for "
        "computer-use agents."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"apprentice {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more (never content)."),
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


app.command("record")(record_cmd.record)
app.command("inspect")(inspect_cmd.inspect)
app.command("up")(up_cmd.up)
app.add_typer(consent_cmd.app, name="consent")
app.add_typer(dataset_cmd.app, name="dataset")
app.command("pause")(control_cmd.pause)
app.command("resume")(control_cmd.resume)
app.command("status")(control_cmd.status)
app.command("tray")(tray_cmd.tray)
app.command("replay")(replay_cmd.replay)
app.add_typer(task_cmd.app, name="task")
app.add_typer(server_cmd.app, name="server")
app.command("doctor")(doctor_cmd.doctor)
app.command("enroll")(enroll_cmd.enroll)
app.command("agent")(agent_cmd.agent)
app.command("forget-me")(forget_cmd.forget_me)
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(audit_cmd.app, name="audit")


def run() -> None:
    """Console-script entry: turn our errors into one line and a non-zero exit."""
    try:
        app()
    except ApprenticeError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
