"""Benchmark of collector ingest: N simulated devices uploading sealed chunks on loopback.

Starts the real collector (``python -m apprentice server``, filesystem blobs + SQLite) as
its own process, enrols N devices, seals every chunk beforehand (sealing is the device's
cost, not the collector's), then lets all devices upload at once — each device sends its
chunks one after another, as the agent does — and prints:

* chunks/s and MB/s accepted, p50/p99 request latency, 429s absorbed, errors, lost chunks;
* the raw sequential write speed of the same disk (same folder, fsync at the end), measured
  in the same run, and the ratio of the two.

Usage:  .venv/bin/python bench/ingest.py [--devices 100 1000] [--chunks 4] [--chunk-kb 256]
                                        [--workers 1 2]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import hashlib
import json
import os
import random
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

from apprentice.client.identity import DeviceIdentity, b64, unb64
from apprentice.client.uploader import DeviceSigner
from apprentice.crypto import ChunkHeader, chunk_id, seal_chunk, signing_public_key
from apprentice.keys import create_master_key
from apprentice.server.storage.metadata import AccountRow, open_metadata

ADMIN = "apa_bench-privacy-officer"


def raw_disk_mb_s(folder: Path, total: int) -> float:
    """Sequential write of ``total`` bytes in 8 MiB blocks, fsynced once at the end."""
    block = os.urandom(8 * 1024 * 1024)
    path = folder / "raw-disk-probe"
    start = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    written = 0
    while written < total:
        written += os.write(fd, block[: min(len(block), total - written)])
    os.fsync(fd)
    os.close(fd)
    elapsed = time.perf_counter() - start
    path.unlink()
    return written / elapsed / 1e6


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its descendants (uvicorn workers)."""
    root = psutil.Process(pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = p.cpu_times()
            total += times.user + times.system
    return total


def start_collector(root: Path, port: int, inflight: int, workers: int) -> subprocess.Popen[bytes]:
    pub = create_master_key(root / "keys")
    (root / "data").mkdir(mode=0o700)
    config = root / "collector.toml"
    config.write_text("\n".join([
        "[server]", f"port = {port}", f'database_url = "sqlite:///{root}/data/collector.db"',
        f'blob_url = "file://{root}/data/chunks"', f'master_key_url = "local://{pub}"',
        f"max_inflight_uploads = {inflight}",
    ]) + "\n")
    previous = os.umask(0o077)  # the collector refuses a database other users can read
    try:
        metadata = open_metadata(f"sqlite:///{root}/data/collector.db")
    finally:
        os.umask(previous)
    row = AccountRow("acc-" + "0" * 32, "privacy_officer", None, datetime.now(UTC), False)
    metadata.add_account(row, hashlib.sha256(ADMIN.encode()).hexdigest())
    metadata.close()
    with open(root / "collector.log", "wb") as log:
        command = [sys.executable, "-m", "apprentice", "server", "--config", str(config)]
        command += ["--workers", str(workers)] if workers != 1 else []  # older collectors lack it
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("collector did not start; see collector.log")


async def enrol_devices(url: str, n: int) -> list[DeviceIdentity]:
    admin = {"Authorization": f"Bearer {ADMIN}", "X-Apprentice-Purpose": "governance"}
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        async def one(i: int) -> DeviceIdentity:
            reply = await client.post("/api/v1/admin/enrolment-tokens", headers=admin,
                                      json={"contributor_id": f"c{i % 50}"})
            seed = os.urandom(32)
            doc = (await client.post("/api/v1/enrolments", json={
                "token": reply.json()["token"], "device_public_key": b64(signing_public_key(seed)),
            })).json()
            return DeviceIdentity(doc["device_id"], doc["contributor_id"], doc["key_id"],
                                  unb64(doc["contributor_public_key"]), url, seed)
        return list(await asyncio.gather(*(one(i) for i in range(n))))


async def upload_all(url: str, work: list[tuple[DeviceIdentity, list[bytes]]]) -> dict[str, object]:
    latencies: list[float] = []
    counts = {"stored": 0, "throttled": 0, "errors": 0, "transport_retries": 0}
    transport_errors: collections.Counter[str] = collections.Counter()  # and final HTTP errors
    # Each device has its own client and keep-alive connection, as real devices do. (One
    # shared httpx pool of hundreds of connections scans them all on every request, and
    # then the benchmark measures httpx instead of the collector.)
    tls = ssl.create_default_context()

    async def device(identity: DeviceIdentity, chunks: list[bytes]) -> None:
        signer = DeviceSigner(identity)
        transport = httpx.AsyncHTTPTransport(verify=tls, limits=httpx.Limits(max_connections=1))
        async with httpx.AsyncClient(base_url=url, timeout=120, transport=transport) as client:
            for sealed in chunks:
                for attempt in range(50):
                    start = time.perf_counter()
                    try:
                        reply = await client.put(f"/api/v1/chunks/{chunk_id(sealed)}", content=sealed,
                                                 auth=signer,
                                                 headers={"Content-Type": "application/octet-stream"})
                    except httpx.TransportError as exc:  # retried, as the agent does
                        counts["transport_retries"] += 1
                        transport_errors[type(exc).__name__] += 1
                        await asyncio.sleep(min(2.0, 0.05 * 2**attempt))
                        continue
                    if reply.status_code == 429:  # as the agent does: Retry-After plus a
                        counts["throttled"] += 1  # full jitter that doubles with each refusal
                        retry_after = float(reply.headers.get("Retry-After", "1"))
                        await asyncio.sleep(retry_after + random.uniform(0, min(300.0, 0.5 * 2**attempt)))
                        continue
                    latencies.append(time.perf_counter() - start)
                    if reply.status_code in (200, 201):
                        counts["stored"] += 1
                    else:
                        counts["errors"] += 1
                        transport_errors[f"HTTP {reply.status_code}"] += 1
                    break
                else:
                    counts["errors"] += 1

    start = time.perf_counter()
    await asyncio.gather(*(device(i, c) for i, c in work))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {"elapsed": elapsed, "latencies": latencies, "transport_errors": dict(transport_errors), **counts}


def run(devices: int, chunks: int, chunk_kb: int, port: int, workers: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="apprentice-ingest-", dir=os.environ.get("BENCH_DIR")) as tmp:
        root = Path(tmp)
        proc = start_collector(root, port, inflight=256, workers=workers)
        try:
            url = f"http://127.0.0.1:{port}"
            identities = asyncio.run(enrol_devices(url, devices))
            payload = os.urandom(chunk_kb * 1024)  # incompressible, like sealed screenshots
            work = []
            for ident in identities:
                headers = [ChunkHeader(ident.contributor_id, ident.device_id, ident.key_id, f"b:{n}")
                           for n in range(chunks)]
                sealed = [seal_chunk(payload, ident.contributor_public_key, h) for h in headers]
                work.append((ident, sealed))
            total_bytes = sum(len(s) for _, c in work for s in c)
            cpu_before, own_before = cpu_seconds(proc.pid), time.process_time()
            result = asyncio.run(upload_all(url, work))
            server_cpu = cpu_seconds(proc.pid) - cpu_before
            client_cpu = time.process_time() - own_before
            metadata = open_metadata(f"sqlite:///{root}/data/collector.db", migrate=False)
            stored_rows = metadata.count_chunks()
            metadata.close()
            raw = raw_disk_mb_s(root, max(total_bytes, 256 * 1024 * 1024))
        finally:
            proc.terminate()
            proc.wait(30)
    lat = result["latencies"]
    elapsed = float(result["elapsed"])  # type: ignore[arg-type]
    mb_s = total_bytes / elapsed / 1e6
    return {
        "devices": devices, "workers": workers, "chunks": devices * chunks, "chunk_kb": chunk_kb,
        "seconds": round(elapsed, 2), "chunks_per_s": round(devices * chunks / elapsed, 1),
        "mb_per_s": round(mb_s, 1),
        "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,  # type: ignore[arg-type]
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 1) if lat else None,  # type: ignore[index]
        "throttled_429": result["throttled"], "errors": result["errors"],
        "error_kinds": result["transport_errors"],
        "lost": devices * chunks - stored_rows,
        "raw_disk_mb_per_s": round(raw, 1), "ratio_vs_raw_disk": round(mb_s / raw, 3),
        # CPU the collector (all its processes) spent per chunk: unlike the rates above, this
        # hardly moves when other work shares the machine.
        "server_cpu_ms_per_chunk": round(server_cpu / (devices * chunks) * 1000, 2),
        "client_cpu_ms_per_chunk": round(client_cpu / (devices * chunks) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--chunks", type=int, default=4, help="chunks per device")
    parser.add_argument("--chunk-kb", type=int, default=256, help="plaintext KiB per chunk")
    parser.add_argument("--port", type=int, default=18750)
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="collector processes to try")
    args = parser.parse_args()
    for workers in args.workers:
        for n in args.devices:
            print(json.dumps(run(n, args.chunks, args.chunk_kb, args.port, workers)), flush=True)


if __name__ == "__main__":
    main()
