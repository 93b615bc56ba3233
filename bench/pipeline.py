"""Benchmark of the processing pipeline end to end: sealed chunks → dataset version.

Records two contributors on Xvfb with the real recorder (the scripted sessions of
``bench/actions.py``), seals their spools into chunks with the real device uploader and
real crypto (``apprentice.demo.memcollector``), then runs the pipeline service on the same
input twice — the local process-pool executor and a local Ray instance, both with the
same number of CPUs — each from an empty data folder: unwrap, decrypt in memory, full-frame
Tesseract redaction of every frame, actions, episodes, pseudonymisation, quality, and an
encrypted dataset version. Prints steps/s and episodes/s end to end, the share of worker
time spent in OCR, and whether the two versions are byte-identical.

Usage:  .venv/bin/python bench/pipeline.py [--actions 120] [--workers 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from actions import _allow_bench_editors, machine, record_script

from apprentice.demo.memcollector import MemoryCollector
from apprentice.pipeline.service import (
    PipelineSettings,
    PipelineWorker,
    QualityFilter,
    VersionSpec,
    build_version,
)
from apprentice.pipeline.service.store import load_or_create_key


def run(collector: MemoryCollector, work: Path, name: str, executor: str, workers: int) -> dict[str, Any]:
    settings = PipelineSettings(
        data_dir=work / name,
        master_key_url=collector.master_key_url,
        key_dir=work / "pipeline-keys",
        executor=executor,
        workers=workers,
    )
    started = time.perf_counter()
    worker = PipelineWorker(settings, collector.source)
    ready = time.perf_counter()
    stats = worker.run_once(finalize=True)
    key = load_or_create_key(work / "pipeline-keys", "dataset-bench.key")
    version = build_version(
        worker.state,
        worker.store,
        key,
        work / name,
        "bench",
        VersionSpec(quality=QualityFilter(min_steps=1, max_redacted_share=1.0)),
    )
    seconds = time.perf_counter() - started
    worker.close()
    files = {
        str(p.relative_to(version.folder)): p.read_bytes() for p in version.folder.rglob("*") if p.is_file()
    }
    return {
        "executor": executor,
        "seconds": round(seconds, 2),
        "startup_s": round(ready - started, 2),
        "chunks": stats.chunks,
        "frames": stats.frames,
        "frames_dropped": stats.frames_dropped,
        "event_chunks_decrypted_to_build": stats.build.chunks_read,
        "episodes": version.episodes,
        "steps": version.steps,
        "steps_per_s": round(version.steps / seconds, 1),
        "episodes_per_s": round(version.episodes / seconds, 2),
        "ocr_share_of_worker_time": round(stats.ocr_seconds / stats.chunk_seconds, 3)
        if stats.chunk_seconds
        else 0,
        "ocr_share_of_wall_time": round(stats.ocr_seconds / workers / seconds, 3),
        "_files": files,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=120, help="scripted actions per contributor")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["APPRENTICE_KEY_DIR"] = str(work / "keys")
        os.environ["APPRENTICE_CONFIG_DIR"] = str(work / "config")
        _allow_bench_editors()
        collector = MemoryCollector(work / "master")
        for number, (contributor, device) in enumerate((("c-bench-1", "dev-b1"), ("c-bench-2", "dev-b2"))):
            _, spool, _ = record_script(args.actions, 7 + number, work / f"rec{number}")
            collector.upload(spool, collector.enrol(contributor, device))
        results = [
            run(collector, work, "local", "local", args.workers),
            run(collector, work, "ray", "ray", args.workers),
        ]
    identical = results[0].pop("_files") == results[1].pop("_files")
    report = {
        "machine": machine(),
        "python": platform.python_version(),
        "actions_per_contributor": args.actions,
        "workers": args.workers,
        "runs": results,
        "byte_identical": identical,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"{report['machine']['cpu']} ({report['machine']['cpus']} CPUs), {args.workers} workers, "
        f"2 contributors x {args.actions} scripted actions"
    )
    print(
        f"{'executor':<9}{'chunks':>7}{'frames':>7}{'episodes':>9}{'steps':>7}{'seconds':>9}"
        f"{'steps/s':>9}{'episodes/s':>11}{'OCR share':>10}"
    )
    for r in results:
        print(
            f"{r['executor']:<9}{r['chunks']:>7}{r['frames']:>7}{r['episodes']:>9}{r['steps']:>7}"
            f"{r['seconds']:>9}{r['steps_per_s']:>9}{r['episodes_per_s']:>11}"
            f"{r['ocr_share_of_worker_time']:>10.1%}"
        )
    print(f"event chunks decrypted to build sessions: "
          f"{', '.join(str(r['event_chunks_decrypted_to_build']) for r in results)} (one per event chunk)")
    print(f"dataset versions byte-identical: {identical}")


if __name__ == "__main__":
    main()
