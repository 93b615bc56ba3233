"""Frame images on disk: ``images/<blob hash>.<ext>``, written once, shared by formats.

Named by content hash, so a frame used by many steps (or by several formats) is one
file, and writing it again is a no-op. An image ``load_frame`` cannot supply is left out
and steps that use it carry no image path.
"""

from __future__ import annotations

from pathlib import Path

from apprentice.pipeline.dataset import Dataset
from apprentice.pipeline.keyframes import Keyframe

_EXTENSIONS = {"jpeg": "jpg"}


def image_name(frame: Keyframe) -> str:
    return f"images/{frame.blob}.{_EXTENSIONS.get(frame.format, frame.format)}"


def write_images(dataset: Dataset, out_dir: Path) -> dict[str, str]:
    """Write every referenced frame under ``out_dir/images``; return blob → relative path."""
    written: dict[str, str] = {}
    missing: set[str] = set()
    for episode in dataset.episodes:
        for step in episode.steps:
            for frame in (step.pre, step.post):
                if frame is None or frame.blob in written or frame.blob in missing:
                    continue
                name = image_name(frame)
                target = out_dir / name
                if not target.exists():
                    try:
                        data = dataset.load_frame(frame.blob)
                    except KeyError:
                        missing.add(frame.blob)
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    partial = target.with_suffix(target.suffix + ".part")
                    partial.write_bytes(data)
                    partial.replace(target)
                written[frame.blob] = name
    return written
