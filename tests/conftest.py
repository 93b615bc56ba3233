"""Shared fixtures: a clean environment for every test and a private key folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")


@pytest.fixture(autouse=True)
def clean_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test sees only a minimal environment, and its own key folder outside tmp spools."""
    for name in list(os.environ):
        if name not in _KEEP and not name.startswith(("PYTEST_", "COV_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APPRENTICE_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("APPRENTICE_CONFIG_DIR", str(tmp_path / "config"))
    yield
