"""The micro-batcher: concurrent requests share one model call, each caller gets its own rows back."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from service.batching import MicroBatcher, Operation


class RecordingModel:
    """Doubles its input; the first call blocks until released, so that others queue up meanwhile."""

    def __init__(self) -> None:
        self.batch_rows: list[int] = []
        self.release = threading.Event()

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        if not self.batch_rows:
            self.release.wait(timeout=5)
        self.batch_rows.append(len(inputs))
        return inputs * 2


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coroutine, timeout=10))


def queued_behind_a_busy_model(
    operations: dict[str, Operation], model: RecordingModel, queued: list[str]
) -> list[np.ndarray]:
    """A one-row job of the first operation starts the (blocked) model; jobs of ``queued``'s operations, of
    1, 2, 3, ... rows filled with their row count, queue meanwhile; then the model is released. Their results."""

    async def scenario() -> list[np.ndarray]:
        batcher = MicroBatcher(operations, max_rows=256, max_wait=0.0)
        batcher.start()
        first = asyncio.create_task(batcher.submit(next(iter(operations)), np.zeros((1, 2))))
        await asyncio.sleep(0.05)  # the first call is now running (and blocked)
        rest = [
            asyncio.create_task(batcher.submit(kind, np.full((n, 2), float(n)))) for n, kind in enumerate(queued, 1)
        ]
        await asyncio.sleep(0.05)
        model.release.set()
        results = await asyncio.gather(first, *rest)
        await batcher.stop()
        return results[1:]

    return run(scenario())  # type: ignore[no-any-return]


def test_requests_queued_while_the_model_is_busy_form_one_batch() -> None:
    model = RecordingModel()
    results = queued_behind_a_busy_model({"double": model}, model, ["double"] * 3)
    assert model.batch_rows == [1, 6], "the three waiting requests ran as one batch of 1 + 2 + 3 rows"
    for n, result in enumerate(results, 1):
        assert np.array_equal(result, np.full((n, 2), 2.0 * n)), "each caller gets exactly its own rows"


def test_a_request_arriving_alone_does_not_wait_for_company() -> None:
    model = RecordingModel()
    model.release.set()

    async def scenario() -> np.ndarray:
        batcher = MicroBatcher({"double": model}, max_rows=256, max_wait=30.0)
        batcher.start()
        try:
            # Nobody else is in flight, so the 30 s wait for company does not apply.
            return await asyncio.wait_for(batcher.submit("double", np.ones((1, 2))), timeout=5)
        finally:
            await batcher.stop()

    assert np.array_equal(run(scenario()), np.full((1, 2), 2.0))


def test_under_load_a_batch_waits_for_requests_arriving_within_max_wait() -> None:
    model = RecordingModel()  # blocks its first call until released

    async def scenario() -> None:
        batcher = MicroBatcher({"double": model}, max_rows=256, max_wait=1.0)
        batcher.start()
        first = asyncio.create_task(batcher.submit("double", np.ones((1, 2))))
        await asyncio.sleep(0.05)
        queued = [asyncio.create_task(batcher.submit("double", np.ones((1, 2)))) for _ in range(2)]
        await asyncio.sleep(0.05)
        model.release.set()
        await asyncio.gather(first, *queued)  # a batch of two: the batcher is now under load
        third = asyncio.create_task(batcher.submit("double", np.ones((1, 2))))
        await asyncio.sleep(0.05)  # within the 1 s wait
        await asyncio.gather(third, batcher.submit("double", np.ones((2, 2))))
        await batcher.stop()

    run(scenario())
    assert model.batch_rows == [1, 2, 3], "the last two requests, 50 ms apart, shared one batch"


def test_a_failing_batch_fails_its_callers_and_the_next_batch_still_runs() -> None:
    calls = {"count": 0}

    def flaky(inputs: np.ndarray) -> np.ndarray:
        calls["count"] += 1
        if calls["count"] == 1:
            raise FloatingPointError("model encode produced non-finite values")
        return inputs + 1

    async def scenario() -> np.ndarray:
        batcher = MicroBatcher({"add": flaky}, max_rows=256, max_wait=0.0)
        batcher.start()
        try:
            with pytest.raises(FloatingPointError):
                await batcher.submit("add", np.zeros((1, 1)))
            return await batcher.submit("add", np.zeros((1, 1)))
        finally:
            await batcher.stop()

    assert np.array_equal(run(scenario()), np.ones((1, 1)))


def test_small_batches_run_on_the_event_loop_and_larger_or_threaded_ones_on_the_inference_thread() -> None:
    threads: list[tuple[int, str]] = []

    def record_thread(inputs: np.ndarray) -> np.ndarray:
        threads.append((len(inputs), threading.current_thread().name))
        return inputs

    async def scenario() -> str:
        operations = {"same": record_thread, "costly": record_thread}
        batcher = MicroBatcher(operations, max_rows=256, max_wait=0.0, inline_rows=2, threaded=frozenset({"costly"}))
        batcher.start()
        await batcher.submit("same", np.zeros((2, 1)))
        await batcher.submit("same", np.zeros((3, 1)))
        await batcher.submit("costly", np.zeros((1, 1)))
        await batcher.stop()
        return threading.current_thread().name

    loop_thread = run(scenario())
    assert threads[0] == (2, loop_thread)
    assert threads[1][0] == 3 and threads[1][1].startswith("inference")
    assert threads[2][0] == 1 and threads[2][1].startswith("inference"), "a threaded operation, however small"


def test_jobs_of_another_operation_wait_in_order_without_cutting_a_batch_short() -> None:
    model = RecordingModel()
    operations_run: list[str] = []

    def operation(name: str) -> Operation:
        def run(inputs: np.ndarray) -> np.ndarray:
            operations_run.append(name)
            return model(inputs)

        return run

    operations = {"a": operation("a"), "b": operation("b")}
    results = queued_behind_a_busy_model(operations, model, ["a", "b", "a", "b", "a"])
    assert operations_run == ["a", "a", "b"], "the waiting a's ran together, then the b's"
    assert model.batch_rows == [1, 1 + 3 + 5, 2 + 4]
    for n, result in enumerate(results, 1):
        assert np.array_equal(result, np.full((n, 2), 2.0 * n)), "each caller gets exactly its own rows"
