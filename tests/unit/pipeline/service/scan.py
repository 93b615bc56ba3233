"""Scanning helpers: which of some secret strings appear in any file under a folder.

Raw bytes first; then the *decoded* content of formats that compress or wrap text — Parquet
rows (zstd pages) and tar members — so a secret hidden by compression is still found.
Shared by the unit tests here and tests/integration/test_pipeline_e2e.py.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterable
from pathlib import Path


def decoded(path: Path) -> bytes:
    """A file's bytes plus, for Parquet and tar, the text of what is inside."""
    data = path.read_bytes()
    parts = [data]
    if data[:4] == b"PAR1":
        import pyarrow.parquet as pq

        parts.append(json.dumps(pq.read_table(io.BytesIO(data)).to_pylist(), default=str,
                                ensure_ascii=False).encode())
    elif path.suffix == ".tar":
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar.getmembers():
                handle = tar.extractfile(member)
                if handle is not None:
                    parts.append(handle.read())
    return b"\n".join(parts)


def scan(folder: Path, secrets: Iterable[str]) -> dict[str, list[str]]:
    """Every file under ``folder`` → the secrets it contains (empty: clean)."""
    wanted = list(secrets)
    hits: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = decoded(path)
            found = [s for s in wanted if s.encode() in data]
            if found:
                hits[str(path)] = found
    return hits
