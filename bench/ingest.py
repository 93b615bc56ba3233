"""Benchmark of collector ingest: N simulated devices uploading sealed chunks on loopback.

Starts the real collector (``python -m apprentice server``, filesystem blobs + SQLite) as
its own process, enrols N devices, prepares every chunk beforehand (sealing and hashing are
the device's cost, not the collector's), then lets all devices upload at once — each device
sends its chunks one after another, as the agent does — and prints:

* chunks/s and MB/s accepted, p50/p99 request latency, 429s absorbed, errors, lost chunks;
* the raw sequential write speed of the same disk (same folder, fsync at the end), measured
  in the same run, and the ratio of the two.

Chunk sizes: by default the sizes an agent really uploads (:func:`workday_chunk_sizes`): a
chunk is a closed spool segment, and segments close when full (``SpoolWriter``'s limits) or
when the recorder stops, so they follow from the recorder's measured output rates and how
long it runs. ``--chunk-kb N`` uploads fixed-size chunks instead (a small-chunk stress case).

Chunk bodies are shaped like sealed chunks — the plaintext header a device writes (contributor,
device, key id, origin), then incompressible bytes standing for the HPKE ciphertext — cut
from one shared random buffer, so that 1,000 devices' worth of 30 MB chunks need no 30 GB of
memory or hours of sealing. The collector cannot tell (it holds no key, and checks the
header, the hash and the signature exactly as for a real chunk).

Usage:  .venv/bin/python bench/ingest.py [--devices 100 1000] [--chunks N] [--max-gb 25] [--chunk-kb N]
                                        [--session-hours 4] [--workers 1 2] [--inflight 256]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import concurrent.futures
import contextlib
import hashlib
import inspect
import json
import os
import random
import shutil
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

from apprentice.client.identity import DeviceIdentity, b64, unb64
from apprentice.crypto import ChunkHeader, request_message, sign, signing_public_key
from apprentice.crypto.sealed import MAGIC
from apprentice.crypto.signing import new_nonce
from apprentice.keys import create_master_key
from apprentice.server.storage.metadata import AccountRow, open_metadata
from apprentice.spool.writer import SpoolWriter

ADMIN = "apa_bench-privacy-officer"
# What the recorder writes to its spool per minute of typical use (docs/benchmarks.md,
# "Recorder", typical workload: frames 643 kB/min, input events 39 kB/min).
FRAME_BYTES_PER_MIN = 643_000
EVENT_BYTES_PER_MIN = 39_000
_SEND_PIECE = 1024 * 1024
_RAW_PROBE_MAX = 8 * 1024**3


def workday_chunk_sizes(session_hours: float) -> list[int]:
    """The chunks one recorder session of ``session_hours`` leaves for upload: full segments
    (the spool writer's own size limits) and the two partly filled ones it closes at the end."""
    defaults = inspect.signature(SpoolWriter.__init__).parameters
    limits = {"events": defaults["segment_bytes"].default, "frames": defaults["frame_segment_bytes"].default}
    minutes = session_hours * 60
    sizes = []
    for stream, per_min in (("frames", FRAME_BYTES_PER_MIN), ("events", EVENT_BYTES_PER_MIN)):
        total = int(per_min * minutes)
        full, rest = divmod(total, limits[stream])
        sizes += [limits[stream]] * full + ([rest] if rest else [])
    return sizes


class ChunkBodies:
    """Sealed-chunk-shaped bodies cut from one shared random buffer (see the module docstring)."""

    def __init__(self, largest: int) -> None:
        self._random = os.urandom(largest + 4096)

    def body(self, header: ChunkHeader, size: int, index: int) -> list[bytes | memoryview]:
        encoded = header.encode()
        prefix = MAGIC + struct.pack(">H", len(encoded)) + encoded
        offset = (index * 4099) % 4096  # neighbours differ beyond their headers too
        rest = max(size - len(prefix), 64)  # at least the HPKE encapsulation and tag
        view = memoryview(self._random)[offset: offset + rest]
        return [prefix] + [view[i: i + _SEND_PIECE] for i in range(0, rest, _SEND_PIECE)]


def digest_of(parts: list[bytes | memoryview]) -> tuple[str, int]:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest(), sum(len(p) for p in parts)


def raw_disk_mb_s(folder: Path, total: int, name: str = "raw-disk-probe") -> float:
    """Sequential write of ``total`` bytes in 8 MiB blocks, fsynced once at the end. The file
    is left for the caller to delete: this VM's disk rewrites recently freed blocks 3-5x
    faster than it writes others (docs/benchmarks.md), so probes must not free blocks that
    the collector or the next probe would then reuse."""
    block = os.urandom(8 * 1024 * 1024)
    path = folder / name
    start = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    written = 0
    while written < total:
        written += os.write(fd, block[: min(len(block), total - written)])
    os.fsync(fd)
    os.close(fd)
    elapsed = time.perf_counter() - start
    return written / elapsed / 1e6


class PeakMemory:
    """Samples the resident memory of a process and its children (uvicorn workers) every
    0.2 s in a background thread; ``peak_mb`` is the largest total seen."""

    def __init__(self, pid: int) -> None:
        self._root = psutil.Process(pid)
        self._stop = threading.Event()
        self.peak_mb = 0.0
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            total = 0
            for p in [self._root, *self._root.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += p.memory_info().rss
            self.peak_mb = max(self.peak_mb, total / 1e6)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU time of a process and all its descendants (uvicorn workers)."""
    root = psutil.Process(pid)
    user = system = 0.0
    for p in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = p.cpu_times()
            user, system = user + times.user, system + times.system
    return user, system


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


Prepared = tuple[str, int, list[bytes | memoryview]]  # chunk id, size, body parts


def signed_headers(identity: DeviceIdentity, path: str, digest: str, size: int) -> dict[str, str]:
    """The headers the agent's DeviceSigner sets, from the body's hash (computed beforehand)."""
    timestamp, nonce = int(time.time()), new_nonce()
    message = request_message("PUT", path, identity.device_id, timestamp, nonce, b"", body_sha256=digest)
    signature = base64.urlsafe_b64encode(sign(identity.signing_seed, message)).decode().rstrip("=")
    return {"X-Apprentice-Device": identity.device_id, "X-Apprentice-Timestamp": str(timestamp),
            "X-Apprentice-Nonce": nonce, "X-Apprentice-Signature": signature,
            "Content-Type": "application/octet-stream", "Content-Length": str(size)}


async def upload_all(url: str, work: Work) -> dict[str, object]:
    latencies: list[float] = []
    counts = {"stored": 0, "throttled": 0, "errors": 0, "transport_retries": 0}
    transport_errors: collections.Counter[str] = collections.Counter()  # and final HTTP errors
    # Each device has its own client and keep-alive connection, as real devices do. (One
    # shared httpx pool of hundreds of connections scans them all on every request, and
    # then the benchmark measures httpx instead of the collector.)
    tls = ssl.create_default_context()

    async def device(identity: DeviceIdentity, chunks: list[Prepared]) -> None:
        transport = httpx.AsyncHTTPTransport(verify=tls, limits=httpx.Limits(max_connections=1))
        async with httpx.AsyncClient(base_url=url, timeout=600, transport=transport) as client:
            for cid, size, parts in chunks:
                for attempt in range(50):
                    start = time.perf_counter()
                    path = f"/api/v1/chunks/{cid}"

                    async def pieces(parts: list[bytes | memoryview] = parts) -> AsyncIterator[bytes]:
                        for part in parts:
                            yield bytes(part)
                    try:
                        reply = await client.put(path, content=pieces(),
                                                 headers=signed_headers(identity, path, cid, size))
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


Work = list[tuple[DeviceIdentity, list[Prepared]]]


def prepare(identities: list[DeviceIdentity], chunks: int, sizes: list[int]) -> Work:
    """Every device's chunks, hashed beforehand (on both cores: hashlib releases the GIL)."""
    bodies = ChunkBodies(max(sizes))
    plan = []
    for d, ident in enumerate(identities):
        for n in range(chunks):
            size = sizes[(d + n) % len(sizes)]  # device d starts at a different place in the mix
            header = ChunkHeader(ident.contributor_id, ident.device_id, ident.key_id, f"b:{n}")
            plan.append((d, bodies.body(header, size, d * chunks + n)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        digests = list(pool.map(lambda item: digest_of(item[1]), plan))
    work: Work = [(ident, []) for ident in identities]
    for (d, parts), (cid, size) in zip(plan, digests, strict=True):
        work[d][1].append((cid, size, parts))
    return work


def run(devices: int, chunks: int, sizes: list[int], port: int, workers: int,
        inflight: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="apprentice-ingest-", dir=os.environ.get("BENCH_DIR")) as tmp:
        root = Path(tmp)
        proc = start_collector(root, port, inflight=inflight, workers=workers)
        try:
            url = f"http://127.0.0.1:{port}"
            identities = asyncio.run(enrol_devices(url, devices))
            work = prepare(identities, chunks, sizes)
            total_bytes = sum(size for _, c in work for _, size, _ in c)
            probe_bytes = min(max(total_bytes, 256 * 1024 * 1024), _RAW_PROBE_MAX)
            raws = [raw_disk_mb_s(root, probe_bytes, "raw-disk-probe-0")]
            cpu_before, own_before = cpu_seconds(proc.pid), time.process_time()
            with PeakMemory(proc.pid) as memory:
                result = asyncio.run(upload_all(url, work))
            user_after, sys_after = cpu_seconds(proc.pid)
            server_user, server_sys = user_after - cpu_before[0], sys_after - cpu_before[1]
            client_cpu = time.process_time() - own_before
            metadata = open_metadata(f"sqlite:///{root}/data/collector.db", migrate=False)
            stored_rows = metadata.count_chunks()
            metadata.close()
            # Two more probes after the upload (none deleted before the last). The figure is
            # the ratio against the probe taken just before the upload, in the state the
            # collector found the disk: on this VM, probes after a large upload run 2-5x
            # faster than any write before it (docs/benchmarks.md, "Collector ingest");
            # the ratios against the median and the fastest probe are printed too.
            raws += [raw_disk_mb_s(root, probe_bytes, f"raw-disk-probe-{n}") for n in (1, 2)]
            raw = raws[0]
        finally:
            proc.terminate()
            proc.wait(30)
    lat = result["latencies"]
    elapsed = float(result["elapsed"])  # type: ignore[arg-type]
    mb_s = total_bytes / elapsed / 1e6
    return {
        "devices": devices, "workers": workers, "chunks": devices * chunks,
        "chunk_mb_mean": round(total_bytes / (devices * chunks) / 1e6, 2),
        "gb_total": round(total_bytes / 1e9, 2),
        "seconds": round(elapsed, 2), "chunks_per_s": round(devices * chunks / elapsed, 1),
        "mb_per_s": round(mb_s, 1),
        "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,  # type: ignore[arg-type]
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 1) if lat else None,  # type: ignore[index]
        "throttled_429": result["throttled"], "errors": result["errors"],
        "error_kinds": result["transport_errors"],
        "lost": devices * chunks - stored_rows,
        "raw_disk_mb_per_s": round(raw, 1), "raw_disk_probes": [round(r) for r in raws],
        "ratio_vs_raw_disk": round(mb_s / raw, 3),
        "ratio_vs_median_probe": round(mb_s / statistics.median(raws), 3),
        "ratio_vs_fastest_probe": round(mb_s / max(raws), 3),
        "server_peak_rss_mb": round(memory.peak_mb),
        # CPU the collector (all its processes) spent per chunk: unlike the rates above, this
        # hardly moves when other work shares the machine.
        "server_cpu_ms_per_chunk": round((server_user + server_sys) / (devices * chunks) * 1000, 2),
        "server_cpu_ms_per_mb": round((server_user + server_sys) / (total_bytes / 1e6) * 1000, 2),
        "server_sys_share": round(server_sys / (server_user + server_sys), 2),
        "client_cpu_ms_per_chunk": round(client_cpu / (devices * chunks) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--chunks", type=int, default=None,
                        help="chunks per device (default 4, fewer if a run would write more than --max-gb)")
    parser.add_argument("--max-gb", type=float, default=25.0,
                        help="cap on the chunk data of one run when --chunks is not given")
    parser.add_argument("--chunk-kb", type=int, default=None,
                        help="fixed chunk size in KiB (default: the sizes an agent uploads, "
                             "see --session-hours)")
    parser.add_argument("--session-hours", type=float, default=4.0,
                        help="how long the recorder runs before it stops and closes its segments")
    parser.add_argument("--port", type=int, default=18750)
    parser.add_argument("--inflight", type=int, default=256, help="the collector's max_inflight_uploads")
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="collector processes to try")
    args = parser.parse_args()
    sizes = [args.chunk_kb * 1024] if args.chunk_kb else workday_chunk_sizes(args.session_hours)
    print(json.dumps({"chunk_sizes_mb": [round(s / 1e6, 2) for s in sizes]}), flush=True)
    mean = statistics.mean(sizes)
    for workers in args.workers:
        for n in args.devices:
            chunks = args.chunks or max(1, min(4, int(args.max_gb * 1e9 // (n * mean))))
            check_room(n * chunks * mean)
            print(json.dumps(run(n, chunks, sizes, args.port, workers, args.inflight)), flush=True)


def check_room(chunk_bytes: float) -> None:
    """Refuse a run that would fill the disk (the chunks, plus three raw-disk probes)."""
    folder = os.environ.get("BENCH_DIR") or tempfile.gettempdir()
    probes = 3 * min(max(chunk_bytes, 256 * 1024 * 1024), _RAW_PROBE_MAX)
    free = shutil.disk_usage(folder).free
    if (chunk_bytes + probes) * 1.1 > free:
        raise SystemExit(
            f"this run writes about {(chunk_bytes + probes) / 1e9:.0f} GB but {folder} has "
            f"{free / 1e9:.0f} GB free; set BENCH_DIR to a roomier disk, or lower --chunks or --max-gb"
        )


if __name__ == "__main__":
    main()
