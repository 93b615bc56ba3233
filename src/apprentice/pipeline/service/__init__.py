"""The processing pipeline service (``apprentice pipeline``): sealed chunks in, datasets out.

The only place raw captures are ever decrypted, and only in memory (DESIGN §3). Modules:
:mod:`.source` (the collector's pipeline API), :mod:`.ingest` (one chunk: unwrap, open,
second-pass frame redaction, seal into staging), :mod:`.assemble` (sessions → episodes
with the dataset code), :mod:`.pseudonym`, :mod:`.quality`, :mod:`.datasets` (versions,
export), :mod:`.state` (cursor, lineage, tombstones), :mod:`.executors` (local pool, Ray)
and :mod:`.worker` (a run). See docs/pipeline.md.
"""

from apprentice.pipeline.service.datasets import VersionSpec, build_version, export_version
from apprentice.pipeline.service.quality import QualityFilter
from apprentice.pipeline.service.source import ChunkRef, ChunkSource, HttpChunkSource, MemoryChunkSource
from apprentice.pipeline.service.worker import PipelineSettings, PipelineWorker, RunStats

__all__ = [
    "ChunkRef",
    "ChunkSource",
    "HttpChunkSource",
    "MemoryChunkSource",
    "PipelineSettings",
    "PipelineWorker",
    "QualityFilter",
    "RunStats",
    "VersionSpec",
    "build_version",
    "export_version",
]
