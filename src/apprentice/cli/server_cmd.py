"""``apprentice server``: the collector API under uvicorn, after the exposure guard passes."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import typer

#: exit status when the exposure guard refuses (distinct from 2, a bad config or argument)
EXIT_REFUSED = 3


def server(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Collector settings (TOML); APPRENTICE_SERVER_* variables override."
    ),
) -> None:
    """Run the collector: enrolment, signed uploads of sealed chunks, retention.

    It stores ciphertext only and holds no key that can open it. Before it binds it runs the
    exposure checks (as `apprentice doctor` does) and refuses to start, naming every problem
    and its fix, if this deployment would expose data.

    Example: apprentice server --config /etc/apprentice/collector.toml
    """
    try:
        import uvicorn

        from apprentice.server import create_app, load_settings
        from apprentice.server.exposure import check_collector
        from apprentice.server.keys import ContributorKeys, open_master_wrapper
        from apprentice.server.logs import configure_logging
        from apprentice.server.storage.blobs import open_blob_store
        from apprentice.server.storage.metadata import open_metadata
    except ImportError as exc:
        raise typer.BadParameter(
            f"the collector needs the server extra ({exc.name} is missing): pip install 'apprentice[server]'"
        ) from None
    settings = load_settings(config)
    # everything the collector creates (SQLite files, blob folders) is for its own user only
    os.umask(0o077)
    problems = [p for result in check_collector(settings, config) for p in result.problems]
    for problem in sorted(problems, key=lambda p: p.severity != "warn"):
        typer.echo(problem.line(), err=True)
    if any(p.severity == "refuse" for p in problems):
        raise typer.Exit(EXIT_REFUSED)
    configure_logging(logging.INFO)
    metadata = open_metadata(settings.database_url)
    blobs = open_blob_store(settings.blob_url)
    keys = ContributorKeys(metadata, open_master_wrapper(settings.master_key_url))
    app = create_app(settings, blobs, metadata, keys)
    tls = ({"ssl_certfile": str(settings.tls_cert_file), "ssl_keyfile": str(settings.tls_key_file)}
           if settings.tls_cert_file and settings.tls_key_file else {})
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False, **tls)
