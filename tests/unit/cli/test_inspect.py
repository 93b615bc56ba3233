from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.unit.helpers import fake_session


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apprentice", *args], capture_output=True, text=True,
        env=dict(os.environ), timeout=60,
    )


def _spool(tmp_path: Path) -> Path:
    session, inputs, _, _, _ = fake_session(tmp_path / "s")
    session.start()
    assert session.ready.wait(10)
    inputs.play([
        ("key_down", {"key": "a", "vk": 97, "char": "a"}),
        ("key_up", {"key": "a", "vk": 97, "char": "a"}),
        ("mouse_down", {"x": 3, "y": 4, "button": "left"}),
        ("mouse_up", {"x": 3, "y": 4, "button": "left"}),
    ])
    session.stop()
    return tmp_path / "s"


def test_inspect_json_summarises_the_spool(tmp_path: Path) -> None:
    done = _cli("inspect", str(_spool(tmp_path)), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["sessions"] == 1
    assert summary["by_kind"]["key_down"] == 1 and summary["by_kind"]["mouse_down"] == 1
    assert summary["windows"] == {"Editor — notes.txt": 1}
    assert summary["frames"] >= 2 and summary["frame_blobs"] == 1
    assert summary["bytes"]["events"] > 0 and summary["problems"] == []


def test_inspect_table_is_readable(tmp_path: Path) -> None:
    done = _cli("inspect", str(_spool(tmp_path)))
    assert done.returncode == 0
    for word in ("sessions", "duration", "key_down", "frames", "gaps", "windows seen"):
        assert word in done.stdout


def test_inspect_events_prints_json_lines_in_order(tmp_path: Path) -> None:
    done = _cli("inspect", str(_spool(tmp_path)), "--events")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["k"] == "control" and lines[0]["op"] == "start"
    assert lines[-1]["op"] == "stop"
    assert [x["seq"] for x in lines] == sorted(x["seq"] for x in lines)
    assert [x["k"] for x in lines if x["k"] in ("key_down", "mouse_down")] == ["key_down", "mouse_down"]


def test_errors_are_one_line_with_a_non_zero_exit(tmp_path: Path) -> None:
    done = _cli("inspect", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error:") and "not a spool" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_help_teaches_by_example() -> None:
    done = _cli("record", "--help")
    assert done.returncode == 0 and "Example" in done.stdout and "--duration" in done.stdout
