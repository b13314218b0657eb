"""bench/preprocess.py end to end, briefly: this tree's ``auto`` against the same code at HEAD, alternately."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = (
    "256 MNIST digits (28x28)",
    "64 MNIST digits (28x28)",
    "256 thick-pen MNIST digits (28x28)",
    "256 scans (112x112)",
)


def test_preprocess_bench_times_both_and_prints_the_ratios() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a checkout of the repository (the baseline is exported from it)")
    command = [sys.executable, "-m", "bench.preprocess", "--baseline", "HEAD", "--rounds", "2", "--calls", "1"]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    rows = [line for line in finished.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0] == "| case | HEAD | this tree | ratio HEAD / this tree |"
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows[1:]] == list(CASES)
    for row in rows[1:]:
        for cell in row.strip("| ").split(" | ")[1:]:
            low, middle, high = (float(value) for value in cell.split(" / "))
            assert 0 < low <= middle <= high
