"""``apprentice replay``: re-execute one episode of a dataset on an X display."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)


def replay(
    directory: Path = typer.Argument(..., help="A dataset folder made by `dataset build` (parquet)."),
    episode: str = typer.Option(..., "--episode", "-e", help="The episode_id to replay."),
    display: str | None = typer.Option(None, "--display", help="X display, e.g. :1 (default: $DISPLAY)."),
    speed: float = typer.Option(1.0, "--speed", min=0.01, help="2 plays twice as fast; 0.5 half."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the xdotool commands, run nothing."),
) -> None:
    """Re-execute an episode's actions through XTEST (xdotool), with the recorded timing.

    Coordinates are absolute, so open the same windows at the same places first.

    Example: apprentice replay ./ds --episode 3f2a9c0d1b4e5f60 --display :1 --speed 2
    """
    from apprentice.pipeline.load import load_episode_actions
    from apprentice.pipeline.playback import check_display, format_plan, play

    actions = load_episode_actions(directory, episode)
    if dry_run:
        typer.echo("\n".join(format_plan(actions, speed)))
        return
    target = check_display(display or os.environ.get("DISPLAY"))
    console.print(f"replaying {len(actions)} steps of episode {episode} on {target} at {speed:g}×")
    play(actions, target, speed,
         on_step=lambda i, a: console.print(f"[dim]step {i}[/] {a.type}", highlight=False))
    console.print("[green]done[/]")
