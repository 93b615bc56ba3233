"""WebDataset shards: ``wds/shard-NNNNNN.tar``, one sample per step.

A sample is ``<key>.json`` (the step row plus the episode's instruction) and, when the
step has a pre-action screenshot, ``<key>.<ext>`` with its bytes. Keys are
``<episode_id>_<step index, 5 digits>`` — no dots, as WebDataset splits at the first
one. Tar members carry fixed metadata (mtime 0, root, 0644) so shards are byte-for-byte
reproducible.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from apprentice.pipeline.dataset import Dataset
from apprentice.pipeline.export._images import write_images
from apprentice.pipeline.export._rows import step_row


class WdsExporter:
    name = "wds"

    def write(self, dataset: Dataset, out_dir: Path) -> list[str]:
        images = write_images(dataset, out_dir)
        samples = [(e, s) for e in dataset.episodes for s in e.steps]
        size = max(1, dataset.config.wds_shard_size)
        folder = out_dir / "wds"
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for shard, start in enumerate(range(0, len(samples), size)):
            name = f"wds/shard-{shard:06d}.tar"
            with tarfile.open(out_dir / name, "w", format=tarfile.PAX_FORMAT) as tar:
                for episode, step in samples[start:start + size]:
                    key = f"{episode.id}_{step.index:05d}"
                    row = step_row(episode, step, images)
                    row["instruction"] = episode.instruction
                    _add(tar, f"{key}.json", json.dumps(row, ensure_ascii=False).encode())
                    image = images.get(step.pre.blob) if step.pre else None
                    if image is not None:
                        ext = image.rsplit(".", 1)[1]
                        _add(tar, f"{key}.{ext}", (out_dir / image).read_bytes())
            written.append(name)
        return written


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


EXPORTER = WdsExporter()
