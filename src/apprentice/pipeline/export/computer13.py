"""OSWorld ``computer_13`` JSON: ``computer13/<episode_id>.json``, one file per episode.

Each step lists the computer_13 actions that reproduce it (``{"action_type",
"parameters"}``, absolute pixels; see :mod:`apprentice.pipeline.render`) next to its
pre-action ``observation`` image path.
"""

from __future__ import annotations

import json
from pathlib import Path

from apprentice.pipeline.dataset import Dataset
from apprentice.pipeline.export._images import write_images


class Computer13Exporter:
    name = "computer13"

    def write(self, dataset: Dataset, out_dir: Path) -> list[str]:
        images = write_images(dataset, out_dir)
        folder = out_dir / "computer13"
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for episode in dataset.episodes:
            doc = {
                "episode_id": episode.id,
                "instruction": episode.instruction,
                "outcome": episode.outcome,
                "platform": episode.platform,
                "screen": {"width": episode.screen.width, "height": episode.screen.height},
                "steps": [
                    {
                        "index": step.index,
                        "observation": images.get(step.pre.blob) if step.pre else None,
                        "actions": list(step.computer13),
                    }
                    for step in episode.steps
                ],
            }
            name = f"computer13/{episode.id}.json"
            (out_dir / name).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n",
                                        "utf-8")
            written.append(name)
        return written


EXPORTER = Computer13Exporter()
