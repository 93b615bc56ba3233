"""Collector settings: one TOML file plus ``APPRENTICE_SERVER_*`` environment variables.

A file that does not parse, an unknown key or an invalid value stops the server with a
message naming the key; nothing silently falls back to a default.

    [server]                                   # all keys optional except master_key_url
    host = "127.0.0.1"
    port = 8750
    database_url = "sqlite:////var/lib/apprentice/collector.db"
    blob_url = "file:///var/lib/apprentice/chunks"
    master_key_url = "local:///etc/apprentice/master.pub"
    max_chunk_bytes = 67108864
    max_inflight_uploads = 64
    upload_queue_s = 30
    upload_idle_timeout_s = 60
    replay_window_s = 300
    retention_days = 365                       # omit to keep chunks until forgotten
    tls_cert_file = "/etc/apprentice/tls/cert.pem"  # both or neither; needed off loopback
    tls_key_file = "/etc/apprentice/tls/key.pem"    # 0600
    allowed_bucket_principals = ["arn:aws:iam::111122223333:role/apprentice-collector"]
    debug = false                              # true is refused by the exposure guard
    datasets_dir = "/var/lib/apprentice/datasets"  # the portal's ML pages (exported versions)
    checkpoints_dir = "/var/lib/apprentice/checkpoints"  # audit checkpoints the portal checks

The exposure guard (``apprentice.server.exposure``) checks the deployment these describe
before the server binds; see docs/exposure-guard.md.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from apprentice.errors import ConfigError

_ENV_PREFIX = "APPRENTICE_SERVER_"


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8750, ge=1, le=65535)
    database_url: str = "sqlite:///apprentice-collector.db"
    blob_url: str = "file:///var/lib/apprentice/chunks"
    master_key_url: str
    max_chunk_bytes: int = Field(64 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    max_inflight_uploads: int = Field(64, ge=1)
    # How long an upload over max_inflight_uploads waits for a slot (body unread) before a 429.
    upload_queue_s: float = Field(30.0, ge=0, le=120)
    # An upload whose body stops arriving for this long is dropped (408) and its slot freed.
    upload_idle_timeout_s: float = Field(60.0, gt=0, le=3600)
    retry_after_s: int = Field(1, ge=1, le=3600)
    replay_window_s: int = Field(300, ge=10, le=3600)
    enrolment_token_max_ttl_s: int = Field(7 * 24 * 3600, ge=60)
    retention_days: float | None = Field(None, gt=0)
    purge_interval_s: float = Field(3600, gt=0)
    # exposure guard (docs/exposure-guard.md)
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    debug: bool = False
    # Cedar policy folder; None = the policies shipped with apprentice (docs/authorization.md).
    authz_policy_dir: Path | None = None
    # Ed25519 key that signs audit checkpoints; None = apprentice.paths.audit_key_file().
    audit_key_file: Path | None = None
    allowed_bucket_principals: tuple[str, ...] = ()
    # portal (docs/portal.md): exported dataset folders <name>/<version>/ the ML pages serve;
    # signed audit checkpoints (*.txt) the officer's page verifies the log against.
    datasets_dir: Path | None = None
    checkpoints_dir: Path | None = None

    @field_validator("allowed_bucket_principals", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """The environment variable form is a comma-separated list."""
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> ServerSettings:
    """Read ``path`` (if given) and overlay ``APPRENTICE_SERVER_<KEY>`` variables."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            document = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"settings file {path} not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        values.update(document.get("server", {}))
        unknown = set(document) - {"server"}
        if unknown:
            raise ConfigError(f"{path}: unknown sections {sorted(unknown)}; only [server] is read")
    if "admin_token_sha256" in values:
        raise ConfigError(
            f"{path}: admin_token_sha256 is gone: the privacy officer now has an account. Remove the key "
            "and run: apprentice server accounts create --role privacy_officer --config FILE"
        )
    env = os.environ if environ is None else environ
    for name in ServerSettings.model_fields:
        raw = env.get(_ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = raw
    try:
        return ServerSettings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid collector settings: {problems}") from None
