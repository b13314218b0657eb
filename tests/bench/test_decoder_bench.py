"""bench/decoder.py end to end, briefly: both decoders timed in every condition, the pixel gap reported."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_decoder_bench_times_both_decoders_and_prints_the_ratios(tiny_model_path: Path) -> None:
    command = [sys.executable, "-m", "bench.decoder", "--model", str(tiny_model_path), "--rounds", "2", "--calls", "2"]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    gap = re.search(r"largest pixel difference over 4096 latents in \[0, 10\]: ([0-9.]+)/255", finished.stdout)
    assert gap is not None and 0 <= float(gap.group(1)) <= 2.0
    rows = [line for line in finished.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0] == "| condition | float32 | float16 | float32 / float16 by round |"
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows[1:]] == [
        "warm",
        "idle",
        "evicted",
        "warm, 64 latents",
    ]
    for row in rows[1:]:
        *timings, ratios = row.strip("| ").split(" | ")[1:]
        for cell in timings:
            low, middle, high = (float(value) for value in cell.split(" / "))
            assert 0 < low <= middle <= high
        assert len(ratios.split(" / ")) == 2 and all(float(ratio) > 0 for ratio in ratios.split(" / "))
