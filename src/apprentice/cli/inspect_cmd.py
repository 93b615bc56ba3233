"""``apprentice inspect``: a readable summary of a spool, or its events as JSON Lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from apprentice import events as ev
from apprentice.spool import open_spool
from apprentice.spool.summary import summarize


def inspect(
    spool: Path = typer.Argument(..., help="A spool folder written by `apprentice record`."),
    events: bool = typer.Option(False, "--events", help="Print decoded events as JSON Lines."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    key_file: Path | None = typer.Option(None, "--key-file", help="Spool key if not the default."),
) -> None:
    """Summarise a spool: duration, events by kind, windows, frames, gaps, bytes.

    With --events, print every decoded event as one JSON object a line on stdout, in
    recording order (pipe it to jq). Damaged records are reported on stderr and skipped.
    """
    reader = open_spool(spool, key_file)
    err = Console(stderr=True)
    if events:
        out = sys.stdout
        for event in reader.events():
            out.write(json.dumps(ev.to_dict(event), ensure_ascii=False) + "\n")
        for problem in reader.problems:
            err.print(f"[yellow]warning[/]: skipped damaged record: {problem}")
        return
    summary = summarize(reader)
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False))
        return
    console = Console()
    table = Table(title=f"spool {spool}", show_header=False)
    table.add_row("sessions", str(summary.sessions))
    table.add_row("duration", f"{summary.duration_s:.1f} s")
    table.add_row("events", f"{summary.events}")
    for kind, count in sorted(summary.by_kind.items()):
        table.add_row(f"  {kind}", str(count))
    table.add_row("frames", f"{summary.frames} ({summary.frame_blobs} distinct images)")
    for trigger, count in sorted(summary.frames_by_trigger.items()):
        table.add_row(f"  {trigger}", str(count))
    table.add_row("gaps", ", ".join(f"{k}×{v}" for k, v in summary.gaps.items()) or "none")
    table.add_row(
        "bytes", ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in summary.bytes.items())
    )
    console.print(table)
    if summary.windows:
        windows = Table(title="windows seen", show_header=True)
        windows.add_column("application — title")
        windows.add_column("focus events", justify="right")
        for name, count in summary.windows.most_common(20):
            windows.add_row(name, str(count))
        console.print(windows)
    for problem in summary.problems:
        err.print(f"[yellow]warning[/]: skipped damaged record: {problem}")
