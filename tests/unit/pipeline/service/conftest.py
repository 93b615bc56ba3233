"""Two contributors' recordings (fake capture backends, real encrypted spools), sealed into
chunks with the real crypto and held by a :class:`MemoryCollector`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from apprentice.demo.memcollector import MemoryCollector
from apprentice.events import Rect, WindowInfo
from apprentice.pipeline.service import PipelineSettings, PipelineWorker
from tests.unit.helpers import NoTextOcr, fake_session

PEOPLE = {
    # contributor id, device id, user name, host name: none of these may reach a dataset
    "alice": ("c-alice-4711", "dev-a1b2c3d4", "alicew", "build-07"),
    "bob": ("c-bob-0815", "dev-e5f6a7b8", "bobsmith", "laptop-bob"),
}
# Typed by both people; the redactors (on the device, then in the pipeline) must remove them.
CANARIES = ("4111 1111 1111 1111", "4111111111111111", "AKIAZ7QX3MPLCANARY42")


def _keys(text: str) -> list[tuple[str, dict[str, object]]]:
    return [("key_down", {"key": c, "vk": ord(c), "char": c}) for c in text] + [
        ("key_down", {"key": "enter", "vk": 13})
    ]


def _click(x: int, y: int) -> list[tuple[str, dict[str, object]]]:
    return [
        ("mouse_down", {"x": x, "y": y, "button": "left"}),
        ("mouse_up", {"x": x, "y": y, "button": "left"}),
    ]


def record_person(spool: Path, user: str, host: str, contributor: str, device: str) -> None:
    window = WindowInfo(
        wid=1,
        app_id="Editor",
        process="editor",
        title=f"{user}@{host}: ~/src — /home/{user}/src/notes.txt",
        bounds=Rect(0, 0, 64, 48),
        url=f"http://{host}:8080/home/{user}/wiki?owner={contributor}",
    )
    session, inputs, windows, screen, _ = fake_session(spool, window=window)
    session.start()
    inputs.play(_click(5, 5) + _keys(f"cd /home/{user}/src") + _click(9, 9))
    screen.shade = 40
    inputs.play(_keys(f"ssh {user}@{host} {device}") + _click(12, 7))
    inputs.play(_keys(f"card {CANARIES[0]} key {CANARIES[2]}") + _click(20, 9))
    session.stop()


@dataclass
class Recorded:
    collector: MemoryCollector
    tmp: Path

    def settings(self, name: str = "data", **options: object) -> PipelineSettings:
        options.setdefault("executor", "inline")
        options.setdefault("ocr", NoTextOcr())
        return PipelineSettings(
            data_dir=self.tmp / name,
            master_key_url=self.collector.master_key_url,
            key_dir=self.tmp / "pipeline-keys",
            **options,
        )  # type: ignore[arg-type]

    def worker(self, name: str = "data", **options: object) -> PipelineWorker:
        return PipelineWorker(self.settings(name, **options), self.collector.source)


@pytest.fixture
def recorded(tmp_path: Path) -> Recorded:
    collector = MemoryCollector(tmp_path / "master")
    for name, (contributor, device, user, host) in PEOPLE.items():
        spool = tmp_path / f"spool-{name}"
        record_person(spool, user, host, contributor, device)
        assert collector.upload(spool, collector.enrol(contributor, device)) >= 2
    return Recorded(collector, tmp_path)
