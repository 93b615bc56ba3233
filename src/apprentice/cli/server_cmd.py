"""``apprentice server``: the collector API under uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path

import typer


def server(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Collector settings (TOML); APPRENTICE_SERVER_* variables override."
    ),
) -> None:
    """Run the collector: enrolment, signed uploads of sealed chunks, retention.

    It stores ciphertext only and holds no key that can open it.

    Example: apprentice server --config /etc/apprentice/collector.toml
    """
    try:
        import uvicorn

        from apprentice.server import create_app, load_settings
        from apprentice.server.keys import ContributorKeys, open_master_wrapper
        from apprentice.server.logs import configure_logging
        from apprentice.server.storage.blobs import open_blob_store
        from apprentice.server.storage.metadata import open_metadata
    except ImportError as exc:
        raise typer.BadParameter(
            f"the collector needs the server extra ({exc.name} is missing): pip install 'apprentice[server]'"
        ) from None
    settings = load_settings(config)
    configure_logging(logging.INFO)
    metadata = open_metadata(settings.database_url)
    blobs = open_blob_store(settings.blob_url)
    keys = ContributorKeys(metadata, open_master_wrapper(settings.master_key_url))
    app = create_app(settings, blobs, metadata, keys)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)
