"""``apprentice server``: the collector API under uvicorn (one process, or several sharing the port)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from fastapi import FastAPI

    from apprentice.server.settings import ServerSettings

# How the parent tells worker processes which settings file to read (uvicorn starts them
# fresh and builds each one's app by calling worker_app()).
_CONFIG_ENV = "_APPRENTICE_COLLECTOR_CONFIG"


def server(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Collector settings (TOML); APPRENTICE_SERVER_* variables override."
    ),
    workers: int = typer.Option(
        1, "--workers", "-w", min=1, max=64,
        help="Collector processes sharing the port. Every upload's state is in the database, so this "
             "is safe with a SQLite file or PostgreSQL; each process counts its own metrics and "
             "applies max_inflight_uploads on its own.",
    ),
) -> None:
    """Run the collector: enrolment, signed uploads of sealed chunks, retention.

    It stores ciphertext only and holds no key that can open it.

    Example: apprentice server --config /etc/apprentice/collector.toml --workers 2
    """
    try:
        import uvicorn

        from apprentice.server import load_settings
        from apprentice.server.logs import configure_logging
    except ImportError as exc:
        raise typer.BadParameter(
            f"the collector needs the server extra ({exc.name} is missing): pip install 'apprentice[server]'"
        ) from None
    settings = load_settings(config)
    configure_logging(logging.INFO)
    if workers == 1:
        app = _build_app(settings, migrate=True)
        uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)
        return
    in_memory = settings.database_url in ("sqlite://", "sqlite:///:memory:")
    if in_memory or settings.blob_url.startswith("memory:"):
        raise typer.BadParameter("--workers above 1 needs a database and blob store on disk or a server; "
                                 "in-memory stores are private to one process")
    # Migrate and check the configuration once, here, so that workers do not race to.
    _build_app(settings, migrate=True).state.apprentice.api.metadata.close()
    os.environ[_CONFIG_ENV] = str(config.resolve()) if config is not None else ""
    uvicorn.run("apprentice.cli.server_cmd:worker_app", factory=True, workers=workers, host=settings.host,
                port=settings.port, log_config=None, access_log=False)


def worker_app() -> FastAPI:
    """The app of one worker process (``--workers`` above 1); the parent has migrated already."""
    from apprentice.server import load_settings
    from apprentice.server.logs import configure_logging

    config = os.environ.get(_CONFIG_ENV)
    settings = load_settings(Path(config) if config else None)
    configure_logging(logging.INFO)
    return _build_app(settings, migrate=False)


def _build_app(settings: ServerSettings, *, migrate: bool) -> FastAPI:
    from apprentice.server import create_app
    from apprentice.server.keys import ContributorKeys, open_master_wrapper
    from apprentice.server.storage.blobs import open_blob_store
    from apprentice.server.storage.metadata import open_metadata

    metadata = open_metadata(settings.database_url, migrate=migrate)
    blobs = open_blob_store(settings.blob_url)
    keys = ContributorKeys(metadata, open_master_wrapper(settings.master_key_url))
    return create_app(settings, blobs, metadata, keys)
