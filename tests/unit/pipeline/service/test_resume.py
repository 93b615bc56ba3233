"""Crash in the middle of a run (SIGKILL of a real worker process), restart: the run resumes
and the dataset has exactly the rows of an uninterrupted run — none twice, none missing."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

from apprentice.pipeline.service import QualityFilter, VersionSpec, build_version, export_version
from apprentice.pipeline.service.state import open_state
from apprentice.pipeline.service.store import load_or_create_key
from tests.unit.pipeline.service.conftest import Recorded

ROOT = Path(__file__).resolve().parents[4]
WORKER = """
import pickle, sys, time
from pathlib import Path
from apprentice.pipeline.service import PipelineSettings, PipelineWorker

class SlowOcr:  # reads no words, slowly: the kill lands in the middle of a page
    def words(self, image, timeout):
        time.sleep(0.4)
        return []

source, master, keys, data = pickle.loads(Path(sys.argv[1]).read_bytes())
settings = PipelineSettings(data_dir=Path(data), master_key_url=master, key_dir=Path(keys),
                            executor="inline", page_size=1, ocr=SlowOcr())
worker = PipelineWorker(settings, source)
worker.run_once()
worker.close()
"""


def _recorded_chunks(db: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("select count(*) from chunks").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def _rows(recorded: Recorded, data: str) -> tuple[list[tuple[str, int]], list[str]]:
    import datasets

    state = open_state(f"sqlite:///{recorded.tmp / data / 'pipeline.db'}")
    from apprentice.pipeline.service.store import STATE_KEY, SealedFiles

    store = SealedFiles(
        recorded.tmp / data / "store", load_or_create_key(recorded.tmp / "pipeline-keys", STATE_KEY)
    )
    key = load_or_create_key(recorded.tmp / "pipeline-keys", "dataset-ds.key")
    version = build_version(
        state, store, key, recorded.tmp / data, "ds", VersionSpec(quality=QualityFilter(1))
    )
    out = recorded.tmp / f"{data}-export"
    export_version(version.folder, key, out, purpose="model_training")
    steps = datasets.load_dataset(str(out), split="+".join(sorted(version.splits)), cache_dir=f"{out}-cache")
    state.close()
    return sorted(zip(steps["episode_id"], steps["step_index"], strict=True)), sorted(steps["pyautogui"])


def test_sigkill_mid_run_then_restart_gives_the_same_rows_once(recorded: Recorded) -> None:
    # a few more sessions, so there are several pages of chunks to be in the middle of
    from tests.unit.pipeline.service.conftest import record_person

    for n in range(2):
        spool = recorded.tmp / f"spool-extra{n}"
        record_person(spool, "carol", "ws-3", "c-carol", f"dev-c{n}")
        recorded.collector.upload(spool, recorded.collector.enrol("c-carol", f"dev-c{n}"))
    job = recorded.tmp / "job.pickle"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))

    def launch(data: str) -> subprocess.Popen[bytes]:
        job.write_bytes(
            pickle.dumps(
                (
                    recorded.collector.source,
                    recorded.collector.master_key_url,
                    str(recorded.tmp / "pipeline-keys"),
                    str(recorded.tmp / data),
                )
            )
        )
        return subprocess.Popen([sys.executable, "-c", WORKER, str(job)], env=env)

    clean = launch("clean")
    assert clean.wait(120) == 0
    crashed = launch("crashed")
    db = recorded.tmp / "crashed" / "pipeline.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until some chunks are recorded, not all
        if db.exists() and _recorded_chunks(db) >= 2:
            break
        time.sleep(0.05)
    crashed.send_signal(signal.SIGKILL)
    crashed.wait(30)
    partial = _recorded_chunks(db)
    assert 2 <= partial < len(recorded.collector.source.chunks)  # it really died mid-run
    assert launch("crashed").wait(120) == 0  # restart: resumes from the cursor
    rows, code = _rows(recorded, "crashed")
    assert len(rows) == len(set(rows))
    assert (rows, code) == _rows(recorded, "clean")
