"""AgentNet-style JSONL: ``agentnet/trajectories.jsonl``, one task per line.

Each line: ``task_id``, ``instruction``, ``task_completed`` (true/false for ended tasks,
null otherwise), ``platform`` and ``traj``, a list of steps with ``index``, ``image``
(the pre-action screenshot, relative to the dataset folder) and ``value`` holding
``code``: pyautogui with coordinates normalised to the screenshot, 4 decimals.
"""

from __future__ import annotations

import json
from pathlib import Path

from apprentice.pipeline.dataset import Dataset
from apprentice.pipeline.export._images import write_images

FILE = "agentnet/trajectories.jsonl"


class AgentnetExporter:
    name = "agentnet"

    def write(self, dataset: Dataset, out_dir: Path) -> list[str]:
        images = write_images(dataset, out_dir)
        lines = []
        for episode in dataset.episodes:
            completed = {"success": True, "failure": False}.get(episode.outcome or "")
            lines.append(json.dumps({
                "task_id": episode.id,
                "instruction": episode.instruction,
                "task_completed": completed,
                "platform": episode.platform,
                "traj": [
                    {
                        "index": step.index,
                        "image": images.get(step.pre.blob) if step.pre else None,
                        "value": {"code": step.pyautogui_norm, "action_type": step.action.type},
                    }
                    for step in episode.steps
                ],
            }, ensure_ascii=False))
        path = out_dir / FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{line}\n" for line in lines), "utf-8")
        return [FILE]


EXPORTER = AgentnetExporter()
