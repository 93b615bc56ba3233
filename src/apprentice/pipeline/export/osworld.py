"""OSWorld-style trajectories: ``osworld/<episode_id>/traj.jsonl`` plus ``task.json``.

One line per step, shaped like the ``traj.jsonl`` OSWorld's runner writes:
``step_num`` (from 1), ``action_timestamp`` (seconds from the episode start, as text —
never wall-clock time), ``action`` (absolute pyautogui code), ``reward`` (0), ``done``
(true on the last step), ``info``, ``screenshot_file`` (the observation *after* the
step, as OSWorld records it) and ``pre_screenshot_file`` (before it). Image paths are
relative to the dataset folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from apprentice.pipeline.dataset import Dataset
from apprentice.pipeline.export._images import write_images


class OsworldExporter:
    name = "osworld"

    def write(self, dataset: Dataset, out_dir: Path) -> list[str]:
        images = write_images(dataset, out_dir)
        written = []
        for episode in dataset.episodes:
            folder = out_dir / "osworld" / episode.id
            folder.mkdir(parents=True, exist_ok=True)
            lines = []
            for step in episode.steps:
                offset = (step.action.t_start - episode.t_start) / 1e9
                lines.append(json.dumps({
                    "step_num": step.index + 1,
                    "action_timestamp": f"{offset:.3f}",
                    "action": step.pyautogui,
                    "reward": 0,
                    "done": step.index == len(episode.steps) - 1,
                    "info": {"action_type": step.action.type},
                    "screenshot_file": images.get(step.post.blob) if step.post else None,
                    "pre_screenshot_file": images.get(step.pre.blob) if step.pre else None,
                }, ensure_ascii=False))
            (folder / "traj.jsonl").write_text("".join(f"{line}\n" for line in lines), "utf-8")
            task = {"id": episode.id, "instruction": episode.instruction,
                    "outcome": episode.outcome, "platform": episode.platform,
                    "screen": {"width": episode.screen.width, "height": episode.screen.height}}
            (folder / "task.json").write_text(json.dumps(task, ensure_ascii=False, indent=2) + "\n",
                                              "utf-8")
            written += [f"osworld/{episode.id}/traj.jsonl", f"osworld/{episode.id}/task.json"]
        return written


EXPORTER = OsworldExporter()
