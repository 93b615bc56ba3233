"""The first quick-start command's main job, `apprentice up --demo`, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from apprentice.demo.scripted import CANARIES, find_canaries
from apprentice.pipeline import inspect_dataset
from apprentice.spool import open_spool

pytestmark = pytest.mark.display


def test_up_demo_records_builds_and_keeps_no_canary(xserver: object, tmp_path: Path) -> None:
    env = dict(os.environ)
    env.pop("DISPLAY", None)  # the demo brings its own virtual display
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "apprentice", "up", "--demo", "--data-dir", str(data)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (spool,) = (data / "recordings").iterdir()
    (dataset,) = (data / "datasets").iterdir()
    info = inspect_dataset(dataset)
    assert info["episodes"] >= 2 and info["steps"] >= 8
    assert not info.get("missing_files")
    reader = open_spool(spool)
    assert find_canaries([spool, dataset, data / "config"], reader) == set()
    # The canaries were really typed: the gaps say where, never what.
    events = list(reader.events())
    reasons = {getattr(e, "reason", None) for e in events if e.kind == "control"}
    assert {"denylisted:messaging", "denylisted:credential_prompt", "paused", "CREDIT_CARD"} <= reasons
    assert all(value not in done.stdout + done.stderr for value in CANARIES.values())
