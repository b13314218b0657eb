"""A rolling update from the service's side: SIGTERM turns /readyz 503 at once, requests are still answered for
ROUTED_VAE_DRAIN_SECONDS, in-flight ones finish, and the process exits 0; any replica answers alike."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from PIL import Image
from starlette.datastructures import State

from service.drain import Drain
from tests.service.conftest import digit_png, png_bytes
from tests.service.live_server import free_port, start_service, wait_ready

DRAIN_SECONDS = 2.0


@dataclass
class Load:
    """Client threads posting /classify back to back until told to stop; every outcome is kept."""

    url: str
    files: list[tuple[str, tuple[str, bytes, str]]]
    outcomes: list[tuple[float, float, int | str]] = field(default_factory=list)  # (start, end, status or error)
    stop: threading.Event = field(default_factory=threading.Event)

    def loop(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self.stop.is_set():
                began = time.monotonic()
                try:
                    outcome: int | str = http.post("/classify", files=self.files).status_code
                except httpx.HTTPError as error:
                    outcome = repr(error)
                self.outcomes.append((began, time.monotonic(), outcome))


def photo_files(count: int) -> list[tuple[str, tuple[str, bytes, str]]]:
    """Large pictures, so that a request takes long enough to be in flight when the signal comes."""
    picture = Image.new("L", (1200, 1200), 255)
    picture.paste(0, (500, 250, 700, 950))
    data = png_bytes(picture)
    return [("file", (f"{i}.png", data, "image/png")) for i in range(count)]


def first_503_after(url: str, since: float, http: httpx.Client) -> float:
    """Seconds from ``since`` until /readyz first answers 503 (polled back to back)."""
    while time.monotonic() - since < 5:
        if http.get(f"{url}/readyz").status_code == 503:
            return time.monotonic() - since
    raise AssertionError("/readyz never turned 503")


@pytest.fixture
def draining_service(tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, object]]:
    monkeypatch.setenv("ROUTED_VAE_DRAIN_SECONDS", str(DRAIN_SECONDS))
    port = free_port()
    process = start_service(tiny_model_path, port)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.slow
def test_sigterm_under_load_unready_at_once_answers_during_drain_and_exits_0(
    draining_service: tuple[str, object],
) -> None:
    url, process = draining_service
    wait_ready(url)
    load = Load(url, photo_files(8))
    threads = [threading.Thread(target=load.loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    with httpx.Client(timeout=5) as probe:
        assert probe.get(f"{url}/readyz").status_code == 200
        time.sleep(0.6)  # requests are in flight now
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)  # type: ignore[attr-defined]
        unready_after = first_503_after(url, signalled, probe)
        time.sleep(0.3)
        late = httpx.post(f"{url}/classify", files=[("file", ("1.png", digit_png(), "image/png"))], timeout=10)
    time.sleep(DRAIN_SECONDS - 1.2)  # stop sending before the drain ends: later requests would meet a closed port
    load.stop.set()
    for thread in threads:
        thread.join(timeout=60)
    exit_code = process.wait(timeout=30)  # type: ignore[attr-defined]

    print(f"/readyz 503 {unready_after * 1000:.1f} ms after SIGTERM; {len(load.outcomes)} requests under load")
    assert unready_after < 0.1
    assert late.status_code == 200 and late.headers["connection"] == "close"  # a new request during the drain
    assert [outcome for _, _, outcome in load.outcomes if outcome != 200] == []
    assert any(began < signalled < ended for began, ended, _ in load.outcomes), "nothing was in flight at SIGTERM"
    assert any(began > signalled for began, _, _ in load.outcomes), "nothing was sent during the drain"
    assert exit_code == 0


@pytest.mark.slow
def test_two_processes_give_identical_answers(tiny_model_path: Path) -> None:
    ports = [free_port(), free_port()]
    processes = [start_service(tiny_model_path, port) for port in ports]
    try:
        answers = []
        for port in ports:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url)
            answers.append(ask_everything(url))
        assert answers[0] == answers[1]
        assert len(answers[0]) == 4 and all(answers[0])
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def ask_everything(url: str) -> list[bytes]:
    """The bodies of seeded /sample calls (random digits, one digit) and /classify of a bar and a photo."""
    pictures = [("file", ("bar.png", digit_png(), "image/png")), *photo_files(1)]
    with httpx.Client(base_url=url, timeout=30) as http:
        responses = [
            http.post("/sample", json={"n": 8, "seed": 7}),
            http.post("/sample", json={"digit": 3, "n": 4, "seed": 11}),
            http.post("/classify", files=pictures),
            http.post("/classify?preprocess=none", files=pictures[:1]),
        ]
    assert [response.status_code for response in responses] == [200] * 4
    return [response.content for response in responses]


def test_second_signal_ends_the_drain_and_sigint_then_forces() -> None:
    async def scenario() -> tuple[bool, bool, bool, bool]:
        server, state = uvicorn.Server(uvicorn.Config(app=None)), State()  # type: ignore[arg-type]
        state.ready = True
        drain = Drain(server, state, seconds=60)
        loop = asyncio.get_running_loop()
        drain.on_signal(signal.SIGTERM, loop)
        after_first = (state.ready, server.should_exit)
        drain.on_signal(signal.SIGTERM, loop)
        after_second = server.should_exit
        drain.on_signal(signal.SIGINT, loop)
        return after_first[0], after_first[1], after_second, server.force_exit

    ready, stopping, stopped, forced = asyncio.run(scenario())
    assert (ready, stopping) == (False, False)  # first signal: unready, still serving
    assert stopped and forced


def test_drain_of_zero_seconds_stops_on_the_next_loop_turn() -> None:
    async def scenario() -> bool:
        server, state = uvicorn.Server(uvicorn.Config(app=None)), State()  # type: ignore[arg-type]
        Drain(server, state, seconds=0).on_signal(signal.SIGTERM, asyncio.get_running_loop())
        await asyncio.sleep(0.01)
        return server.should_exit

    assert asyncio.run(scenario())
