"""``apprentice pipeline``: the processing worker (the pipeline identity) and its status.

This is the only command that holds the master key's unwrapping half: it reads sealed
chunks from the collector's pipeline API, decrypts them in memory and builds episodes.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

app = typer.Typer(
    help="The processing pipeline: sealed chunks → redacted, pseudonymous episodes.", no_args_is_help=True
)
console = Console(stderr=True)


def progress_bars() -> tuple[Progress, object]:
    progress = Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, int] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=max(total, 1))
        progress.update(tasks[stage], completed=done, total=max(total, 1))

    return progress, report


@app.command()
def run(
    collector: str = typer.Option(..., "--collector", help="The collector's base URL."),
    token_file: Path = typer.Option(
        ..., "--token-file", help="File holding the pipeline account's API token."
    ),
    master_key: str = typer.Option(
        ..., "--master-key", help="The master key's unwrapping half: local:///…/master.key or awskms://…"
    ),
    data_dir: Path = typer.Option(..., "--data-dir", help="The pipeline's own folder (state, sealed store)."),
    key_dir: Path | None = typer.Option(
        None,
        "--key-dir",
        help="Where pipeline and dataset keys live (outside --data-dir). Default: $APPRENTICE_KEY_DIR.",
    ),
    once: bool = typer.Option(False, "--once", help="Process what is there now, then exit."),
    finalize: bool = typer.Option(False, "--finalize", help="Also build sessions that have not ended."),
    executor: str = typer.Option("local", "--executor", help="local (process pool), ray, or inline."),
    workers: int = typer.Option(2, "--workers", help="Worker processes (local) or CPUs (local Ray)."),
    ray_address: str | None = typer.Option(None, "--ray-address", help="Connect to this Ray cluster."),
    interval: float = typer.Option(30.0, "--interval", help="Seconds between runs without --once."),
    cursor_overlap: int = typer.Option(
        1000, "--cursor-overlap", help="Chunk sequence numbers re-read behind the cursor (late commits)."
    ),
) -> None:
    """Claim new sealed chunks, decrypt them in memory, redact again and build episodes.

    Example: apprentice pipeline run --once --collector http://127.0.0.1:8750
      --token-file ~/.config/apprentice/pipeline.token --master-key local:///etc/apprentice/master/master.key
      --data-dir /var/lib/apprentice/pipeline
    """
    from apprentice.pipeline.service import HttpChunkSource, PipelineSettings, PipelineWorker
    from apprentice.pipeline.service.store import default_key_dir

    settings = PipelineSettings(
        data_dir=data_dir,
        master_key_url=master_key,
        key_dir=key_dir or default_key_dir(),
        executor=executor,
        workers=workers,
        ray_address=ray_address,
        cursor_overlap=cursor_overlap,
    )
    source = HttpChunkSource(collector, token_file)
    progress, report = progress_bars()
    worker = PipelineWorker(settings, source, progress=report)  # type: ignore[arg-type]
    try:
        with progress:
            if once:
                stats = worker.run_once(finalize=finalize)
            else:
                worker.run_forever(interval)
                return
    finally:
        worker.close()
        source.close()
    console.print(
        f"[green]processed[/] {stats.chunks} chunks ({stats.failed} failed, {stats.frames_dropped} frames "
        f"dropped by redaction); applied {stats.deletions} deletions ({stats.episodes_withdrawn} episodes "
        f"withdrawn); built {stats.build.episodes} episodes, {stats.build.steps} steps; "
        f"{stats.build.waiting} sessions wait for more data. Next: apprentice dataset build --version NAME "
        f"--data-dir {data_dir}"
    )


@app.command()
def status(
    data_dir: Path = typer.Option(..., "--data-dir", help="The pipeline's folder."),
    key_dir: Path | None = typer.Option(
        None, "--key-dir", help="Pipeline keys (default $APPRENTICE_KEY_DIR)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Counts only: chunks by status, episodes, tombstones, dataset versions. Never content or ids."""
    from apprentice.pipeline.service.state import open_state

    if not (data_dir / "pipeline.db").exists():
        raise typer.BadParameter(f"{data_dir} has no pipeline state; run `apprentice pipeline run` first")
    state = open_state(f"sqlite:///{data_dir / 'pipeline.db'}")
    try:
        episodes = state.episodes()
        info = {
            "chunks": state.chunk_counts(),
            "episodes": len(episodes),
            "steps": sum(e.num_steps for e in episodes),
            "tombstoned_contributors": len(state.tombstoned()),
            "versions": [{k: v for k, v in item.items() if k != "spec"} for item in state.list_versions()],
        }
    finally:
        state.close()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    out = Console()
    out.print(
        f"chunks: {info['chunks']}  episodes: {info['episodes']}  steps: {info['steps']}  "
        f"forgotten contributors: {info['tombstoned_contributors']}"
    )
    for item in info["versions"]:  # type: ignore[attr-defined]
        out.print(f"  {item['name']}@v{item['version']}: {item['episodes']} episodes ({item['status']})")
