from __future__ import annotations

import os
from pathlib import Path

import pytest

from apprentice.crypto import create_key_file, load_key_file
from apprentice.errors import KeyFileError


def test_created_key_is_private_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "k.key"
    key = create_key_file(path)
    assert len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert load_key_file(path) == key


def test_an_existing_key_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    create_key_file(path)
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        create_key_file(path)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_others_can_read_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "k.key"
    create_key_file(path)
    os.chmod(path, mode)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_key_file(path)


def test_missing_and_malformed_keys_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="not found"):
        load_key_file(tmp_path / "absent.key")
    bad = tmp_path / "bad.key"
    bad.write_text("not hex")
    os.chmod(bad, 0o600)
    with pytest.raises(KeyFileError, match="malformed"):
        load_key_file(bad)
    short = tmp_path / "short.key"
    short.write_text("abcd")
    os.chmod(short, 0o600)
    with pytest.raises(KeyFileError, match="malformed"):
        load_key_file(short)
