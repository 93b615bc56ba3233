"""``apprentice dataset``: build training datasets from recordings, and look inside them."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from apprentice.errors import ConfigError

app = typer.Typer(help="Build datasets from recordings and inspect them.", no_args_is_help=True)
console = Console(stderr=True)
FORMATS_HELP = "Comma-separated: parquet (Hugging Face), osworld, agentnet, computer13, wds."


@app.command()
def build(
    source: Path = typer.Option(..., "--from", help="A spool folder written by `apprentice record`."),
    out: Path = typer.Option(..., "--out", "-o", help="A new (or empty) folder for the dataset."),
    formats: str = typer.Option("parquet", "--format", "-f", help=FORMATS_HELP),
    key_file: Path | None = typer.Option(None, "--key-file", help="Spool key if not the default."),
) -> None:
    """Turn a local recording into steps and episodes in the formats agent builders train on.

    Works on a local recording with no server. The result loads with
    `datasets.load_dataset(OUT, "steps")`; see docs/dataset-format.md.

    Example: apprentice dataset build --from ~/recordings/today --out ./ds --format parquet,osworld
    """
    from apprentice.pipeline import build_dataset
    from apprentice.spool import open_spool

    chosen = tuple(f.strip() for f in formats.split(",") if f.strip())
    if not chosen:
        raise ConfigError("no dataset format given; " + FORMATS_HELP)
    reader = open_spool(source, key_file)
    events = list(reader.events())
    with Progress(
        TextColumn("{task.description:<12}"), BarColumn(), TaskProgressColumn(),
        TimeElapsedColumn(), console=console, transient=False,
    ) as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=max(total, 1))
            progress.update(tasks[stage], completed=done, total=max(total, 1))

        result = build_dataset(events, reader.load_frame, out, chosen, progress=report)
    for problem in reader.problems:
        console.print(f"[yellow]warning[/]: skipped damaged record: {problem}")
    summary = result.dataset
    console.print(
        f"[green]built[/] {len(summary.episodes)} episodes, "
        f"{summary.num_steps} steps → {out} "
        f"({', '.join(chosen)}). Next: apprentice dataset inspect {out}"
    )


@app.command()
def inspect(
    directory: Path = typer.Argument(..., help="A dataset folder made by `dataset build`."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Summarise a dataset: episodes, steps, the action mix, outcomes, images."""
    from apprentice.pipeline import inspect_dataset

    info = inspect_dataset(directory)
    if as_json:
        typer.echo(json.dumps(info, indent=2, default=str))
        return
    out = Console()
    table = Table(title=f"dataset {directory}", show_header=False)
    for key in ("name", "version", "formats", "episodes", "steps", "images", "image_bytes"):
        if key in info:
            table.add_row(key, str(info[key]))
    out.print(table)
    mix = info.get("action_mix") or {}
    if mix:
        chart = Table(title="action mix")
        chart.add_column("action")
        chart.add_column("steps", justify="right")
        chart.add_column("")
        peak = max(mix.values())
        for action, count in sorted(mix.items(), key=lambda kv: -kv[1]):
            chart.add_row(action, str(count), "█" * max(1, round(30 * count / peak)))
        out.print(chart)
    if info.get("missing_files"):
        console.print(f"[red]missing files[/]: {info['missing_files']}")
