"""``apprentice server accounts create`` and the first privacy officer: the token is printed
once, only its SHA-256 is stored, and bad roles are refused with a clear reason."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apprentice.errors import ConfigError
from apprentice.server import load_settings
from apprentice.server.accounts import ensure_first_privacy_officer, token_sha256
from apprentice.server.storage.metadata import open_metadata

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "collector.toml"
    config.write_text(f'[server]\ndatabase_url = "sqlite:///{tmp_path}/c.db"\nmaster_key_url = "local:///unused"\n')
    return config


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "apprentice", "server", "accounts", *args],
                          capture_output=True, text=True, env=dict(os.environ), timeout=60)


def test_create_prints_the_token_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    config = _config(tmp_path)
    done = _cli("create", "--role", "contributor", "--contributor", "alice", "--config", str(config))
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("apa_") and token not in done.stderr and "shown once" in done.stderr
    metadata = open_metadata(f"sqlite:///{tmp_path}/c.db")
    account = metadata.account_by_token(token_sha256(token))
    assert account is not None and (account.role, account.subject) == ("contributor", "alice")
    assert token.encode() not in (tmp_path / "c.db").read_bytes()
    metadata.close()


@pytest.mark.parametrize("args, reason", [
    (("--role", "root"), "unknown role"),
    (("--role", "contributor"), "needs --contributor"),
    (("--role", "operator", "--contributor", "alice"), "drop --contributor"),
])
def test_create_refuses_bad_roles(tmp_path: Path, args: tuple[str, ...], reason: str) -> None:
    done = _cli("create", *args, "--config", str(_config(tmp_path)))
    assert done.returncode != 0 and reason in done.stderr.replace("\n", " ")


def test_the_first_privacy_officer_is_created_once() -> None:
    metadata = open_metadata("sqlite://")
    token = ensure_first_privacy_officer(metadata, NOW)
    assert token is not None and metadata.account_by_token(token_sha256(token)).role == "privacy_officer"  # type: ignore[union-attr]
    assert ensure_first_privacy_officer(metadata, NOW) is None
    metadata.close()


def test_the_old_admin_token_setting_says_what_replaced_it(tmp_path: Path) -> None:
    config = _config(tmp_path)
    config.write_text(config.read_text() + f'admin_token_sha256 = "{"0" * 64}"\n')
    with pytest.raises(ConfigError, match="accounts create --role privacy_officer"):
        load_settings(config)
