"""Rate limits: the token bucket on a clock the test moves, and the 429 the app answers past it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from service import rate_limit
from service.config import Settings
from service.main import create_app
from service.rate_limit import TokenBuckets
from tests.service.conftest import assert_error

LATENT = {"latents": [[0, 0, 0, 2, 0, 0, 0, 0, 0, 0]]}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=10, burst=10, clock=clock)
    assert [buckets.take("a") for _ in range(10)] == [0.0] * 10
    assert buckets.take("a") == pytest.approx(0.1)
    clock.now += 0.05
    assert buckets.take("a") == pytest.approx(0.05), "a refused request takes no token"
    clock.now += 0.05
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(0.1)
    clock.now += 60
    assert [buckets.take("a") for _ in range(11)].count(0.0) == 10, "refills to the burst, never beyond"


def test_each_client_has_its_own_bucket() -> None:
    buckets = TokenBuckets(rate=1, burst=2, clock=Clock())
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]
    assert [buckets.take("b") for _ in range(2)] == [0.0, 0.0]


def test_clients_beyond_the_cap_forget_the_least_recent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "MAX_CLIENTS", 3)
    buckets = TokenBuckets(rate=1, burst=1, clock=Clock())
    for client in "abcd":
        assert buckets.take(client) == 0.0
    assert list(buckets.buckets) == ["b", "c", "d"]
    assert buckets.take("b") > 0, "b is remembered, its bucket still empty"


@pytest.fixture
def limited(tiny_model_path: Path) -> Iterator[TestClient]:
    settings = Settings(model_path=tiny_model_path, rate_limit_rps=0.5, rate_limit_burst=2)
    with TestClient(create_app(settings)) as client:
        yield client


def test_past_the_burst_the_answer_is_429_with_retry_after(limited: TestClient) -> None:
    assert [limited.post("/decode", json=LATENT).status_code for _ in range(2)] == [200, 200]
    response = limited.post("/decode", json=LATENT)
    assert_error(response, 429, "rate_limited")
    assert response.headers["retry-after"] == "2", "whole seconds until a token is back (0.5 a second)"
    assert limited.get("/healthz").status_code == 200, "probes are never limited"
    assert limited.get("/static/app.js").status_code == 200
    # /metrics is limited too (it is not an open path), so the registry is read directly.
    metrics = generate_latest(limited.app.state.metrics.registry).decode()  # type: ignore[attr-defined]
    assert "routed_vae_rate_limited_total 1.0" in metrics


def test_burst_defaults_to_the_rate(tiny_model_path: Path) -> None:
    settings = Settings(model_path=tiny_model_path, rate_limit_rps=3)
    with TestClient(create_app(settings)) as client:
        statuses = [client.get("/v1/model").status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
