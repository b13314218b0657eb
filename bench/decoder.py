"""One-latent decode in-process: the model's float32 decoder against the float16-weight one
(service/half_decoder.py), the call ``/decode`` makes for each move of the demo's sliders.

Conditions per decoder: ``warm`` (calls back to back: the weights stay in the CPU's caches), ``idle`` (2 ms
asleep before each call, as between a person's requests), ``evicted`` (64 MB of other memory written before
each call: the weights come from RAM), and ``warm, 64 latents`` (a batch, as ``/sample`` or a busy server
sends). Each round times every decoder and condition in turn, ``--calls``
calls each, the decoders' order swapping from round to round; the table gives the median time per call of each
round (min / median / max over rounds) and the ratio float32 / float16 of each round. One torch thread, as the
service runs. Run: ``python -m bench.decoder [--rounds 3] [--calls 300]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from service.half_decoder import Decode, HalfWeightDecoder
from service.limits import MAX_LATENT
from service.model import ModelRunner

ROOT = Path(__file__).resolve().parents[1]
CONDITIONS = ("warm", "idle", "evicted", "warm, 64 latents")
EVICTION_BYTES = 64 << 20  # twice the largest L3 cache of the machines this was run on


def before_each_call(condition: str) -> Callable[[], None]:
    if condition == "idle":
        return lambda: time.sleep(0.002)
    if condition == "evicted":
        other = np.zeros(EVICTION_BYTES // 8)

        def evict() -> None:
            other[:] += 1.0

        return evict
    return lambda: None


def median_call_seconds(decode: Decode, condition: str, calls: int) -> float:
    rows = 64 if condition.endswith("64 latents") else 1
    latent = torch.rand(rows, 10, generator=torch.Generator().manual_seed(1)) * 2
    prepare, times = before_each_call(condition), []
    with torch.inference_mode():
        for _ in range(calls):
            prepare()
            start = time.perf_counter()
            decode(latent)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def spread(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "routed-vae.pt")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=300, help="calls per decoder, condition and round")
    args = parser.parse_args()
    torch.set_num_threads(1)
    decoders = {
        "float32": ModelRunner.load(args.model, "float32").decoder,
        "float16": ModelRunner.load(args.model, "float16").decoder,
    }
    if not isinstance(decoders["float16"], HalfWeightDecoder):
        sys.exit("the float16 decoder was refused for this model or torch (see the warning above); nothing to compare")
    probe = torch.rand(4096, 10, generator=torch.Generator().manual_seed(0)) * MAX_LATENT
    with torch.inference_mode():
        gap = (decoders["float16"](probe) - decoders["float32"](probe)).abs().max().item()
    print(f"largest pixel difference over 4096 latents in [0, {MAX_LATENT:g}]: {gap * 255:.3f}/255")
    times: dict[tuple[str, str], list[float]] = {}
    for round_index in range(args.rounds):
        order = list(decoders) if round_index % 2 == 0 else list(reversed(decoders))
        for condition in CONDITIONS:
            for name in order:
                seconds = median_call_seconds(decoders[name], condition, args.calls)
                times.setdefault((name, condition), []).append(seconds * 1000)
    print(f"\n{args.rounds} rounds of {args.calls} decodes; ms per call, min / median / max over rounds\n")
    print("| condition | float32 | float16 | float32 / float16 by round |")
    print("|---|---|---|---|")
    for condition in CONDITIONS:
        full, half = times[("float32", condition)], times[("float16", condition)]
        ratios = " / ".join(f"{a / b:.2f}" for a, b in zip(full, half, strict=True))
        print(f"| {condition} | {spread(full)} | {spread(half)} | {ratios} |")


if __name__ == "__main__":
    main()
