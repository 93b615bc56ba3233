"""A built dataset in memory: its episodes, the configuration that cut them, and how to
fetch a frame's image bytes.

``load_frame(blob_hash) -> bytes`` is supplied by whoever holds the frames (the spool
reader in production, a dict in tests); it raises ``KeyError`` for an image that is not
there, and exporters then leave that image out rather than fail the build.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apprentice.pipeline.config import PipelineConfig
from apprentice.pipeline.episodes import Episode

LoadFrame = Callable[[str], bytes]


@dataclass(frozen=True)
class Dataset:
    episodes: tuple[Episode, ...]
    config: PipelineConfig
    load_frame: LoadFrame
    name: str = "apprentice"

    @property
    def num_steps(self) -> int:
        return sum(len(e.steps) for e in self.episodes)
