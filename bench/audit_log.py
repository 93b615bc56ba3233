"""Benchmark of the audit log: the Merkle tree at 10^6 entries, and durable appends on SQLite.

Measures (single process, this machine):
* MerkleTree: append N leaf hashes, then root / inclusion proof / consistency proof at
  random sizes (mean per call), and the tree's memory;
* AuditLog on a file SQLite database: record() one at a time, and from 8 threads (group
  commit), entries per second;
* verify_log over the SQLite log (entries per second).

Usage:  .venv/bin/python bench/audit_log.py [--leaves 1000000] [--records 2000] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, datetime

from apprentice.audit import AuditLog, CheckpointSigner, verify_log
from apprentice.audit.merkle import MerkleTree
from apprentice.server.storage.metadata import SqlAuditStore, open_metadata


def tree_figures(n: int) -> dict[str, float]:
    leaves = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]
    tracemalloc.start()
    t0 = time.perf_counter()
    tree = MerkleTree()
    for h in leaves:
        tree.append(h)
    append_s = time.perf_counter() - t0
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    rng = random.Random(1)
    calls = 2000
    t0 = time.perf_counter()
    for _ in range(calls):
        tree.root(rng.randint(1, n))
    root_us = (time.perf_counter() - t0) / calls * 1e6
    t0 = time.perf_counter()
    for _ in range(calls):
        size = rng.randint(1, n)
        tree.inclusion_proof(rng.randrange(size), size)
    incl_us = (time.perf_counter() - t0) / calls * 1e6
    t0 = time.perf_counter()
    for _ in range(calls):
        new = rng.randint(1, n)
        tree.consistency_proof(rng.randint(1, new), new)
    cons_us = (time.perf_counter() - t0) / calls * 1e6
    return {"leaves": n, "append_per_s": n / append_s, "tree_mb": memory / 1e6,
            "root_us": root_us, "inclusion_us": incl_us, "consistency_us": cons_us}


def sql_figures(records: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        db = open_metadata(f"sqlite:///{folder}/bench.db")
        log = AuditLog(SqlAuditStore(db.engine))

        def one(i: int) -> None:
            log.record(actor=f"account:acc-{i % 7}", role="Pipeline", action="read",
                       resource=f"RawChunk:{i:064x}", subject=f"c-{i % 50}", purpose="processing",
                       decision="allow", at=datetime.now(UTC))

        t0 = time.perf_counter()
        for i in range(records):
            one(i)
        serial = records / (time.perf_counter() - t0)
        per_thread = records // 8
        t0 = time.perf_counter()
        threads = [threading.Thread(target=lambda b=b: [one(b + i) for i in range(per_thread)])
                   for b in range(0, records, per_thread)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        threaded = per_thread * len(threads) / (time.perf_counter() - t0)
        signer = CheckpointSigner(b"\x01" * 32)
        cp = log.checkpoint(signer)
        t0 = time.perf_counter()
        report = verify_log(log.store, signer.verifier, [cp])
        verify_rate = report.size / (time.perf_counter() - t0)
        assert report.ok
        db.close()
    return {"records_serial_per_s": serial, "records_8_threads_per_s": threaded,
            "verify_entries_per_s": verify_rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = {**tree_figures(args.leaves), **sql_figures(args.records)}
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for name, value in figures.items():
            print(f"{name:28s} {value:,.1f}")


if __name__ == "__main__":
    main()
