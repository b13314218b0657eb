"""bench/serve.py end to end, briefly: it starts real servers, checks their answers and measures them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.profile_summary import read_stacks, summarise

ROOT = Path(__file__).resolve().parents[2]
CASES = ("classify 1 PNG, c=1", "classify 1 PNG, c=64", "decode 1 latent -> PNG, c=1")
AUTO_CASES = ("classify 1 PNG (auto), c=64", "classify 112x112 scan (auto), c=64")


@pytest.mark.slow
def test_serve_bench_measures_our_service_the_naive_one_our_stack_and_the_floor(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt install wrk; .ci/run installs it)")
    results_path = tmp_path / "results.json"
    command = [sys.executable, "-m", "bench.serve", "--servers", "ours", "naive", "floor", "stack"]
    command += ["--cases", "single", "single-auto", "scan-auto", "decode"]
    command += ["--duration", "1", "--warmup", "1", "--repeat", "1", "--json", str(results_path)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    results = json.loads(results_path.read_text())
    measured = [(server, case) for server in ("ours", "naive", "floor") for case in CASES]
    measured += [(server, case) for server in ("ours", "floor", "stack") for case in AUTO_CASES]
    measured += [("stack", case) for case in CASES if case.startswith("classify")]
    for server, case in measured:
        row = results[server][case]
        assert row["errors"] == 0 and row["requests_per_s"] > 0
        assert row["p99_ms"] >= row["p50_ms"] > 0
        assert results["rounds"][server][case] == [row], "one round, kept whole"
    assert "naive" not in results or AUTO_CASES[0] not in results["naive"], "the naive server reads PNGs as they are"
    assert "| classify 1 PNG, c=64 | routed-vae (this service) |" in finished.stdout
    assert "| min–max over rounds |" in finished.stdout and "| of floor |" in finished.stdout
    assert "throughput" in finished.stdout and "naive FastAPI (round by round: " in finished.stdout
    lines = finished.stdout.splitlines()
    against_naive = "x naive FastAPI in 'classify 1 PNG, c=64' (round by round: "  # naive reads the 28x28 PNG as it is
    assert any(line.startswith(f"- {AUTO_CASES[1]}: throughput") and against_naive in line for line in lines)
    against_stack = "x stack: ours, /classify constant (round by round: "  # its own scan case, not naive's 28x28 one
    assert any(line.startswith(f"- {AUTO_CASES[1]}: throughput") and against_stack in line for line in lines)
    assert "decode 1 latent -> PNG, c=1" not in results["stack"], "the stack runs the /classify cases only"
    assert "| classify 1 PNG (auto), c=64: x naive ≥ 2 |" in finished.stdout, "the targets table"
    turns = lines[lines.index("  classify 1 PNG, c=64") + 1 :][:4]
    assert [line.split()[0] for line in turns] == ["routed-vae", "naive", "floor:", "stack:"], "they take turns"


def test_profile_summary_groups_samples_by_area(tmp_path: Path) -> None:
    profile = tmp_path / "profile.txt"
    profile.write_text(
        "main;run (uvicorn/main.py:1);ModelRunner.encode (service/model.py:90) 6\n"
        "main;classify_images (service/image_routes.py:9);to_mnist_form (service/images.py:3);load (PIL/Image.py:4) 3\n"
        "main;mystery (elsewhere.py:1) 1\n"
    )
    summary = summarise(read_stacks(profile), top=2)
    assert "10 samples" in summary
    assert "| model (TorchScript encode) | 60.0 % |" in summary
    assert "| image decoding (Pillow, numpy) | 30.0 % |" in summary
    assert "| other | 10.0 % |" in summary
    assert "60.0 % ModelRunner.encode (service/model.py:90)" in summary
