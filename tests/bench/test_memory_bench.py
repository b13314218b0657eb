"""bench/memory.py end to end, briefly: it starts the service, overloads it and reads its memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.service.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_memory_bench_reports_idle_and_peak_rss_and_readiness(tiny_model_path: Path) -> None:
    command = [sys.executable, "-m", "bench.memory", "--model", str(tiny_model_path), "--port", str(free_port())]
    command += ["--clients", "4", "--max-in-flight", "2", "--seconds", "1", "--settle", "0.5"]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    result = json.loads(finished.stdout)
    assert 50 < result["idle_rss_mib"] < result["peak_rss_mib"]
    assert result["statuses"].get("200", 0) > 0 and set(result["statuses"]) <= {"200", "503"}
    assert "503" in result["statuses"], "4 clients against a limit of 2 must be shed sometimes"
    assert result["readyz_probes"] > 0 and result["readyz_failures"] == []
