"""The documented smoke run on real MNIST: `python -m training --limit 2000 --epochs 1`."""

from __future__ import annotations

import json
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
        "--printed-digits",
        "200",
        "--out",
        str(out),
        "--run-dir",
        str(tmp_path / "run"),
    ]
    began = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "epoch   1/21  routed" in result.stdout and "epoch  21/21 decoder" in result.stdout
    model = torch.jit.load(str(out))
    assert model.encode(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
    card = json.loads(out.with_suffix(".json").read_text())
    assert "2000 MNIST + 200 printed images" in result.stdout
    assert card["data"]["printed_digits"]["count"] == 200 and card["training"]["data_seconds"] > 0
    assert {name: kind["count"] for name, kind in card["input_kinds"].items()} == {
        "mnist": 10000,
        "printed": 200,
        "pad": 500,
        "scans": 1000,
    }
    # The data download on a fresh machine is not part of the 60 s budget; training and export are.
    print(f"smoke run took {time.perf_counter() - began:.1f} s")


@pytest.mark.slow
def test_seed_sweep_exports_one_seed_with_the_table(tmp_path: Path) -> None:
    out = tmp_path / "m.pt"
    command = [
        sys.executable,
        "-m",
        "training.seeds",
        "--seeds",
        "0",
        "1",
        "--export",
        "0",
        "--out-dir",
        str(tmp_path / "seeds"),
        "--",
        "--limit",
        "500",
        "--epochs",
        "1",
        "--printed-digits",
        "50",
        "--out",
        str(out),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    card = json.loads(out.with_suffix(".json").read_text())
    assert [row["seed"] for row in card["seed_sweep"]["rows"]] == [0, 1]
    assert card["seed_sweep"]["command"] == " ".join(["python -m training.seeds", *command[3:]])
    assert card["training"]["seed"] == 0 and "--seed 0" in card["training"]["command"]
    assert "| seed |" in (tmp_path / "seeds" / "seeds.md").read_text()
