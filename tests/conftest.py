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


# Read once at import: the clean_environ fixture removes CI from each test's environment.
_IN_CI = bool(os.environ.get("CI"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """On CI a test skipped for a missing service or tool ("needs …") fails instead.

    Locally a missing Xvfb, Tesseract, PostgreSQL or S3 server skips with its reason; CI
    installs all of them, so there a skip would hide a broken install, not a choice.
    """
    outcome = yield
    report = outcome.get_result()
    if _IN_CI and report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if reason.startswith("Skipped: needs") or reason.startswith("needs"):
            report.outcome = "failed"
            report.longrepr = f"on CI this must not be skipped: {reason}"
