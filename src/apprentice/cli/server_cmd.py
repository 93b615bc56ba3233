"""``apprentice server``: the collector API under uvicorn (after the exposure guard passes; one
process, or several sharing the port), and ``apprentice server accounts`` to create the
bearer-token accounts that call it (docs/authorization.md)."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from fastapi import FastAPI

    from apprentice.server.settings import ServerSettings

#: exit status when the exposure guard refuses (distinct from 2, a bad config or argument)
EXIT_REFUSED = 3

app = typer.Typer(invoke_without_command=True)  # help: the callback's docstring
accounts = typer.Typer(help="Accounts that call the collector with a bearer token.", no_args_is_help=True)
app.add_typer(accounts, name="accounts")

# How the parent tells worker processes which settings file to read (uvicorn starts them
# fresh and builds each one's app by calling worker_app()).
_CONFIG_ENV = "_APPRENTICE_COLLECTOR_CONFIG"
_PORTAL_ENV = "_APPRENTICE_COLLECTOR_PORTAL"

_ROLES_HELP = "contributor, privacy_officer, ml_engineer, operator or pipeline."
_CONFIG_HELP = "Collector settings (TOML); APPRENTICE_SERVER_* variables override."


def _missing_extra(exc: ImportError) -> typer.BadParameter:
    return typer.BadParameter(
        f"the collector needs the server extra ({exc.name} is missing): pip install 'apprentice[server]'"
    )


@app.callback()
def server(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
    portal: bool = typer.Option(True, "--portal/--no-portal",
                                help="Also serve the portal (browser pages at /login) from this app."),
    migrate_only: bool = typer.Option(False, "--migrate-only",
                                      help="Upgrade the database schema to this version, then exit."),
    workers: int = typer.Option(
        1, "--workers", "-w", min=1, max=64,
        help="Collector processes sharing the port. Every upload's state is in the database, so this "
             "is safe with a SQLite file or PostgreSQL; each process counts its own metrics and "
             "applies max_inflight_uploads on its own.",
    ),
) -> None:
    """Run the collector: enrolment, signed uploads of sealed chunks, retention, and the portal.

    It stores ciphertext only and holds no key that can open it. Before it binds it runs the
    exposure checks (as `apprentice doctor` does) and refuses to start, naming every problem
    and its fix, if this deployment would expose data.

    On the first start with no privacy-officer account, one is created and its token is printed once.

    The portal (browser pages at /login) is served by the same app unless --no-portal;
    accounts sign in with the login and password given by `apprentice server accounts
    set-password`. With several replicas, run `apprentice server --migrate-only` once before
    rolling them (docs/operations.md).

    Example: apprentice server --config /etc/apprentice/collector.toml --workers 2
    """
    # Everything the collector and its account commands create (SQLite files, blob folders)
    # is for this user only.
    os.umask(0o077)
    if ctx.invoked_subcommand is not None:
        ctx.obj = config
        return
    try:
        import uvicorn

        from apprentice.server import load_settings
        from apprentice.server.exposure import check_collector
        from apprentice.server.logs import configure_logging
    except ImportError as exc:
        raise _missing_extra(exc) from None
    settings = load_settings(config)
    problems = [p for result in check_collector(settings, config) for p in result.problems]
    for problem in sorted(problems, key=lambda p: p.severity != "warn"):
        typer.echo(problem.line(), err=True)
    if any(p.severity == "refuse" for p in problems):
        raise typer.Exit(EXIT_REFUSED)
    if migrate_only:
        from apprentice.server.storage.metadata import open_metadata

        open_metadata(settings.database_url).close()  # opening migrates to this version's head
        typer.echo("database schema is up to date", err=True)
        return
    tls = ({"ssl_certfile": str(settings.tls_cert_file), "ssl_keyfile": str(settings.tls_key_file)}
           if settings.tls_cert_file and settings.tls_key_file else {})
    if workers > 1 and (settings.database_url in ("sqlite://", "sqlite:///:memory:")
                        or settings.blob_url.startswith("memory:")):
        raise typer.BadParameter("--workers above 1 needs a database and blob store on disk or a server; "
                                 "in-memory stores are private to one process")
    # Migrate and create the first privacy officer once, here, so that workers do not race to.
    app_ = _build_app(settings, migrate=True, bootstrap=True, portal=portal, config=config)
    configure_logging(logging.INFO)
    if workers == 1:
        uvicorn.run(app_, host=settings.host, port=settings.port, log_config=None, access_log=False, **tls)
        return
    app_.state.apprentice.api.metadata.close()
    os.environ[_CONFIG_ENV] = str(config.resolve()) if config is not None else ""
    os.environ[_PORTAL_ENV] = "1" if portal else "0"
    uvicorn.run("apprentice.cli.server_cmd:worker_app", factory=True, workers=workers, host=settings.host,
                port=settings.port, log_config=None, access_log=False, **tls)


def worker_app() -> FastAPI:
    """The app of one worker process (``--workers`` above 1); the parent has migrated already."""
    from apprentice.server import load_settings
    from apprentice.server.logs import configure_logging

    config = os.environ.get(_CONFIG_ENV)
    settings = load_settings(Path(config) if config else None)
    configure_logging(logging.INFO)
    return _build_app(settings, migrate=False, bootstrap=False, portal=os.environ.get(_PORTAL_ENV) != "0",
                      config=Path(config) if config else None)


def _build_app(settings: ServerSettings, *, migrate: bool, bootstrap: bool, portal: bool = True,
               config: Path | None = None) -> FastAPI:
    from apprentice.audit import AuditLog
    from apprentice.server import create_app
    from apprentice.server.accounts import ensure_first_privacy_officer
    from apprentice.server.keys import ContributorKeys, open_master_wrapper
    from apprentice.server.storage.blobs import open_blob_store
    from apprentice.server.storage.metadata import SqlAuditStore, open_metadata

    metadata = open_metadata(settings.database_url, migrate=migrate)
    if bootstrap:
        token = ensure_first_privacy_officer(metadata, datetime.now(UTC))
        if token is not None:
            # Printed, never logged: this is the only copy (the database keeps its SHA-256).
            typer.echo("created the first privacy-officer account; its API token (shown once):", err=True)
            typer.echo(token, err=True)
    blobs = open_blob_store(settings.blob_url)
    keys = ContributorKeys(metadata, open_master_wrapper(settings.master_key_url))
    audit = AuditLog(SqlAuditStore(metadata.engine))  # tamper-evident, in the collector's database
    app_ = create_app(settings, blobs, metadata, keys, audit=audit)
    if portal:
        from apprentice.web import FolderDatasets
        from apprentice.web.wiring import portal_for

        datasets = FolderDatasets(settings.datasets_dir) if settings.datasets_dir is not None else None
        portal_for(app_, settings, audit, datasets=datasets, checkpoints=settings.checkpoints_dir,
                   config_path=config)
    return app_


@accounts.command("create")
def create(
    ctx: typer.Context,
    role: str = typer.Option(..., "--role", help=_ROLES_HELP),
    contributor: str | None = typer.Option(None, "--contributor", help="Contributor id (contributors only)."),
    config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
) -> None:
    """Create an account and print its API token once (only its SHA-256 is stored).

    Example: apprentice server accounts create --role pipeline --config /etc/apprentice/collector.toml
    """
    try:
        from apprentice.server import load_settings
        from apprentice.server.accounts import create_account
        from apprentice.server.storage.metadata import open_metadata
    except ImportError as exc:
        raise _missing_extra(exc) from None
    settings = load_settings(config or ctx.obj)
    metadata = open_metadata(settings.database_url)
    try:
        row, token = create_account(metadata, role, datetime.now(UTC), contributor)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    finally:
        metadata.close()
    typer.echo(token)
    typer.echo(f"created {row.id} ({row.role}); the token above is shown once", err=True)


@accounts.command("set-password")
def set_password_cmd(
    ctx: typer.Context,
    account: str = typer.Option(..., "--account", help="Account id (acc-…) printed when it was created."),
    login: str = typer.Option(..., "--login", help="The name to sign in to the portal with."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
) -> None:
    """Let an account sign in to the portal with a login and password (scrypt-hashed).

    Example: apprentice server accounts set-password --account acc-1f… --login alice
    """
    try:
        from apprentice.server import load_settings
        from apprentice.server.signin import set_password
        from apprentice.server.storage.metadata import open_metadata
    except ImportError as exc:
        raise _missing_extra(exc) from None
    if password_stdin:
        import sys

        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = load_settings(config or ctx.obj)
    metadata = open_metadata(settings.database_url)
    try:
        set_password(metadata, account, login, password)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    finally:
        metadata.close()
    typer.echo(f"{account} can now sign in to the portal as {login}", err=True)
