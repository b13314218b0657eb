"""``auto`` preprocessing in-process: ``preprocess_auto_many`` of this tree against the same function at another
commit, measured alternately in one process, CPU time per call.

Cases: 256 and 64 bundled MNIST test digits (28 x 28 PNGs, decoded together as the service decodes a request's
digits, ``service/png.py::decode_plain_grays``); the 256 drawn with a thicker pen (a 3 x 3 maximum filter: most
get thinned); 256 black-on-white 112 x 112 pictures of them (scans, which ``preprocess_auto_many`` hands to
``preprocess_auto`` one by one). Each round times every case with the
baseline and with this tree in turn, ``--calls`` calls each, the order swapping from round to round; the table
gives the time per call over the rounds (min / median / max) and the ratio baseline / this tree of each round.
Before timing, the two must give the same pictures (within TOLERANCE). On a machine shared with other work the
absolute times are noisy: compare the ratios. Run: ``python -m bench.preprocess [--baseline REF]``.
"""

from __future__ import annotations

import argparse
import importlib
import io
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from bench.serve_cases import SCAN_SIDE, mnist_digits
from mnist_form.batch import preprocess_auto_many
from service.png import decode_plain_grays

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-5  # the largest difference per pixel allowed between the two (tests/mnist_form/test_batch.py)
Preprocess = Callable[[Sequence[np.ndarray]], np.ndarray]


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def decoded(pictures: list[np.ndarray]) -> list[np.ndarray]:
    """Luminance of equal-size uint8 pictures, through PNG files decoded as the service decodes them."""
    height, width = pictures[0].shape
    pixels = decode_plain_grays([png(picture) for picture in pictures], width, height)
    assert pixels is not None, "plain grayscale PNGs"
    return list(pixels.astype(np.float32) / 255)


def cases() -> dict[str, list[np.ndarray]]:
    digits, _ = mnist_digits(256)
    thick = [np.asarray(Image.fromarray(digit).filter(ImageFilter.MaxFilter(3))) for digit in digits]
    scans = [
        np.asarray(Image.fromarray(255 - digit).resize((SCAN_SIDE,) * 2, Image.Resampling.BILINEAR)) for digit in digits
    ]
    return {
        "256 MNIST digits (28x28)": decoded(digits),
        "64 MNIST digits (28x28)": decoded(digits[:64]),
        "256 thick-pen MNIST digits (28x28)": decoded(thick),
        f"256 scans ({SCAN_SIDE}x{SCAN_SIDE})": decoded(scans),
    }


def preprocess_at(ref: str, folder: Path) -> Preprocess:
    """``preprocess_auto_many`` as it was at git ``ref``: its ``mnist_form`` exported there and imported in place
    of this tree's for as long as its modules load (they keep what they imported)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "mnist_form"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    ours = {name: module for name, module in sys.modules.items() if name.partition(".")[0] == "mnist_form"}
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, str(folder))
    try:
        importlib.invalidate_caches()
        baseline: Preprocess = importlib.import_module("mnist_form.batch").preprocess_auto_many
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.partition(".")[0] == "mnist_form"]:
            del sys.modules[name]
        sys.modules.update(ours)
    return baseline


def per_call(preprocess: Preprocess, pictures: list[np.ndarray], calls: int) -> float:
    """CPU seconds of this process per call (all its threads: a BLAS thread spinning counts)."""
    start = time.process_time()
    for _ in range(calls):
        preprocess(pictures)
    return (time.process_time() - start) / calls


def spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    low, middle, high = min(values) * scale, float(np.median(values)) * scale, max(values) * scale
    return f"{low:.{digits}f} / {middle:.{digits}f} / {high:.{digits}f}"


def measure(
    pipelines: dict[str, Preprocess], pictures: list[np.ndarray], rounds: int, calls: int
) -> dict[str, list[float]]:
    """Seconds per call of each pipeline in every round, the pipelines taking turns (first in one round, last
    in the next)."""
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    names = list(pipelines)
    for round_number in range(rounds):
        for name in names if round_number % 2 == 0 else names[::-1]:
            times[name].append(per_call(pipelines[name], pictures, calls))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="main", help="git ref to compare with (default: main)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds (default: 7)")
    parser.add_argument("--calls", type=int, default=20, help="calls per pipeline, case and round (default: 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        pipelines = {args.baseline: preprocess_at(args.baseline, Path(folder)), "this tree": preprocess_auto_many}
    print(f"CPU time per call, ms (min / median / max of {args.rounds} rounds, {args.calls} calls each)\n")
    print(f"| case | {args.baseline} | this tree | ratio {args.baseline} / this tree |")
    print("| --- | ---: | ---: | ---: |")
    for name, pictures in cases().items():
        outputs = [pipeline(pictures) for pipeline in pipelines.values()]
        difference = float(np.abs(outputs[0] - outputs[1]).max())
        if difference > TOLERANCE:
            sys.exit(f"{name}: the two differ by {difference:.2e} per pixel, more than {TOLERANCE}")
        times = measure(pipelines, pictures, args.rounds, args.calls)
        old, new = times[args.baseline], times["this tree"]
        ratios = [before / after for before, after in zip(old, new, strict=True)]
        print(f"| {name} | {spread(old, 1e3)} | {spread(new, 1e3)} | {spread(ratios)} |", flush=True)


if __name__ == "__main__":
    main()
