"""Entry point of the ``apprentice`` command; each sub-command lives in its own module."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from apprentice import __version__
from apprentice.errors import ApprenticeError

# name -> (module under apprentice.cli, attribute, is a sub-app, context settings). A command's
# module is imported only when that command runs or help lists it: `apprentice record` must not
# pay for the server, pipeline or report commands' imports (rich tables, markdown, ...) for hours.
_COMMANDS: dict[str, tuple[str, str, bool, dict[str, Any] | None]] = {
    "record": ("record_cmd", "record", False, None),
    "inspect": ("inspect_cmd", "inspect", False, None),
    "up": ("up_cmd", "up", False, None),
    "consent": ("consent_cmd", "app", True, None),
    "dataset": ("dataset_cmd", "app", True, None),
    "pause": ("control_cmd", "pause", False, None),
    "resume": ("control_cmd", "resume", False, None),
    "status": ("control_cmd", "status", False, None),
    "tray": ("tray_cmd", "tray", False, None),
    "replay": ("replay_cmd", "replay", False, None),
    "task": ("task_cmd", "app", True, None),
    "server": ("server_cmd", "app", True, None),
    "doctor": ("doctor_cmd", "doctor", False, None),
    "enroll": ("enroll_cmd", "enroll", False, None),
    "agent": ("agent_cmd", "agent", False, None),
    "forget-me": ("forget_cmd", "forget_me", False, None),
    "keys": ("keys_cmd", "app", True, None),
    "pipeline": ("pipeline_cmd", "app", True, None),
    "browser": ("browser_cmd", "app", True, None),
    "browser-host": ("browser_cmd", "host", False,
                     {"allow_extra_args": True, "ignore_unknown_options": True}),
    "audit": ("audit_cmd", "app", True, None),
}


class _LazyGroup(TyperGroup):
    """The top-level group: builds a sub-command from its module on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        # Typer lists commands before sub-apps; keep that order.
        lazy = sorted(_COMMANDS, key=lambda n: _COMMANDS[n][2])
        return [*lazy, *(n for n in super().list_commands(ctx) if n not in _COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            self.add_command(_load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)


def _load(name: str) -> Any:
    module_name, attr, is_app, settings = _COMMANDS[name]
    target = getattr(importlib.import_module(f"apprentice.cli.{module_name}"), attr)
    if is_app:
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    single.command(name, context_settings=settings)(target)
    return typer.main.get_command(single)


app = typer.Typer(
    cls=_LazyGroup,
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


def run() -> None:
    """Console-script entry: turn our errors into one line and a non-zero exit."""
    try:
        app()
    except ApprenticeError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
