"""``apprentice pause`` / ``resume`` / ``status``: the contributor's controls."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import typer
from rich.console import Console

from apprentice.capture.device_state import DeviceState, read_status
from apprentice.policy import load_policy

console = Console()


def pause(
    minutes: float | None = typer.Option(
        None, "--minutes", "-m", min=0.1, help="How long (default and maximum: the policy's cap)."
    ),
) -> None:
    """Pause recording now. It resumes by itself when the pause ends (and says so).

    Example: apprentice pause --minutes 15
    """
    state = DeviceState.default()
    cap = 30.0
    if state.policy_path.exists():
        cap = float(load_policy(state.policy_path).pause_cap_minutes)
    granted = min(minutes if minutes is not None else cap, cap)
    until = datetime.now(UTC) + timedelta(minutes=granted)
    state.set_pause(until)
    note = f" (your organisation caps pauses at {cap:g} min)" if minutes and minutes > cap else ""
    console.print(f"[yellow]paused[/] for {granted:g} min, until {until.astimezone():%H:%M}{note}")


def resume() -> None:
    """End a pause now."""
    DeviceState.default().set_pause(None)
    console.print("[green]resumed[/]")


def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show whether recording is on, paused (with time left) or in a gap, and why."""
    info = read_status(DeviceState.default())
    info["checked"] = time.time()
    if as_json:
        typer.echo(json.dumps(info))
        return
    if info.get("recording"):
        keys = "" if info.get("keys") else " (keystrokes off: secure input)"
        console.print(f"[bold red]● recording[/]{keys}")
    elif "paused_until" in info:
        console.print(f"[yellow]❚❚ paused[/], {int(info['pause_left_s']) // 60} min left")
    else:
        console.print(f"[dim]○ not recording[/] — {info.get('reason')}")
