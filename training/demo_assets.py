"""`python -m training.demo_assets`: bundle a small stratified sample of MNIST test images for the demo."""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path

import numpy as np

from training.data import load_mnist

DEFAULT_OUT = Path("service/static/mnist-samples.json")


def stratified_sample(labels: np.ndarray, per_digit: int, seed: int) -> np.ndarray:
    """``per_digit`` random indices of each digit, shuffled together."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(labels == digit), per_digit, replace=False) for digit in range(10)]
    return rng.permutation(np.concatenate(picks))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.demo_assets", description=__doc__)
    parser.add_argument("--per-digit", type=int, default=20, help="test images per digit (default: 20)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON file to write (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    test = load_mnist().test
    index = stratified_sample(test.labels, args.per_digit, args.seed)
    payload = {
        "source": "MNIST test set (LeCun, Cortes, Burges), CC BY-SA 3.0",
        "indices": index.tolist(),
        "labels": test.labels[index].tolist(),
        "pixels": [base64.b64encode(test.images[i].tobytes()).decode("ascii") for i in index],
    }
    args.out.write_text(json.dumps(payload))
    print(f"wrote {len(index)} images to {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
