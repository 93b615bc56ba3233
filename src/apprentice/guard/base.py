"""What the exposure guard reads and what it reports: a ``Deployment`` and ``Problem``s.

A ``Deployment`` describes one service's setup in the terms the checks need (folders, key
files, bucket, bind address, TLS, debug flag, config file) and nothing else, so the guard
never imports a service: the collector and the pipeline each build their own description.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Severity = Literal["refuse", "warn"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: ``reason`` names the path or setting (never a secret's value)."""

    check: str
    severity: Severity
    reason: str
    fix: str

    def line(self) -> str:
        """The one line a service prints at start."""
        lead = "refusing to start" if self.severity == "refuse" else "warning"
        return f"{lead}: {self.reason} — fix: {self.fix}"

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "severity": self.severity, "reason": self.reason, "fix": self.fix}


@dataclass(frozen=True, slots=True)
class DataPath:
    """A place that holds data: walked (``recursive``) or checked alone (a folder, a file)."""

    path: Path
    what: str
    recursive: bool = True


@dataclass(frozen=True, slots=True)
class KeyFile:
    """A private key this service uses; it must be 0600 in a folder only its owner can enter."""

    path: Path
    what: str


@dataclass(frozen=True, slots=True)
class Bucket:
    """An S3 bucket and who may be named in its policy or ACL.

    ``client`` returns a boto3 S3 client; each bucket check calls it, so cache it.
    ``allowed_principals`` are the configured service identities (role/user ARNs, account
    ids, canonical user ids) that may appear in a grant; anyone else is an exposure.
    """

    name: str
    client: Callable[[], Any]
    allowed_principals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Deployment:
    """Everything the checks look at for one service. Unset parts are not checked."""

    service: str = "collector"
    data_paths: tuple[DataPath, ...] = ()
    key_files: tuple[KeyFile, ...] = ()
    # keys this service must not be able to read (e.g. the pipeline's master.key on a collector)
    foreign_keys: tuple[KeyFile, ...] = ()
    bucket: Bucket | None = None
    bind_host: str | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    debug: bool | None = None  # None: the service has no such switch (not checked)
    config_file: Path | None = None
    config_text: str | None = None
    # prefix of the environment variables that override the config file (named in fixes)
    env_prefix: str = "APPRENTICE_SERVER_"


CheckFn = Callable[[Deployment], Iterable[Problem]]
