"""``apprentice audit …``: verify the audit log, sign checkpoints, list who accessed a contributor's
data. Run by the privacy officer or operator on the collector machine, against its database."""

from __future__ import annotations

import base64
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from apprentice.errors import AuditError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from apprentice.audit import AuditLog

app = typer.Typer(help="The tamper-evident audit log: verify, checkpoint, who accessed whose data.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)

_CONFIG = typer.Option(None, "--config", "-c", help="Collector settings (TOML); its database_url is used.")
_DB = typer.Option(None, "--database-url", help="SQLAlchemy URL of the collector database.")
_KEY = typer.Option(None, "--key", help="Audit signing key file [default: the config's audit_key_file, "
                                       "else ~/.config/apprentice/audit/].")


def _database_url(config: Path | None, database_url: str | None) -> str:
    if database_url:
        return database_url
    if config is not None:
        from apprentice.server.settings import load_settings

        return load_settings(config).database_url
    if env := os.environ.get("APPRENTICE_SERVER_DATABASE_URL"):
        return env
    raise typer.BadParameter("name the collector database: --config collector.toml or --database-url URL")


@contextmanager
def _open_log(config: Path | None, database_url: str | None) -> Iterator[AuditLog]:
    try:
        from sqlalchemy.exc import SQLAlchemyError

        from apprentice.audit import AuditLog
        from apprentice.server.storage.metadata import SqlAuditStore, open_metadata
    except ImportError as exc:
        raise typer.BadParameter(
            f"the audit tools need the server extra ({exc.name} is missing): pip install 'apprentice[server]'"
        ) from None
    url = _database_url(config, database_url)
    # Never migrate here: a verifier must not change the database it is checking.
    store = open_metadata(url, migrate=False)
    try:
        yield AuditLog(SqlAuditStore(store.engine))
    except SQLAlchemyError as exc:
        # The URL may hold a password, so only the kind of failure is shown.
        raise AuditError(
            f"cannot read the audit log from the collector database ({type(exc).__name__}); check that "
            "the database is reachable and the collector has run its migrations"
        ) from None
    finally:
        store.close()


def _key_path(key: Path | None, config: Path | None = None) -> Path:
    """--key, else the collector config's audit_key_file, else the per-user default."""
    from apprentice.paths import audit_key_file

    if key is not None:
        return key
    if config is not None:
        from apprentice.server.settings import load_settings

        configured = load_settings(config).audit_key_file
        if configured is not None:
            return configured
    return audit_key_file()


@app.command("init-key")
def init_key(key: Path | None = _KEY) -> None:
    """Create the audit signing key (0600) once, and print the verifier key to publish."""
    from apprentice.audit import create_signing_key

    path = _key_path(key)
    signer = create_signing_key(path)
    console.print(f"created audit signing key {path} (keep it off data folders and backups of data)")
    console.print("verifier key (publish it; give it to `audit verify --verifier-key`):")
    typer.echo(str(signer.verifier))


@app.command("checkpoint")
def checkpoint(
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the signed checkpoint (text)."),
    config: Path | None = _CONFIG,
    database_url: str | None = _DB,
    key: Path | None = _KEY,
) -> None:
    """Sign the log's current size and root hash; save the file somewhere the log's owner cannot edit."""
    from apprentice.audit import load_signer
    from apprentice.fileio import write_atomically

    signer = load_signer(_key_path(key, config))
    with _open_log(config, database_url) as log:
        cp = log.checkpoint(signer)
    write_atomically(out, cp.text().encode("utf-8"))
    console.print(f"checkpoint of {cp.size} entries, root {base64.b64encode(cp.root).decode()} → {out}")


@app.command("verify")
def verify(
    checkpoint_files: list[Path] = typer.Option(
        [], "--checkpoint", help="A saved checkpoint to check the log against (repeatable)."),
    config: Path | None = _CONFIG,
    database_url: str | None = _DB,
    key: Path | None = _KEY,
    verifier_key: str | None = typer.Option(
        None, "--verifier-key", help="Check signatures with this published key (NAME+ID+BASE64) "
                                     "instead of the signing key file."),
) -> None:
    """Recompute every entry's hash and check the log against saved checkpoints.

    Exit 0: intact. Exit 1: tampering found (each finding printed). Exit 2: could not check.
    """
    from apprentice.audit import Checkpoint, VerifierKey, load_signer, verify_log

    vkey = VerifierKey.parse(verifier_key) if verifier_key else load_signer(_key_path(key, config)).verifier
    checkpoints = [Checkpoint.load(p) for p in checkpoint_files]
    with _open_log(config, database_url) as log:
        report = verify_log(log.store, vkey, checkpoints)
    root = base64.b64encode(report.root).decode()
    if report.ok:
        console.print(f"[green]audit log intact[/green]: {report.size} entries, root {root}, "
                      f"{len(report.checkpoints_ok)} checkpoint(s) consistent")
        if not checkpoints:
            console.print("no checkpoint given: only the entries' own hashes were checked; "
                          "save one with `apprentice audit checkpoint --out FILE`")
        return
    err.print(f"[red]audit log FAILED verification[/red] ({report.size} entries present):")
    for problem in report.problems:
        # One finding per line, never wrapped, so scripts can grep it.
        err.print(f"  {problem.code}: {problem.message}", markup=False, highlight=False, soft_wrap=True)
    if report.first_bad_index is not None:
        err.print(f"first affected index: {report.first_bad_index}")
    raise typer.Exit(1)


@app.command("about")
def about(
    contributor: str = typer.Argument(..., help="Contributor id."),
    config: Path | None = _CONFIG,
    database_url: str | None = _DB,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List who accessed a contributor's data: when, who, what, why and whether it was allowed."""
    with _open_log(config, database_url) as log:
        entries = log.entries_about(contributor)
    if as_json:
        for e in entries:
            typer.echo(e.canonical().decode("utf-8"))
        return
    if not entries:
        console.print("no recorded access to this contributor's data")
        return
    table = Table("#", "time (UTC)", "who", "role", "action", "resource", "purpose", "decision")
    for e in entries:
        table.add_row(str(e.index), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.role, e.action,
                      e.resource, e.purpose, e.decision)
    console.print(table)
