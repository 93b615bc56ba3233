"""Issue #7 end to end: two contributors really recorded on Xvfb (the `apprentice record`
process, real redaction, real encrypted spools) → sealed into chunks by the real device
uploader with the real crypto → the pipeline (unwrap as the pipeline identity, decrypt in
memory, full-frame Tesseract OCR redaction, actions, episodes, pseudonymisation, quality)
→ an encrypted dataset version → exported and loaded with `datasets`. No contributor id,
device id, user name, host name or canary in any file; forgetting one contributor and
rebuilding leaves only the other's episodes. The export holds every format (Parquet, OSWorld,
AgentNet, computer_13, WebDataset), and every file of each is scanned (Parquet and tar
decoded).

The collector is the real one (``apprentice server`` in its own process, SQLite + file blobs):
devices enrol and upload with the real agent code; the pipeline reads through the collector's
pipeline API with a pipeline account's token (``HttpChunkSource``), unwraps with ``master.key``
(which the collector never had), and the privacy officer's forget goes through the API.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from apprentice import events as ev
from apprentice.client import SpoolUploader, Uploader, enroll
from apprentice.demo.scripted import ocr_canaries
from apprentice.demo.xvfb import VirtualDisplay, xdotool
from apprentice.pipeline.service import (
    PipelineSettings,
    PipelineWorker,
    QualityFilter,
    VersionSpec,
    build_version,
    export_version,
)
from apprentice.pipeline.service.source import HttpChunkSource
from apprentice.pipeline.service.store import load_or_create_key
from apprentice.spool import open_spool
from tests.integration.collector_proc import configure
from tests.integration.conftest import wait_until
from tests.support import prepare_device
from tests.unit.client.test_agent import spool_key
from tests.unit.pipeline.service.scan import scan

pytestmark = [pytest.mark.display, pytest.mark.slow]

PEOPLE = {
    "alice": {"contributor": "c-alice-4711", "device": "dev-a1b2c3d4", "user": "alicew", "host": "build-07"},
    "bob": {"contributor": "c-bob-0815", "device": "dev-e5f6a7b8", "user": "bobsmith", "host": "laptop-bob"},
}
CANARIES = {"card": "4111 1111 1111 1111", "key": "AKIAZ7QX3MPLCANARY42"}


def _record(
    display: VirtualDisplay,
    open_notepad: Any,
    tmp: Path,
    name: str,
    person: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    config = tmp / f"config-{name}"
    monkeypatch.setenv("APPRENTICE_CONFIG_DIR", str(config))
    prepare_device(["Workpad"])
    title = f"{person['user']}@{person['host']}: /home/{person['user']}/notes"
    editor = open_notepad(title, "workpad", "640x420+40+40")
    spool = tmp / f"spool-{name}"
    env = display.env()
    env["APPRENTICE_CONFIG_DIR"] = str(config)
    recorder = subprocess.Popen(
        [sys.executable, "-m", "apprentice", "record", "--out", str(spool)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    status = config / "status.json"
    try:
        xdotool(display, "windowactivate", "--sync", editor)
        wait_until(lambda: status.exists() and json.loads(status.read_text())["recording"], 30)
        xdotool(display, "mousemove", "200", "120", "click", "1")
        xdotool(display, "type", "--delay", "25", f"cd /home/{person['user']}/src on {person['host']}")
        xdotool(display, "key", "Return")
        xdotool(display, "type", "--delay", "25", f"card {CANARIES['card']} key {CANARIES['key']}")
        xdotool(display, "key", "Return")
        xdotool(display, "mousemove", "260", "220", "click", "1")
        xdotool(display, "type", "--delay", "25", "weekly summary done")
        xdotool(display, "key", "Return")

        def settled() -> bool:
            try:
                events = list(open_spool(spool).events())
            except Exception:
                return False
            return (
                any(
                    isinstance(e, ev.Frame) and e.trigger == "post" and e.t > events[-1].t - 5e9
                    for e in events
                )
                and sum(isinstance(e, ev.KeyDown) and e.key == "enter" for e in events) >= 3
            )

        wait_until(settled, 40)
    finally:
        recorder.send_signal(signal.SIGTERM)
        recorder.wait(60)
    return spool


def _secrets(device_ids: list[str]) -> list[str]:
    values = [v for p in PEOPLE.values() for v in p.values()] + device_ids
    return values + list(CANARIES.values()) + [CANARIES["card"].replace(" ", "")]


def test_two_contributors_recorded_on_xvfb_to_a_clean_dataset_and_forget(
    display: VirtualDisplay, open_notepad: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "collector-data"
    data.mkdir(mode=0o700)
    collector = configure(tmp_path / "srv", f"sqlite:///{data}/collector.db", f"file://{data}/chunks")
    collector.start()
    devices = []
    try:
        for name, person in PEOPLE.items():
            spool = _record(display, open_notepad, tmp_path, name, person, monkeypatch)
            device_dir = tmp_path / f"device-{name}"
            device_dir.mkdir()
            identity = enroll(collector.url, collector.issue_token(person["contributor"]), device_dir)
            devices.append(identity.device_id)
            uploader = Uploader(identity)
            assert SpoolUploader(spool, spool_key(spool), uploader).run_once().new >= 2
            uploader.close()
        token_file = tmp_path / "pipeline.token"
        token_file.write_text(collector.create_account("pipeline") + "\n")
        token_file.chmod(0o600)
        source = HttpChunkSource(collector.url, token_file)
        try:
            _build_forget_rebuild(collector, source, devices, tmp_path)
        finally:
            source.close()
    finally:
        collector.stop()


def _build_forget_rebuild(
    collector: Any, source: HttpChunkSource, devices: list[str], tmp_path: Path
) -> None:
    import datasets

    secrets = _secrets(devices)
    settings = PipelineSettings(
        data_dir=tmp_path / "pipeline",
        master_key_url=f"local://{collector.master_key}",
        key_dir=tmp_path / "pipeline-keys",
        executor="local",
        workers=2,
    )
    worker = PipelineWorker(settings, source)
    stats = worker.run_once()
    assert stats.failed == 0 and stats.frames > 0 and stats.build.sessions == 2
    key = load_or_create_key(tmp_path / "pipeline-keys", "dataset-e2e.key")
    spec = VersionSpec(quality=QualityFilter(min_steps=1, max_redacted_share=1.0))
    v1 = build_version(worker.state, worker.store, key, tmp_path / "pipeline", "e2e", spec)
    out = tmp_path / "export-v1"
    export_version(v1.folder, key, out, purpose="model_training",
                   formats=("parquet", "osworld", "agentnet", "computer13", "wds"))
    assert all((out / folder).is_dir() for folder in ("osworld", "agentnet", "computer13", "wds"))
    splits = "+".join(sorted(v1.splits))
    steps = datasets.load_dataset(str(out), split=splits, cache_dir=f"{out}-cache")
    episodes = datasets.load_dataset(str(out), "episodes", split=splits, cache_dir=f"{out}-cache")
    assert len(set(episodes["contributor"])) == 2 and len(steps) == v1.steps
    assert any(t and "/home/<USER>/src" in t for t in steps["text"])
    rows = json.dumps([steps.to_list(), episodes.to_list()], default=str)
    assert [s for s in secrets if s in rows] == []
    # The export, the sealed versions and the sealed store (pipeline.db is the pipeline
    # identity's private bookkeeping: it must know whose episodes to withdraw).
    for folder in (out, tmp_path / "pipeline" / "datasets", tmp_path / "pipeline" / "store"):
        assert scan(folder, secrets) == {}
    images = [p.read_bytes() for p in (out / "images").iterdir()]
    assert images and ocr_canaries(images, CANARIES) == set()

    # Forget alice: her episodes are withdrawn, the next version holds only bob's.
    import httpx

    alice = PEOPLE["alice"]["contributor"]
    forgotten = httpx.post(f"{collector.url}/api/v1/admin/contributors/{alice}/forget",
                           headers={"Authorization": f"Bearer {collector.admin_token}",
                                    "X-Apprentice-Purpose": "governance"}, timeout=30)
    assert forgotten.status_code == 200, forgotten.text
    assert worker.run_once().tombstones == 1
    v2 = build_version(worker.state, worker.store, key, tmp_path / "pipeline", "e2e", spec)
    out2 = tmp_path / "export-v2"
    export_version(v2.folder, key, out2, purpose="model_training")
    kept = datasets.load_dataset(
        str(out2), "episodes", split="+".join(sorted(v2.splits)), cache_dir=f"{out2}-cache"
    )
    assert len(set(kept["contributor"])) == 1 and set(kept["contributor"]) < set(episodes["contributor"])
    bob = {e.episode_id for e in worker.state.episodes() if e.contributor_id == PEOPLE["bob"]["contributor"]}
    assert set(kept["episode_id"]) == bob
    assert worker.state.version_status("e2e", v1.version) == "withdrawn"
    worker.close()
    assert os.listdir(tmp_path / "pipeline" / "store" / "episodes") == sorted(bob)
