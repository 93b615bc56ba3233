"""Group commit: many small concurrent writes, one durable transaction.

Under load the collector makes hundreds of tiny inserts a second (a request nonce and a
chunk row per upload). Committed one by one, each pays a WAL fsync, and on SQLite the
writers also queue for the single write lock, sleeping in its busy handler. Here one writer
thread takes every write that is waiting, runs them all in one transaction, commits once,
and only then wakes their callers — so a caller that gets its result back knows its write
is as durable as a transaction of its own would have made it (same ``synchronous`` level,
same commit), while the cost of the commit is shared by the whole batch.

An operation is a function of the open connection. If one of them fails (say a foreign
key), the batch is rolled back and every operation of it is run again in a transaction of
its own, so one bad write never fails or delays another's acknowledgement for good, and
the failing caller gets its own exception.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")

MAX_BATCH = 512


class _Pending(Generic[T]):
    __slots__ = ("done", "error", "op", "result")

    def __init__(self, op: Callable[[Connection], T]) -> None:
        self.op = op
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """A writer thread that batches the operations passed to :meth:`run` into shared commits."""

    def __init__(self, engine: Engine, *, max_batch: int = MAX_BATCH) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: deque[_Pending[Any]] = deque()
        self._wakeup = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._closed = False
        self.commits = 0  # transactions committed (a gauge for tests and benchmarks)
        self.operations = 0

    def run(self, op: Callable[[Connection], T]) -> T:
        """Run ``op`` in the next shared transaction; return its result once that committed."""
        pending = _Pending(op)
        with self._wakeup:
            if self._closed:
                raise RuntimeError("the metadata store is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="metadata-group-commit", daemon=True)
                self._thread.start()
            self._queue.append(pending)
            self._wakeup.notify()
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.result  # type: ignore[return-value]

    @property
    def queued(self) -> int:
        """Operations waiting for the next transaction."""
        with self._wakeup:
            return len(self._queue)

    def close(self) -> None:
        """Finish what is queued, then stop the writer thread."""
        with self._wakeup:
            self._closed = True
            thread = self._thread
            self._wakeup.notify()
        if thread is not None:
            thread.join()

    def _loop(self) -> None:
        while True:
            with self._wakeup:
                while not self._queue and not self._closed:
                    self._wakeup.wait()
                if not self._queue:
                    return
                count = min(len(self._queue), self._max_batch)
                batch = [self._queue.popleft() for _ in range(count)]
            self._commit(batch)

    def _commit(self, batch: list[_Pending[Any]]) -> None:
        try:
            with self._engine.begin() as conn:
                results = [p.op(conn) for p in batch]
        except Exception:
            # Something in the batch failed and the transaction is gone: give each
            # operation a transaction of its own, so only the failing one reports it.
            for p in batch:
                try:
                    with self._engine.begin() as conn:
                        p.result = p.op(conn)
                except BaseException as exc:  # handed to the caller, who re-raises it
                    p.error = exc
                self.commits += 1
        else:
            for p, result in zip(batch, results, strict=True):
                p.result = result
            self.commits += 1
        self.operations += len(batch)
        for p in batch:
            p.done.set()
