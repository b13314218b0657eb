"""503 with Retry-After, provoked honestly: a service limited to one request in flight, one request held open."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from routed_vae_client import AsyncClient, Client, RoutedVAEError
from tests.client.live import SEVEN, counter, serve

REJECTIONS = "routed_vae_overload_rejections_total"


@pytest.fixture(scope="module")
def busy_url() -> Iterator[str]:
    """A service that answers 503 (Retry-After: 1) to any inference request beyond the first in flight."""
    yield from serve({"ROUTED_VAE_MAX_CONCURRENT_REQUESTS": "1", "ROUTED_VAE_RETRY_AFTER_SECONDS": "1"})


def hold_slot(url: str) -> socket.socket:
    """A /decode request whose body never finishes: it holds the one in-flight slot until the socket closes."""
    wait_for_in_flight(url, lambda count: count == 0)  # the previous test's held request is gone
    host, port = url.removeprefix("http://").split(":")
    held = socket.create_connection((host, int(port)))
    held.sendall(b"POST /decode HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99\r\n\r\n{")
    wait_for_in_flight(url, lambda count: count == 1)  # the service has taken it in
    return held


def wait_for_in_flight(url: str, condition: Callable[[float], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition(counter(url, "routed_vae_in_flight_requests")):
        assert time.monotonic() < deadline, "the service's in-flight count did not settle"
        time.sleep(0.02)


def encode_sync(url: str, retries: int, timeout: float) -> list[list[float]]:
    with Client(url, retries=retries, timeout=timeout) as client:
        return client.encode([SEVEN])


def encode_async(url: str, retries: int, timeout: float) -> list[list[float]]:
    async def encode() -> list[list[float]]:
        async with AsyncClient(url, retries=retries, timeout=timeout) as client:
            return await client.encode([SEVEN])

    return asyncio.run(encode())


ENCODERS = {"sync": encode_sync, "async": encode_async}


@pytest.mark.parametrize("kind", sorted(ENCODERS))
def test_waits_retry_after_then_succeeds(busy_url: str, kind: str) -> None:
    held, before = hold_slot(busy_url), counter(busy_url, REJECTIONS)
    threading.Timer(0.3, held.close).start()  # the slot frees while the client waits out Retry-After
    began = time.monotonic()
    latents = ENCODERS[kind](busy_url, 3, 30.0)
    elapsed = time.monotonic() - began
    assert len(latents) == 1 and max(range(10), key=latents[0].__getitem__) == 7
    assert counter(busy_url, REJECTIONS) - before == 1, "one 503, then success"
    assert 1.0 <= elapsed < 3.0, f"waited {elapsed:.2f} s for a Retry-After of 1 s"


@pytest.mark.parametrize("kind", sorted(ENCODERS))
def test_gives_up_after_its_retries(busy_url: str, kind: str) -> None:
    held, before = hold_slot(busy_url), counter(busy_url, REJECTIONS)
    began = time.monotonic()
    try:
        with pytest.raises(RoutedVAEError) as caught:
            ENCODERS[kind](busy_url, 2, 30.0)
    finally:
        held.close()
    elapsed = time.monotonic() - began
    assert (caught.value.status, caught.value.code) == (503, "overloaded")
    assert counter(busy_url, REJECTIONS) - before == 3, "the first try and two retries"
    assert 2.0 <= elapsed < 4.0, f"two waits of 1 s took {elapsed:.2f} s"


def test_never_waits_past_the_timeout(busy_url: str) -> None:
    held, before = hold_slot(busy_url), counter(busy_url, REJECTIONS)
    began = time.monotonic()
    try:
        with pytest.raises(RoutedVAEError, match="overloaded"):
            encode_sync(busy_url, 5, 0.5)  # a 1 s Retry-After does not fit in 0.5 s
    finally:
        held.close()
    assert time.monotonic() - began < 0.5
    assert counter(busy_url, REJECTIONS) - before == 1


def test_retries_zero_reports_the_first_503(busy_url: str) -> None:
    held = hold_slot(busy_url)
    try:
        with pytest.raises(RoutedVAEError) as caught:
            encode_sync(busy_url, 0, 30.0)
    finally:
        held.close()
    assert caught.value.status == 503 and "limit of 1 concurrent requests" in caught.value.message
