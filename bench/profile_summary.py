"""Summarise a py-spy ``--format raw`` profile: where the samples are, by function and by area.

Run: python -m bench.profile_summary test-output/serve-profile.txt [--top 15]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

# Areas of the request path. Each stack goes to the area of its innermost recognisable frame (walking from
# the leaf; within one frame, the first area listed wins), so time spent inside a library called by our
# code counts for the library.
AREAS = {
    "model (TorchScript encode)": ("ModelRunner.encode", "ModelRunner.decode"),
    "auto preprocessing (mnist_form)": ("mnist_form/",),
    "image decoding (Pillow, numpy)": ("to_mnist_form", "open_image_file", "luminance", "decode_plain_gray"),
    "multipart parsing": ("parse_multipart", "MultipartParser"),
    "access log": ("Logger.info", "StreamHandler"),
    "metrics": ("prometheus_client",),
    "micro-batcher and thread hand-offs": ("MicroBatcher", "run_in_executor", "concurrent/futures", "threading.py"),
    "our routes, middleware and glue (service/, with the stdlib it calls)": ("service/",),
    "HTTP server (uvicorn, event loop)": ("httptools_impl", "Runner.run", "asyncio/"),
    "FastAPI and Starlette routing": ("fastapi/", "starlette/"),
}


def read_stacks(path: Path) -> Counter[tuple[str, ...]]:
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[tuple(stack.split(";"))] += int(count)
    return stacks


def area_of(frames: tuple[str, ...]) -> str:
    for frame in reversed(frames):
        for area, markers in AREAS.items():
            if any(marker in frame for marker in markers):
                return area
    return "other"


def summarise(stacks: Counter[tuple[str, ...]], top: int) -> str:
    total = sum(stacks.values())
    by_area: Counter[str] = Counter()
    by_leaf: Counter[str] = Counter()
    for frames, count in stacks.items():
        by_area[area_of(frames)] += count
        by_leaf[frames[-1]] += count
    lines = [f"{total} samples", "", "| area | share of samples |", "| --- | ---: |"]
    lines += [f"| {area} | {100 * count / total:.1f} % |" for area, count in by_area.most_common()]
    lines += ["", f"Top {top} functions by own samples:", ""]
    lines += [f"- {100 * count / total:4.1f} % {leaf}" for leaf, count in by_leaf.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path, help="a py-spy raw profile (bench/serve.py --profile)")
    parser.add_argument("--top", type=int, default=15, help="functions to list (default: 15)")
    args = parser.parse_args()
    print(summarise(read_stacks(args.profile), args.top))


if __name__ == "__main__":
    main()
