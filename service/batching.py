"""Micro-batching: concurrent requests share one model call. Callers await their slice of the result.

One worker task drains a queue: it takes the first waiting job and every job of the same operation
already queued, up to ``max_rows`` rows (jobs of other operations keep their place for the next batches);
under concurrent load it also waits up to ``max_wait`` seconds for more. It runs them as one array on a
single inference thread and hands each caller its rows back.
Jobs are numpy arrays, not tensors: with the inference thread busy, torch calls on the event loop took
3x as long as alone (numpy calls 1.8x, the share of a core), so tensors live only inside the operations.
While the model runs, new requests queue up and form the next batch. A batch of at most ``inline_rows``
rows runs on the event loop itself: for one image the model takes about 0.25 ms here, and handing it to
the thread and back cost as much again. Operations named in ``threaded`` (work whose cost a row count does not
bound, like ``auto`` on pictures of any size) always run on the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

Operation = Callable[[np.ndarray], np.ndarray]


@dataclass
class Job:
    operation: str
    inputs: np.ndarray
    future: asyncio.Future[np.ndarray] = field(repr=False)


class MicroBatcher:
    def __init__(
        self,
        operations: dict[str, Operation],
        max_rows: int,
        max_wait: float,
        on_batch: Callable[[str, int], None] | None = None,
        inline_rows: int = 0,
        threaded: frozenset[str] = frozenset(),
    ) -> None:
        self.operations = operations
        self.max_rows, self.max_wait, self.inline_rows = max_rows, max_wait, inline_rows
        self.threaded = threaded
        self.on_batch = on_batch
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
        self.worker: asyncio.Task[None] | None = None
        self.pending: deque[Job] = deque()  # jobs taken from the queue that the last batch left, oldest first
        self.under_load = False  # did the last batch serve more than one request?

    def start(self) -> None:
        self.worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.worker
        self.executor.shutdown(wait=True)

    async def submit(self, operation: str, inputs: np.ndarray) -> np.ndarray:
        """Run ``operation`` on ``inputs`` (rows first), batched with whatever else is waiting."""
        job = Job(operation, inputs, asyncio.get_running_loop().create_future())
        self.queue.put_nowait(job)  # the queue has no bound
        return await job.future

    async def _next_job(self, timeout: float | None) -> Job | None:
        """The next job: at once if one is queued; else waiting for one, up to ``timeout`` seconds (None: no
        limit). ``wait_for`` wraps its wait in a new task, so it is used only when the queue is empty: under
        load, a batch of 64 jobs used to create 64 tasks."""
        if self.pending:
            return self.pending.popleft()
        if timeout is None:
            return await self.queue.get()
        try:
            return self.queue.get_nowait()
        except asyncio.QueueEmpty:
            if timeout <= 0:
                return None
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    async def _gather(self) -> list[Job]:
        """The first job, then more of the same operation until full or the wait is over. Jobs of other
        operations seen on the way are left, in order, for the next batches: traffic of several kinds (PNG
        uploads and JSON pixel arrays, say) does not cut one kind's batches short."""
        first = await self._next_job(None)
        assert first is not None
        jobs, rows, left = [first], len(first.inputs), []
        # Wait for company only under concurrent load (the last batch served several requests): a request
        # arriving alone runs at once, so the wait never adds latency when there is nobody to batch with.
        deadline = time.monotonic() + (self.max_wait if self.under_load else 0.0)
        while rows < self.max_rows:
            job = await self._next_job(max(0.0, deadline - time.monotonic()))
            if job is None:
                break
            if job.operation != first.operation:
                left.append(job)
                continue
            if rows + len(job.inputs) > self.max_rows:
                left.append(job)
                break
            jobs.append(job)
            rows += len(job.inputs)
        # Jobs still pending were taken before any of the queue's, and the left ones before them.
        self.pending.extendleft(reversed(left))
        return jobs

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = await self._gather()
            live = [job for job in jobs if not job.future.done()]  # skip callers that went away
            if not live:
                continue
            self.under_load = len(jobs) > 1
            operation = live[0].operation
            inputs = np.concatenate([job.inputs for job in live]) if len(live) > 1 else live[0].inputs
            try:
                if len(inputs) <= self.inline_rows and operation not in self.threaded:
                    outputs = self.operations[operation](inputs)
                else:
                    outputs = await loop.run_in_executor(self.executor, self.operations[operation], inputs)
            except Exception as error:  # the callers get the error; the worker keeps going
                for job in live:
                    if not job.future.done():
                        job.future.set_exception(error)
                continue
            if self.on_batch is not None:
                self.on_batch(operation, len(inputs))
            start = 0
            for job in live:
                stop = start + len(job.inputs)
                if not job.future.done():
                    job.future.set_result(outputs[start:stop])
                start = stop
