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
    source: Path | None = typer.Option(None, "--from", help="A spool folder written by `apprentice record`."),
    out: Path | None = typer.Option(None, "--out", "-o", help="A new (or empty) folder for the dataset."),
    formats: str = typer.Option("parquet", "--format", "-f", help=FORMATS_HELP),
    key_file: Path | None = typer.Option(None, "--key-file", help="Spool key if not the default."),
    version: str | None = typer.Option(None, "--version", help="Build the next version of this dataset "
                                       "from the pipeline's episodes (needs --data-dir)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="The pipeline's folder."),
    pipeline_key_dir: Path | None = typer.Option(None, "--key-dir", help="Pipeline and dataset keys."),
    apps: str = typer.Option("", "--apps", help="Only episodes in any of these app ids (comma-separated)."),
    sites: str = typer.Option("", "--sites", help="Only episodes on any of these sites."),
    since: str | None = typer.Option(None, "--since", help="First month, YYYY-MM."),
    until: str | None = typer.Option(None, "--until", help="Last month, YYYY-MM."),
    sources: str = typer.Option("", "--sources", help="task, passive (default both)."),
    min_steps: int = typer.Option(2, "--min-steps", help="Quality: fewest steps an episode may have."),
    max_redacted: float = typer.Option(0.5, "--max-redacted-share",
                                       help="Quality: largest mean share of redacted pixels."),
    complete_only: bool = typer.Option(False, "--complete-only",
                                       help="Only uninterrupted, finished episodes."),
    splits: str = typer.Option("train=0.8,validation=0.1,test=0.1", "--splits", help="Split fractions."),
) -> None:
    """Turn recordings into steps and episodes in the formats agent builders train on.

    From a local recording (--from, --out; no server), or, with --version NAME --data-dir DIR,
    an immutable, encrypted version of dataset NAME from the pipeline's episodes, with
    filters and deterministic splits (export it with `apprentice dataset export`).

    Examples: apprentice dataset build --from ~/recordings/today --out ./ds --format parquet,osworld
              apprentice dataset build --version support-agent --data-dir /var/lib/apprentice/pipeline
                  --apps firefox --min-steps 3
    """
    if version is not None:
        _build_version(version, data_dir, pipeline_key_dir, apps, sites, since, until, sources, min_steps,
                       max_redacted, complete_only, splits)
        return
    if source is None or out is None:
        raise ConfigError("give --from SPOOL --out DIR (a local recording) or --version NAME --data-dir DIR")
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


def _items(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _build_version(name: str, data_dir: Path | None, key_dir: Path | None, apps: str, sites: str,
                   since: str | None, until: str | None, sources: str, min_steps: int, max_redacted: float,
                   complete_only: bool, splits: str) -> None:
    from apprentice.pipeline.service import QualityFilter, VersionSpec, build_version
    from apprentice.pipeline.service.state import open_state
    from apprentice.pipeline.service.store import STATE_KEY, SealedFiles, default_key_dir, load_or_create_key

    if data_dir is None or not (data_dir / "pipeline.db").exists():
        raise ConfigError("--version needs --data-dir, the folder of `apprentice pipeline run`")
    try:
        fractions = tuple((k.strip(), float(v)) for k, v in (p.split("=") for p in _items(splits)))
    except ValueError:
        raise ConfigError("--splits is NAME=FRACTION,… e.g. train=0.8,validation=0.1,test=0.1") from None
    spec = VersionSpec(apps=_items(apps), sites=_items(sites), since=since, until=until,
                       sources=_items(sources), splits=fractions,
                       quality=QualityFilter(min_steps, max_redacted, complete_only))
    keys = key_dir or default_key_dir()
    state = open_state(f"sqlite:///{data_dir / 'pipeline.db'}")
    try:
        store = SealedFiles(data_dir / "store", load_or_create_key(keys, STATE_KEY, data_dir))
        dataset_key = load_or_create_key(keys, f"dataset-{name}.key", data_dir)
        with Progress(TextColumn("{task.description:<12}"), BarColumn(), TaskProgressColumn(),
                      TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("episodes", total=1)
            result = build_version(state, store, dataset_key, data_dir, name, spec,
                                   progress=lambda d, t: progress.update(task, completed=d, total=t))
    finally:
        state.close()
    console.print(f"[green]built[/] {name}@v{result.version}: {result.episodes} episodes, "
                  f"{result.steps} steps "
                  f"{result.splits} → {result.folder} (encrypted with {keys / f'dataset-{name}.key'}). "
                  f"Next: apprentice dataset export --data-dir {data_dir} --version {name}@{result.version} "
                  "--out DIR --purpose model_training")


@app.command("export")
def export(
    version: str = typer.Option(..., "--version",
                                help="NAME@N, a version made by `dataset build --version`."),
    data_dir: Path = typer.Option(..., "--data-dir", help="The pipeline's folder."),
    out: Path = typer.Option(..., "--out", "-o", help="A new (or empty) folder for the plain dataset."),
    purpose: str = typer.Option(..., "--purpose", help="Why you read it; only model_training is allowed."),
    key_dir: Path | None = typer.Option(None, "--key-dir", help="Where dataset-NAME.key is."),
    formats: str = typer.Option("parquet", "--format", "-f", help=FORMATS_HELP),
) -> None:
    """Decrypt a dataset version into Parquet that `datasets.load_dataset(OUT)` reads, and any
    other format (--format parquet,osworld,agentnet,computer13,wds)."""
    from apprentice.crypto import load_key_file
    from apprentice.pipeline.service import export_version
    from apprentice.pipeline.service.datasets import version_dir
    from apprentice.pipeline.service.state import open_state
    from apprentice.pipeline.service.store import default_key_dir

    name, _, number = version.partition("@")
    if not number.isdigit():
        raise ConfigError(f"--version is NAME@N (e.g. support-agent@3), not {version!r}")
    state = open_state(f"sqlite:///{data_dir / 'pipeline.db'}")
    try:
        status = state.version_status(name, int(number))
    finally:
        state.close()
    if status is None:
        raise ConfigError(f"there is no dataset version {version} in {data_dir}")
    key = load_key_file((key_dir or default_key_dir()) / f"dataset-{name}.key")
    summary = export_version(version_dir(data_dir, name, int(number)), key, out, purpose=purpose,
                             status=status, formats=_items(formats))
    loadable = f" Load it with datasets.load_dataset({str(out)!r})" if "parquet" in summary["formats"] else ""
    console.print(f"[green]exported[/] {version}: {summary['episodes']} episodes, {summary['steps']} steps → "
                  f"{out} ({', '.join(summary['formats'])}).{loadable}")


@app.command("versions")
def versions(data_dir: Path = typer.Option(..., "--data-dir", help="The pipeline's folder.")) -> None:
    """List dataset versions: name, version, episodes, status (active or withdrawn)."""
    from apprentice.pipeline.service.state import open_state

    state = open_state(f"sqlite:///{data_dir / 'pipeline.db'}")
    try:
        for item in state.list_versions():
            typer.echo(f"{item['name']}@{item['version']}\t{item['episodes']} episodes\t{item['status']}")
    finally:
        state.close()
