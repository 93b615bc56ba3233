"""Run the real collector (``apprentice server``) in a subprocess for integration tests."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from apprentice.server.keys._local import create_master_key
from tests.contract.services import free_port

ADMIN_TOKEN = "integration-admin-token"


@dataclass
class CollectorProcess:
    url: str
    config: Path
    master_key: Path
    database_url: str
    blob_url: str
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    args: tuple[str, ...] = ()  # more `apprentice server` options, e.g. ("--workers", "2")

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "apprentice", "server", "--config", str(self.config), *self.args],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"collector exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError("collector did not become healthy")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def issue_token(self, contributor: str) -> str:
        reply = httpx.post(self.url + "/api/v1/admin/enrolment-tokens", timeout=10,
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                           json={"contributor_id": contributor, "ttl_s": 600})
        assert reply.status_code == 201, reply.text
        token: str = reply.json()["token"]
        return token


def configure(tmp: Path, database_url: str, blob_url: str, extra_env: dict[str, str] | None = None,
              **settings: object) -> CollectorProcess:
    keys = tmp / "master-keys"  # outside every data folder
    pub = create_master_key(keys)
    port = free_port()
    lines = [
        "[server]", 'host = "127.0.0.1"', f"port = {port}", f'database_url = "{database_url}"',
        f'blob_url = "{blob_url}"', f'master_key_url = "local://{pub}"',
        f'admin_token_sha256 = "{hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()}"',
    ] + [f"{k} = {v!r}" for k, v in settings.items()]
    config = tmp / "collector.toml"
    config.write_text("\n".join(lines) + "\n")
    env = {k: v for k, v in os.environ.items()}
    env.update(extra_env or {})
    return CollectorProcess(f"http://127.0.0.1:{port}", config, keys / "master.key", database_url,
                            blob_url, env, tmp / "collector.log")
