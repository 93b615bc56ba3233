"""The portal as a collector process wires it: ``portal_for(app, settings, audit, …)``.

Used by ``apprentice server`` (a standalone collector: no episodes, datasets from a folder if
one is configured) and ``apprentice up`` (the embedded default: the pipeline's catalogs).
The access history verifies the audit log against the signed checkpoints kept in
``checkpoints`` (``*.txt``, as ``apprentice audit checkpoint`` writes them) with the verifier
half of the collector's audit signing key; without that key the officer's page says the log
is not verifiable here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from apprentice.audit import AuditLog, Checkpoint, VerifierKey, load_signer
from apprentice.errors import ApprenticeError
from apprentice.guard import CheckResult
from apprentice.paths import audit_key_file
from apprentice.server.settings import ServerSettings
from apprentice.web.app import Portal, mount_portal
from apprentice.web.governed import ServerGovernance
from apprentice.web.history import AccessHistory
from apprentice.web.local import NoDatasets, NoEpisodes
from apprentice.web.seams import DatasetCatalog, EpisodeCatalog

log = logging.getLogger("apprentice.web")


def verifier_for(settings: ServerSettings) -> VerifierKey | None:
    """The published half of the audit signing key, or None if this host has no usable key."""
    path = settings.audit_key_file or audit_key_file()
    if not path.exists():
        return None
    try:
        return load_signer(path).verifier
    except ApprenticeError as exc:  # a key others can read: the guard reports it; no verifier here
        log.warning("audit signing key not usable for verification: %s", type(exc).__name__)
        return None


def checkpoint_loader(folder: Path | None) -> Callable[[], list[Checkpoint]]:
    def load() -> list[Checkpoint]:
        if folder is None or not folder.is_dir():
            return []
        found = []
        for path in sorted(folder.glob("*.txt")):
            try:
                found.append(Checkpoint.load(path))
            except (OSError, ApprenticeError, ValueError):
                continue  # a damaged file is not evidence either way; the verifier needs good ones
        return found

    return load


def portal_for(app: FastAPI, settings: ServerSettings, audit: AuditLog, *,
               datasets: DatasetCatalog | None = None, episodes: EpisodeCatalog | None = None,
               checkpoints: Path | None = None, doctor: Callable[[], list[CheckResult]] | None = None,
               config_path: Path | None = None) -> Portal:
    """Mount the portal on the collector ``app`` and return it."""
    from apprentice.server.exposure import check_collector

    portal = Portal(
        governance=ServerGovernance(app.state.apprentice.governance, audit.entries_about),
        datasets=datasets if datasets is not None else NoDatasets(),
        history=AccessHistory(audit, verifier_for(settings), checkpoint_loader(checkpoints)),
        doctor=doctor or (lambda: check_collector(settings, config_path)),
        episodes=episodes if episodes is not None else NoEpisodes(),
    )
    mount_portal(app, portal)
    return portal
