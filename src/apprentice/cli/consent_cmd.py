"""``apprentice consent``: read the notice, accept it, or withdraw — capture depends on it."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.markdown import Markdown

from apprentice.capture.device_state import DeviceState
from apprentice.policy import load_notice

app = typer.Typer(help="Read the notice and give or withdraw your consent.", no_args_is_help=True)
console = Console()


@app.command()
def show() -> None:
    """Print the current notice and whether you have accepted it."""
    notice = load_notice()
    console.print(Markdown(notice.text))
    accepted = DeviceState.default().consent.consent_version(notice) is not None
    console.print(
        f"\nNotice version {notice.version}: "
        + ("[green]accepted[/]" if accepted else "[yellow]not accepted[/] — nothing is recorded")
    )


@app.command()
def accept(
    yes: bool = typer.Option(False, "--yes", help="Accept without the interactive question."),
) -> None:
    """Accept the current notice. Recording can start only after this."""
    notice = load_notice()
    if not yes:
        console.print(Markdown(notice.text))
        if not typer.confirm(f"Accept notice version {notice.version}?"):
            raise typer.Exit(1)
    DeviceState.default().consent.accept(notice, datetime.now(UTC))
    console.print(f"[green]accepted[/] notice version {notice.version}")


@app.command()
def withdraw() -> None:
    """Withdraw consent. A running recorder stops capturing within a second."""
    removed = DeviceState.default().consent.withdraw()
    console.print("[green]withdrawn[/]: nothing more is recorded" if removed else "no consent was given")
