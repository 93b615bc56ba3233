"""Where ``apprentice up`` keeps everything, and the little it remembers between starts.

    DATA/                        (--data-dir, 0700)        copying it copies no key
        collector/collector.db   the collector's SQLite database (metadata, audit log)
        collector/chunks/        sealed chunks (ciphertext only)
        pipeline/                the pipeline's sealed staging, episode store and state
        spool/                   the local agent's encrypted spool
        datasets/<name>/v<N>/    exported dataset versions (plain Parquet + images)
        audit-checkpoints/       signed audit checkpoints (*.txt)
    PRIVATE/                     (--key-dir, default DATA-keys beside DATA, 0700)
        master/master.key .pub   the master key (the pipeline unwraps, the collector wraps)
        audit/audit-signing.key  signs audit checkpoints
        pipeline/                pipeline.token, pipeline-state.key, dataset-<name>.key
        device/                  the local agent's enrolled device key
        keys/                    spool keys
        policy.yaml consent.json organisation.json pause.json status.json
                                 the local agent's device state (PRIVATE is its
                                 APPRENTICE_CONFIG_DIR)
        collector.toml           the collector's settings (no secrets)
        up.json                  port, account ids, logins, the contributor id (no secrets)

Keys are never inside DATA, so a copy or backup of DATA holds ciphertext, metadata and
datasets, and no key that opens them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apprentice.errors import ConfigError
from apprentice.fileio import write_atomically


@dataclass(frozen=True)
class Layout:
    data: Path
    private: Path

    @classmethod
    def for_data_dir(cls, data: Path, private: Path | None = None) -> Layout:
        data = Path(data).absolute()
        private = Path(private).absolute() if private is not None else data.with_name(data.name + "-keys")
        if private == data or data in private.parents:
            raise ConfigError(f"the key folder {private} is inside the data folder {data}; "
                              "keep keys outside it (--key-dir)")
        if private in data.parents:
            raise ConfigError(f"the data folder {data} is inside the key folder {private}; use two "
                              "separate folders")
        return cls(data, private)

    # -- data ------------------------------------------------------------------------------
    @property
    def collector(self) -> Path:
        return self.data / "collector"

    @property
    def database(self) -> Path:
        return self.collector / "collector.db"

    @property
    def chunks(self) -> Path:
        return self.collector / "chunks"

    @property
    def pipeline(self) -> Path:
        return self.data / "pipeline"

    @property
    def spool(self) -> Path:
        return self.data / "spool"

    @property
    def datasets(self) -> Path:
        return self.data / "datasets"

    @property
    def checkpoints(self) -> Path:
        return self.data / "audit-checkpoints"

    # -- private ---------------------------------------------------------------------------
    @property
    def master(self) -> Path:
        return self.private / "master"

    @property
    def audit_key(self) -> Path:
        return self.private / "audit" / "audit-signing.key"

    @property
    def pipeline_keys(self) -> Path:
        return self.private / "pipeline"

    @property
    def token_file(self) -> Path:
        return self.pipeline_keys / "pipeline.token"

    @property
    def device(self) -> Path:
        return self.private / "device"

    @property
    def config(self) -> Path:
        return self.private / "collector.toml"

    @property
    def record_file(self) -> Path:
        return self.private / "up.json"

    def create(self) -> None:
        """Make every folder (0700); existing ones are left as they are (the guard judges them)."""
        for folder in (self.data, self.collector, self.chunks, self.pipeline, self.spool, self.datasets,
                       self.checkpoints, self.private, self.master, self.audit_key.parent,
                       self.pipeline_keys, self.device):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def settings_toml(self, port: int) -> str:
        lines = [
            "# Written by `apprentice up`; every key is documented in docs/collector.md.",
            "[server]", 'host = "127.0.0.1"', f"port = {port}",
            f'database_url = "sqlite:///{self.database}"',
            f'blob_url = "file://{self.chunks}"',
            f'master_key_url = "local://{self.master / "master.pub"}"',
            f'audit_key_file = "{self.audit_key}"',
            f'datasets_dir = "{self.datasets}"',
            f'checkpoints_dir = "{self.checkpoints}"',
        ]
        return "\n".join(lines) + "\n"

    # -- what up remembers -----------------------------------------------------------------
    def load_record(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.record_file.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            raise ConfigError(f"{self.record_file} is damaged; move the data and key folders aside and "
                              "start again") from None
        return data

    def save_record(self, record: dict[str, Any]) -> None:
        write_atomically(self.record_file, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())


def write_private(path: Path, text: str) -> None:
    """A secret file: 0600 from the moment it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
