"""``apprentice doctor``: the exposure checks on demand, as a table or as JSON.

With ``--config`` (or ``APPRENTICE_SERVER_*`` variables) it checks the collector exactly as
``apprentice server`` does at start; it always checks this user's device keys (spool keys
and the enrolled device key) when there are any. Exit 0 if nothing refuses, 1 otherwise.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

_STYLE = {"pass": "green", "warn": "yellow", "refuse": "bold red", "skip": "dim"}


def _device_results() -> list:  # type: ignore[type-arg]
    from apprentice.guard import Deployment, KeyFile, check_results
    from apprentice.paths import device_dir, key_dir

    keys = [KeyFile(p, "spool key") for p in sorted(key_dir().glob("*.key"))] if key_dir().is_dir() else []
    device_key = device_dir() / "device.key"
    if device_key.exists():
        keys.append(KeyFile(device_key, "device key"))
    return check_results(Deployment(service="device", key_files=tuple(keys)))


def _collector_results(config: Path | None) -> list | None:  # type: ignore[type-arg]
    if config is None and not any(k.startswith("APPRENTICE_SERVER_") for k in os.environ):
        return None
    try:
        from apprentice.server.exposure import check_collector
        from apprentice.server.settings import load_settings
    except ImportError as exc:
        raise typer.BadParameter(
            f"checking a collector needs the server extra ({exc.name} is missing): "
            "pip install 'apprentice[server]'"
        ) from None
    return check_collector(load_settings(config), config)


def doctor(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Collector settings (TOML) to check, as `apprentice server` reads them."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Check this deployment for anything that would expose data; exit 1 if something does.

    Checks data folder and key file permissions, the S3 bucket's policy, ACL and public-access
    block, bind address and TLS, debug mode, and secrets in the config file.

    Example: apprentice doctor --config /etc/apprentice/collector.toml
    """
    sections = []
    collector = _collector_results(config)
    if collector is not None:
        sections.append(("collector", collector))
    # on the device only what applies is shown (it has no bucket, bind address or config file)
    sections.append(("device", [r for r in _device_results() if r.status != "skip"]))
    refused = any(r.status == "refuse" for _, results in sections for r in results)
    if as_json:
        doc = {"ok": not refused, "targets": {
            target: [{"check": r.name, "title": r.title, "status": r.status,
                      "problems": [p.as_dict() for p in r.problems]} for r in results]
            for target, results in sections}}
        typer.echo(json.dumps(doc, indent=2))
    else:
        console = Console(soft_wrap=False)
        table = Table(title="apprentice doctor — exposure checks", show_lines=True)
        for column in ("target", "check", "status", "reason and fix"):
            table.add_column(column, overflow="fold")
        for target, results in sections:
            for r in results:
                detail = "\n".join(f"{p.reason}\n→ {p.fix}" for p in r.problems) or r.title
                table.add_row(target, r.name, f"[{_STYLE[r.status]}]{r.status}[/]", detail)
        console.print(table)
        console.print("[bold red]refused[/]: fix the problems above" if refused
                      else "[green]ok[/]: nothing refuses")
    if refused:
        raise typer.Exit(1)
