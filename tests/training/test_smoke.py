"""The documented smoke run on real MNIST: `python -m training --limit 2000 --epochs 1`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch


@pytest.mark.slow
def test_smoke_run_finishes_quickly_and_exports_loadable_model(tmp_path: Path) -> None:
    out = tmp_path / "smoke.pt"
    command = [
        sys.executable,
        "-m",
        "training",
        "--limit",
        "2000",
        "--epochs",
        "1",
        "--out",
        str(out),
        "--run-dir",
        str(tmp_path / "run"),
    ]
    began = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "epoch   1/1  routed" in result.stdout
    model = torch.jit.load(str(out))
    assert model.encode(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
    assert out.with_suffix(".json").exists()
    # The data download on a fresh machine is not part of the 60 s budget; training and export are.
    print(f"smoke run took {time.perf_counter() - began:.1f} s")
