"""Run the real collector (``apprentice server``) in a subprocess for integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from apprentice.keys import create_master_key
from tests.contract.services import free_port


@dataclass
class CollectorProcess:
    url: str
    config: Path
    master_key: Path
    database_url: str
    blob_url: str
    env: dict[str, str]
    log: Path
    admin_token: str = ""
    proc: subprocess.Popen[bytes] | None = None
    args: tuple[str, ...] = ()  # more `apprentice server` options, e.g. ("--workers", "2")

    def create_account(self, role: str, contributor: str | None = None) -> str:
        """``apprentice server accounts create`` against this collector's database; the token."""
        command = [sys.executable, "-m", "apprentice", "server", "accounts", "create", "--role", role,
                   "--config", str(self.config)]
        if contributor is not None:
            command += ["--contributor", contributor]
        done = subprocess.run(command, env=self.env, capture_output=True, check=False, timeout=60)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        token = done.stdout.decode().strip()
        assert token.startswith("apa_") and token not in done.stderr.decode()
        return token

    def start(self) -> None:
        if not self.admin_token:  # the privacy officer the tests act as, created before the first start
            self.admin_token = self.create_account("privacy_officer")
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
                           headers={"Authorization": f"Bearer {self.admin_token}",
                                    "X-Apprentice-Purpose": "governance"},
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
    ] + [f"{k} = {v!r}" for k, v in settings.items()]
    config = tmp / "collector.toml"
    config.write_text("\n".join(lines) + "\n")
    env = {k: v for k, v in os.environ.items()}
    env.update(extra_env or {})
    collector = CollectorProcess(f"http://127.0.0.1:{port}", config, keys / "master.key", database_url,
                                 blob_url, env, tmp / "collector.log")
    return collector
