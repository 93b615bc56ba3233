"""Where chunk work runs: in this process, a local process pool (default), or Ray.

All three run :func:`~apprentice.pipeline.service.ingest.process_chunk` over a list of
chunk refs and yield the outcomes **in input order**, so the state database is written in
the same order whatever ran the work — which is what makes a Ray build byte-identical to
a local one. The task context holds no secret (see ``ingest.py``); each worker process
(or Ray worker) unwraps the keys it needs itself, as the pipeline identity.

Ray is optional (``pip install 'apprentice[ray]'``): ``RayExecutor`` connects to
``address`` (``auto``, ``ray://…``) or starts a local instance with ``num_cpus``.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from apprentice.errors import ConfigError
from apprentice.pipeline.service.ingest import ChunkOutcome, TaskContext, process_chunk
from apprentice.pipeline.service.source import ChunkRef

EXECUTORS = ("inline", "local", "ray")


class Executor(Protocol):
    name: str

    def map(self, ctx: TaskContext, refs: Sequence[ChunkRef]) -> Iterator[ChunkOutcome]: ...

    def close(self) -> None: ...


class InlineExecutor:
    """In this process, one chunk at a time (tests, debugging)."""

    name = "inline"

    def map(self, ctx: TaskContext, refs: Sequence[ChunkRef]) -> Iterator[ChunkOutcome]:
        for ref in refs:
            yield process_chunk(ctx, ref)

    def close(self) -> None:
        pass


_CONTEXT: TaskContext | None = None


def _init(ctx: TaskContext) -> None:
    global _CONTEXT
    _CONTEXT = ctx


def _run(ref: ChunkRef) -> ChunkOutcome:
    assert _CONTEXT is not None
    return process_chunk(_CONTEXT, ref)


class LocalExecutor:
    """A pool of worker processes on this machine (forkserver: no inherited threads)."""

    name = "local"

    def __init__(self, workers: int = 2) -> None:
        self.workers = max(1, workers)
        self._pool: cf.ProcessPoolExecutor | None = None
        self._ctx: TaskContext | None = None

    def map(self, ctx: TaskContext, refs: Sequence[ChunkRef]) -> Iterator[ChunkOutcome]:
        if self._pool is None or self._ctx is not ctx:
            self.close()
            self._pool = cf.ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("forkserver"),
                initializer=_init, initargs=(ctx,),
            )
            self._ctx = ctx
        yield from self._pool.map(_run, refs)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _ray_task(ctx: TaskContext, ref: ChunkRef) -> ChunkOutcome:
    return process_chunk(ctx, ref)


class RayExecutor:
    """Ray tasks, one per chunk; results gathered in input order."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("the ray executor needs Ray: pip install 'apprentice[ray]'") from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                       "configure_logging": False}
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=num_cpus or 2, **options)
            self._started = True
        self._remote = ray.remote(_ray_task)
        self._ctx: TaskContext | None = None
        self._ctx_ref: Any = None

    def map(self, ctx: TaskContext, refs: Sequence[ChunkRef]) -> Iterator[ChunkOutcome]:
        if self._ctx is not ctx:
            self._ctx, self._ctx_ref = ctx, self._ray.put(ctx)
        pending = [self._remote.remote(self._ctx_ref, ref) for ref in refs]
        for future in pending:
            yield self._ray.get(future)

    def close(self) -> None:
        self._ctx_ref = None
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
            self._started = False


def create_executor(name: str, *, workers: int = 2, ray_address: str | None = None) -> Executor:
    if name == "inline":
        return InlineExecutor()
    if name == "local":
        return LocalExecutor(workers)
    if name == "ray":
        return RayExecutor(ray_address, workers)
    raise ConfigError(f"unknown executor {name!r}; choose from {list(EXECUTORS)}")
