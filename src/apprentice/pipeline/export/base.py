"""The exporter contract: one training-data format, written from a :class:`Dataset`.

An exporter is a small object with a ``name`` (its key in ``EXPORTERS``) and one method,
``write(dataset, out_dir)``. It writes only under ``out_dir`` — images go to the shared
``out_dir/images/`` folder named by content hash, its own files to its own subfolder (the
Parquet exporter owns ``data/`` and ``README.md``) — and returns the paths it wrote,
relative to ``out_dir``. Output is deterministic: the same dataset gives byte-identical
files (sorted keys where order is free, fixed tar metadata, no wall-clock times). An
exporter never changes the dataset and never logs step content.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from apprentice.pipeline.dataset import Dataset


class Exporter(Protocol):
    name: str

    def write(self, dataset: Dataset, out_dir: Path) -> list[str]:
        """Write ``dataset`` in this format under ``out_dir``; return the files written."""
        ...
