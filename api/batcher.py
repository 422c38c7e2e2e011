"""Dynamic micro-batching: concurrent requests share one model pass.

Requests put their records on an asyncio queue and await a future. Once a
model worker is free, one consumer task takes the first record, then whatever
else is already queued, then waits at most ``max_wait`` for more, up to
``max_batch`` records; the batch runs in a model thread (never on the event
loop) and each future gets its own result. While passes run, new requests pile
up in the queue and form the next batch, so throughput grows with concurrency
instead of queueing one pass per request.

``workers`` passes may run at once, each in its own thread (torch releases
the GIL inside its kernels). On a CPU, two single-threaded passes on two cores
beat one pass on two threads: small matrices scale badly across threads, and
one pass's tokenizing and post-processing overlaps the other's matrix work.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence

from .errors import ApiError

log = logging.getLogger(__name__)


class ModelGate:
    """At most ``capacity`` model passes at a time; interactive batches go
    before job batches, so a long job never starves single requests."""

    def __init__(self, capacity: int = 1) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._cond = threading.Condition()
        self._busy = 0
        self._urgent = 0

    @contextmanager
    def interactive(self) -> Iterator[None]:
        with self._cond:
            self._urgent += 1
            try:
                while self._busy >= self.capacity:
                    self._cond.wait()
            finally:
                self._urgent -= 1
            self._busy += 1
            self._cond.notify_all()  # a job waiting only on the urgent count may go now
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def background(self) -> Iterator[None]:
        with self._cond:
            while self._busy >= self.capacity or self._urgent:
                self._cond.wait()
            self._busy += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()


@dataclass
class BatcherStats:
    calls: int = 0
    """Model passes run."""
    items: int = 0
    """Records analyzed."""
    largest: int = 0
    """Largest batch so far."""
    sizes: list[int] = field(default_factory=list)
    """Sizes of the last 1,000 batches."""

    def record(self, n: int) -> None:
        self.calls += 1
        self.items += n
        self.largest = max(self.largest, n)
        self.sizes.append(n)
        if len(self.sizes) > 1000:
            del self.sizes[:-1000]


class MicroBatcher:
    """Gathers records from concurrent callers into batches for ``fn``.

    ``fn(records) -> results`` (same length, same order) runs in a dedicated
    executor of ``workers`` threads; ``gate``, when given, is entered around
    each call (ahead of job batches) so the job runner and the interactive
    path never drive the model beyond the gate's capacity.
    """

    def __init__(self, fn: Callable[[list[Any]], Sequence[Any]], *, max_batch: int = 64, max_wait_s: float = 0.005,
                 queue_max: int = 4096, gate: Optional[ModelGate] = None, workers: int = 1):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.queue_max = queue_max
        self.gate = gate
        self.workers = workers
        self.stats = BatcherStats()
        self._queue: Optional[asyncio.Queue] = None
        self._task: Optional[asyncio.Task] = None
        self._passes: set[asyncio.Task] = set()
        self._executor: Optional[ThreadPoolExecutor] = None

    # -- lifecycle ----------------------------------------------------------
    async def start(self) -> None:
        self._queue = asyncio.Queue(maxsize=self.queue_max)
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="cxtext-model")
        self._task = asyncio.create_task(self._run(), name="cxtext-batcher")

    async def stop(self) -> None:
        tasks = ([self._task] if self._task is not None else []) + list(self._passes)
        for t in tasks:
            t.cancel()
        for t in tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass
        self._task = None
        self._passes.clear()
        if self._queue is not None:
            while not self._queue.empty():
                _, fut = self._queue.get_nowait()
                if not fut.done():
                    fut.set_exception(ApiError(503, "shutting_down", "the service is shutting down; retry"))
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    @property
    def queued(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    # -- submitting ---------------------------------------------------------
    def _put(self, record: Any) -> asyncio.Future:
        if self._queue is None:
            raise ApiError(503, "not_ready", "the analyzer is not running yet; retry when /readyz says ready")
        fut = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((record, fut))
        except asyncio.QueueFull:
            raise ApiError(503, "overloaded", f"more than {self.queue_max} texts are waiting for the model; "
                                              "retry shortly (setting CXTEXT_API_QUEUE_MAX)",
                           headers={"Retry-After": "1"}) from None
        return fut

    async def submit(self, record: Any) -> Any:
        """Analyze one record; returns its result."""
        return await self._put(record)

    async def submit_many(self, records: Sequence[Any]) -> list[Any]:
        """Analyze several records (they may share passes with other callers)."""
        if self._queue is not None and self._queue.qsize() + len(records) > self.queue_max:
            raise ApiError(503, "overloaded", f"the model queue is full ({self.queue_max} texts); retry shortly",
                           headers={"Retry-After": "1"})
        futs = [self._put(r) for r in records]
        return list(await asyncio.gather(*futs))

    # -- the consumer -------------------------------------------------------
    async def _collect(self) -> list[tuple[Any, asyncio.Future]]:
        assert self._queue is not None
        q = self._queue
        batch = [await q.get()]
        deadline = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_batch:
            try:
                batch.append(q.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(q.get(), left))
            except asyncio.TimeoutError:
                break
        return batch

    def _call(self, records: list[Any]) -> Sequence[Any]:
        if self.gate is None:
            return self.fn(records)
        with self.gate.interactive():
            return self.fn(records)

    async def _run(self) -> None:
        free = asyncio.Semaphore(self.workers)
        while True:
            # collect only once a worker is free: while all are busy the queue
            # keeps filling, so the next batch is as large as the load allows
            await free.acquire()
            try:
                batch = await self._collect()
            except BaseException:
                free.release()
                raise
            batch = [(r, f) for r, f in batch if not f.cancelled()]  # the client went away
            if not batch:
                free.release()
                continue
            task = asyncio.create_task(self._pass(batch, free), name="cxtext-model-pass")
            self._passes.add(task)
            task.add_done_callback(self._passes.discard)

    async def _pass(self, batch: list[tuple[Any, asyncio.Future]], free: asyncio.Semaphore) -> None:
        loop = asyncio.get_running_loop()
        records = [r for r, _ in batch]
        try:
            out = await loop.run_in_executor(self._executor, self._call, records)
            if len(out) != len(records):
                raise RuntimeError(f"the analyzer returned {len(out)} results for {len(records)} texts")
        except asyncio.CancelledError:
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(ApiError(503, "shutting_down", "the service is shutting down; retry"))
            raise
        except Exception as exc:  # noqa: BLE001 - each waiting request gets the failure
            log.exception("model pass failed for a batch of %d", len(records))
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        finally:
            free.release()
        self.stats.record(len(records))
        for (_, fut), res in zip(batch, out):
            if not fut.done():
                fut.set_result(res)
