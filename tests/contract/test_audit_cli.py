"""``apprentice audit …`` as an operator runs it, against SQLite and a real PostgreSQL:
init-key, checkpoint, verify (exit 0 intact / 1 tampered / 2 could not check), about."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apprentice.audit import Checkpoint, CheckpointSigner, create_signing_key
from apprentice.cli.main import app as cli
from tests.contract.audit_support import Harness, fill, open_harness


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "apprentice", "audit", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


def _url(h: Harness) -> str:
    assert h.db is not None
    return h.db.engine.url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    return open_harness(request, tmp_path, request.param)


def test_checkpoint_verify_and_about_on_an_intact_log(sql_harness: Harness, tmp_path: Path) -> None:
    made = _cli("init-key")
    assert made.returncode == 0, made.stderr
    key = Path(os.environ["APPRENTICE_CONFIG_DIR"]) / "audit" / "audit-signing.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    vkey = made.stdout.strip().splitlines()[-1]
    assert vkey.startswith("apprentice-audit+")
    assert _cli("init-key").returncode == 2  # never overwrites a key

    fill(sql_harness.log, 12)
    config = tmp_path / "collector.toml"
    config.write_text(f'[server]\nmaster_key_url = "local:///nowhere/master.pub"\n'
                      f'database_url = "{_url(sql_harness)}"\n')
    done = _cli("checkpoint", "--out", str(tmp_path / "cp1.txt"), "--config", str(config))
    assert done.returncode == 0, done.stderr
    cp = Checkpoint.load(tmp_path / "cp1.txt")
    assert cp.size == 12 and cp.root == sql_harness.log.root()

    fill(sql_harness.log, 5, start=12)
    done = _cli("verify", "--checkpoint", str(tmp_path / "cp1.txt"), "--database-url", _url(sql_harness),
                "--verifier-key", vkey)
    assert done.returncode == 0, done.stderr
    assert "audit log intact" in done.stdout and "17 entries" in done.stdout

    about = _cli("about", "alice", "--json", "--database-url", _url(sql_harness))
    assert about.returncode == 0, about.stderr
    rows = [json.loads(line) for line in about.stdout.splitlines()]
    assert [r["index"] for r in rows] == list(range(0, 17, 3))
    assert {r["subject"] for r in rows} == {"alice"} and rows[0]["actor"] == "account:acc-0"
    table = _cli("about", "alice", "--database-url", _url(sql_harness), env={"COLUMNS": "200"})
    assert table.returncode == 0 and "account:acc-0" in table.stdout and "processing" in table.stdout


def _attack(h: Harness, kind: str, cp: Checkpoint, tmp: Path, signer: CheckpointSigner) -> list[Path]:
    """Carry out one attack; return the checkpoint files to verify with."""
    files = [tmp / "cp.txt"]
    if kind == "edited":
        h.edit(4)
    elif kind == "dropped":
        h.drop(4)
    elif kind == "reordered":
        h.swap(4, 6)
    elif kind == "truncated":
        h.truncate(7, fix_counter=True)
    elif kind == "forked":
        fork = replace(cp, root=b"\x01" * 32, signatures=()).signed(signer)
        (tmp / "fork.txt").write_text(fork.text())
        files.append(tmp / "fork.txt")
    elif kind == "wrong_key":
        other = replace(cp, signatures=()).signed(CheckpointSigner(b"\x33" * 32))
        (tmp / "cp.txt").write_text(other.text())
    return files


EXPECTED = {
    "edited": ("edited: entry 4 no longer matches", "first affected index: 4"),
    "dropped": ("missing: entry 4 is missing", "first affected index: 4"),
    "reordered": ("edited: entry 4 no longer matches", "edited: entry 6 no longer matches"),
    "truncated": ("truncated: checkpoint covers 10 entries but the log now has only 7",),
    "forked": ("fork: two validly signed checkpoints of size 10 have different roots",),
    "wrong_key": ("signature: checkpoint of size 10: the checkpoint is not signed by the audit key",),
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_verify_exits_1_and_names_the_tampering(sql_harness: Harness, tmp_path: Path, kind: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The real command, run in this process (Typer's runner) to keep the matrix fast."""
    key = tmp_path / "keys" / "audit.key"
    signer = create_signing_key(key)
    fill(sql_harness.log, 10)
    cp = sql_harness.log.checkpoint(signer)
    (tmp_path / "cp.txt").write_text(cp.text())
    files = _attack(sql_harness, kind, cp, tmp_path, signer)
    args = [a for f in files for a in ("--checkpoint", str(f))]
    monkeypatch.setenv("APPRENTICE_AUDIT_KEY", str(key))
    done = CliRunner().invoke(cli, ["audit", "verify", *args, "--database-url", _url(sql_harness)])
    assert done.exit_code == 1, (done.stdout, done.stderr)
    assert "audit log FAILED verification" in done.stderr
    for expected in EXPECTED[kind]:
        assert expected in done.stderr, done.stderr


def test_verify_cannot_check_says_why_and_exits_2(tmp_path: Path) -> None:
    no_db = _cli("verify", "--verifier-key", "x+00+AA==")
    assert no_db.returncode == 2 and "verifier key" in no_db.stderr
    missing_key = _cli("verify", "--database-url", f"sqlite:///{tmp_path}/none.db")
    assert missing_key.returncode == 2 and "apprentice audit init-key" in missing_key.stderr
    create_signing_key(tmp_path / "k")
    empty = _cli("verify", "--database-url", f"sqlite:///{tmp_path}/none.db", "--key", str(tmp_path / "k"))
    assert empty.returncode == 2 and "has run its migrations" in empty.stderr
    assert "sqlite:///" not in empty.stderr  # the URL (which may hold a password) is not echoed
    (tmp_path / "bad.txt").write_text("hello\n")
    bad = _cli("verify", "--checkpoint", str(tmp_path / "bad.txt"), "--key", str(tmp_path / "k"),
               "--database-url", f"sqlite:///{tmp_path}/none.db")
    assert bad.returncode == 2 and "bad.txt" in bad.stderr and "blank line" in bad.stderr
