"""bench/oip.py end to end, briefly: a real server, its answers checked, v2 and /encode measured in one run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.service.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
CASES = ("/encode, JSON, c=1", "v2 encoder, binary tensors, c=1", "v2 encoder, JSON tensors, c=1")


@pytest.mark.slow
def test_oip_bench_measures_v2_and_encode(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt install wrk; .ci/run installs it)")
    results_path = tmp_path / "results.json"
    command = [sys.executable, "-m", "bench.oip", "--connections", "1", "--duration", "1", "--warmup", "1"]
    command += ["--repeat", "1", "--port", str(free_port()), "--json", str(results_path)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    results = json.loads(results_path.read_text())
    assert set(results) == set(CASES)
    for row in results.values():
        assert row["errors"] == 0 and row["images_per_s"] > 0
        assert row["images_per_s"] == pytest.approx(64 * row["requests_per_s"])
        assert row["p99_ms"] >= row["p50_ms"] > 0
    assert "| v2 encoder, binary tensors, c=1 |" in finished.stdout
    assert "At c=1: v2 binary tensors give" in finished.stdout
