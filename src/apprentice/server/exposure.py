"""The collector's side of the exposure guard: describe this deployment, run the checks.

``apprentice server`` calls :func:`check_collector` before it binds and refuses to start on
any refusal; ``apprentice doctor --config FILE`` shows the same results. Checks that live
elsewhere (the authorisation policy's wildcard check) are added in :func:`extra_checks`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from apprentice.authz import policy_problems
from apprentice.guard import (
    Bucket,
    CheckFn,
    CheckResult,
    DataPath,
    Deployment,
    KeyFile,
    Problem,
    check_results,
)
from apprentice.paths import audit_key_file
from apprentice.server.settings import ServerSettings

_SQLITE_SIDECARS = ("", "-wal", "-shm", "-journal")


def sqlite_path(database_url: str) -> Path | None:
    """The database file a ``sqlite:///…`` URL names (absolute), or None (memory, other DBs)."""
    if not database_url.startswith("sqlite") or ":///" not in database_url:
        return None
    where = unquote(database_url.split(":///", 1)[1].split("?", 1)[0])
    if not where or where == ":memory:":
        return None
    return Path(where).absolute()


def deployment_for(settings: ServerSettings, config_path: Path | None = None) -> Deployment:
    """What the checks need to know about a collector configured by ``settings``."""
    data: list[DataPath] = []
    bucket = None
    scheme = urlsplit(settings.blob_url).scheme
    if scheme == "file":
        data.append(DataPath(Path(unquote(urlsplit(settings.blob_url).path)), "blob folder"))
    elif scheme == "s3":
        from apprentice.server.storage.blobs._s3 import open_store

        store = open_store(settings.blob_url)  # makes a client only; no request yet
        bucket = Bucket(store.bucket, lambda: store.client, settings.allowed_bucket_principals)
    database = sqlite_path(settings.database_url)
    if database is not None:
        data.append(DataPath(database.parent, "database folder", recursive=False))
        data.extend(DataPath(database.with_name(database.name + suffix), "database file", recursive=False)
                    for suffix in _SQLITE_SIDECARS)
    keys = [KeyFile(settings.tls_key_file, "TLS private key")] if settings.tls_key_file else []
    audit_key = settings.audit_key_file or audit_key_file()
    if audit_key.exists():
        keys.append(KeyFile(audit_key, "audit signing key"))
    foreign = []
    master = urlsplit(settings.master_key_url)
    if master.scheme == "local" and master.path.endswith(".pub"):
        private = Path(unquote(master.path)).with_suffix(".key")
        foreign.append(KeyFile(private, "pipeline master key"))
    return Deployment(
        service="collector",
        data_paths=tuple(data),
        key_files=tuple(keys),
        foreign_keys=tuple(foreign),
        bucket=bucket,
        bind_host=settings.host,
        tls_cert_file=settings.tls_cert_file,
        tls_key_file=settings.tls_key_file,
        debug=settings.debug,
        config_file=config_path,
        config_text=config_path.read_text() if config_path is not None else None,
        env_prefix="APPRENTICE_SERVER_",
    )


def extra_checks(settings: ServerSettings) -> tuple[CheckFn, ...]:
    """Checks owned by other parts of the collector: the authorisation policies."""

    def check_authorization_policy(_deployment: Deployment) -> list[Problem]:
        """authorisation policies grant nothing to a wildcard principal"""
        folder = settings.authz_policy_dir
        where = str(folder) if folder is not None else "the shipped policies"
        return [
            Problem("authorization_policy", "refuse", f"authorisation policy ({where}): {problem}",
                    "remove the rule or give it a principal type, action, resource type and purpose "
                    "(docs/authorization.md)")
            for problem in policy_problems(folder)
        ]

    return (check_authorization_policy,)


def check_collector(settings: ServerSettings, config_path: Path | None = None) -> list[CheckResult]:
    """Every exposure check for this collector, one result per check."""
    return check_results(deployment_for(settings, config_path), extra_checks(settings))
