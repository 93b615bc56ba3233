"""The dataset card (``README.md``) and its action-mix chart, Hugging Face conventions.

The card's YAML header declares two configs, ``steps`` (the default) and ``episodes``,
so ``datasets.load_dataset(DIR)`` and ``load_dataset(DIR, "episodes")`` read the Parquet
tables and nothing else in the folder. The body gives counts and the action mix only:
never instructions, typed text, titles or URLs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from apprentice.pipeline.config import PIPELINE_VERSION
from apprentice.pipeline.dataset import Dataset
from apprentice.pipeline.model import ACTION_TYPES

STEPS_FILE = "data/steps/train-00000-of-00001.parquet"
EPISODES_FILE = "data/episodes/train-00000-of-00001.parquet"
CHART_FILE = "action_mix.png"


def statistics(dataset: Dataset) -> dict[str, Any]:
    """Return the card's numbers: counts by source, outcome and action type."""
    actions = Counter(s.action.type for e in dataset.episodes for s in e.steps)
    return {
        "episodes": len(dataset.episodes),
        "steps": dataset.num_steps,
        "sources": dict(sorted(Counter(e.source for e in dataset.episodes).items())),
        "outcomes": dict(sorted(Counter(e.outcome or "none" for e in dataset.episodes).items())),
        "action_mix": {t: actions[t] for t in ACTION_TYPES if actions[t]},
        "platforms": sorted({e.platform for e in dataset.episodes}),
        "steps_with_pre_frame": sum(
            1 for e in dataset.episodes for s in e.steps if s.pre is not None
        ),
    }


def write_card(dataset: Dataset, out_dir: Path) -> list[str]:
    stats = statistics(dataset)
    draw_action_mix(stats["action_mix"], out_dir / CHART_FILE)
    rows = "\n".join(f"| `{t}` | {n} |" for t, n in stats["action_mix"].items())
    header = f"""---
pretty_name: {dataset.name}
tags:
- computer-use
- gui-agent
- pyautogui
configs:
- config_name: steps
  data_files:
  - split: train
    path: {STEPS_FILE}
  default: true
- config_name: episodes
  data_files:
  - split: train
    path: {EPISODES_FILE}
---
"""
    body = f"""
# {dataset.name}

Recorded computer use turned into agent trajectories by apprentice (pipeline version
{PIPELINE_VERSION}). Every step pairs the screenshot seen before an action with the
action in pixel and normalised coordinates, as pyautogui code (absolute and normalised)
and as OSWorld `computer_13` JSON. Columns, coordinate frames and thresholds are
described in apprentice's `docs/dataset-format.md`.

```python
from datasets import load_dataset
steps = load_dataset("path/to/this/folder", "steps")["train"]
episodes = load_dataset("path/to/this/folder", "episodes")["train"]
```

## Statistics

- Episodes: {stats["episodes"]} ({_pairs(stats["sources"])})
- Outcomes: {_pairs(stats["outcomes"])}
- Steps: {stats["steps"]}, of which {stats["steps_with_pre_frame"]} have a pre-action screenshot
- Platforms: {", ".join(stats["platforms"]) or "none"}

## Action mix

![action mix]({CHART_FILE})

| action | steps |
|---|---|
{rows}

## Privacy

Built from recordings that apprentice redacts on the device before they are uploaded.
Episodes carry no contributor or session identifier and no wall-clock time; times are
seconds from the start of each episode.
"""
    (out_dir / "README.md").write_text(header + body, encoding="utf-8")
    return ["README.md", CHART_FILE]


def draw_action_mix(mix: dict[str, int], path: Path) -> None:
    """Draw a horizontal bar chart of action counts as a PNG."""
    font = ImageFont.load_default()
    bar_h, label_w, width, pad = 22, 110, 640, 12
    height = pad * 2 + bar_h * max(1, len(mix)) + 24
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((pad, pad), "action mix (steps)", fill="black", font=font)
    most = max(mix.values(), default=1)
    for i, (name, count) in enumerate(mix.items()):
        top = pad + 24 + i * bar_h
        span = int((width - label_w - pad * 2 - 50) * count / most)
        draw.text((pad, top + 4), name, fill="black", font=font)
        draw.rectangle((label_w, top + 3, label_w + max(span, 1), top + bar_h - 3), fill="#3a6ea5")
        draw.text((label_w + span + 6, top + 4), str(count), fill="black", font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=False)


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items()) or "none"
