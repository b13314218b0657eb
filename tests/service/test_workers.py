"""ROUTED_VAE_WORKERS: several worker processes on one port, each with its own model, one /metrics for all."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import digit_png
from tests.service.live_server import free_port, start_service, wait_ready

REQUESTS = 120

pytestmark = pytest.mark.slow  # starts real worker processes (about a minute)


def log_lines(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def classify_pids(log: Path) -> set[object]:
    """The processes whose access log lines show a /classify answered."""
    return {line["pid"] for line in log_lines(log) if line.get("path") == "/classify" and line.get("status") == 200}


def wait_for_workers(log: Path, count: int, timeout: float = 60) -> None:
    """Until ``count`` processes have logged that their model is ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = {line["pid"] for line in log_lines(log) if str(line.get("message", "")).startswith("model ")}
        if len(ready) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"{count} workers were not ready within {timeout} s")


def metric(text: str, name: str, labels: str) -> float:
    match = re.search(rf"^{re.escape(name)}{{{re.escape(labels)}}} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{{{labels}}} not in /metrics"
    return float(match.group(1))


def classify(url: str) -> int:
    with httpx.Client(base_url=url, timeout=30) as http:  # a connection of its own: the kernel picks a worker
        return http.post("/classify", files={"file": ("a.png", digit_png(), "image/png")}).status_code


@contextmanager
def two_workers(model: Path, log: Path) -> Iterator[str]:
    """The service with ROUTED_VAE_WORKERS=2 (set by the caller), both workers ready, its stderr in ``log``; its
    base URL. On leaving, a SIGTERM must stop it with status 0."""
    port = free_port()
    with log.open("wb") as stderr:
        process = start_service(model, port, stderr=stderr.fileno())
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, timeout=60)
        wait_for_workers(log, 2)
        yield url
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_two_workers_answer_and_metrics_count_both(
    tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTED_VAE_WORKERS", "2")
    log = tmp_path / "service.log"
    with two_workers(tiny_model_path, log) as url:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(classify, [url] * REQUESTS))
        assert statuses == [200] * REQUESTS
        assert len(classify_pids(log)) == 2, "both workers answered"
        text = httpx.get(f"{url}/metrics").text
        counted = metric(text, "routed_vae_requests_total", 'endpoint="/classify",method="POST",status="200"')
        assert counted == REQUESTS, "every worker's requests, counted once"
        assert metric(text, "routed_vae_images_total", 'endpoint="/classify"') == REQUESTS
        assert "routed_vae_model_info{" in text and "routed_vae_in_flight_requests 0.0" in text


def test_workers_that_cannot_load_the_model_stop_the_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTED_VAE_WORKERS", "2")
    process = start_service(tmp_path / "missing.pt", free_port(), stderr=subprocess.PIPE)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2
    assert "cannot start" in stderr.decode() and "not found" in stderr.decode()


def test_with_a_metrics_port_the_supervisor_serves_every_workers_metrics(
    tiny_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics_port = free_port()
    monkeypatch.setenv("ROUTED_VAE_WORKERS", "2")
    monkeypatch.setenv("ROUTED_VAE_METRICS_PORT", str(metrics_port))
    with two_workers(tiny_model_path, tmp_path / "service.log") as url:
        assert [classify(url) for _ in range(20)] == [200] * 20
        assert httpx.get(f"{url}/metrics").status_code == 404, "metrics are on their own port"
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        counted = metric(text, "routed_vae_requests_total", 'endpoint="/classify",method="POST",status="200"')
        assert counted == 20 and "routed_vae_model_info{" in text
