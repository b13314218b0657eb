"""Seconds per training epoch: our loop vs. a loop with the seed's structure, same model, same run.

The seed loop keeps MNIST as a Python list of (image tensor, label) pairs and lets a DataLoader
collate every batch of 128 sample by sample. Ours indexes whole-dataset tensors already on the device.
Both run the same RoutedVAE and loss (ours also with the fused Adam step that training uses); each is
timed over --steps optimiser steps after --warmup steps, and the per-epoch time is extrapolated
(60 000 images). Run: python -m bench.train_speed

``--time-to-quality`` instead trains the default recipe for real (``python -m training``'s routed
epochs, test evaluation after each) and reports the wall time until the test argmax accuracy first
reaches 95 %, on ``--device`` (auto: the GPU when there is one).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from training.config import LossWeights, ModelConfig, TrainConfig
from training.data import load_mnist
from training.model import RoutedVAE, loss_terms
from training.seeds import QUALITY_BAR, time_to_accuracy
from training.train import DeviceSplit, train

TRAIN_IMAGES = 60_000
Batches = Iterator[tuple[torch.Tensor, torch.Tensor]]


def seed_style_batches(split: DeviceSplit, batch_size: int) -> Batches:
    """The seed's pipeline: a list of per-sample tensors, collated by a shuffling DataLoader."""
    samples = [(split.images[i].float().div(255).view(1, 28, 28), int(split.labels[i])) for i in range(len(split))]
    loader: DataLoader[tuple[torch.Tensor, int]] = DataLoader(samples, batch_size=batch_size, shuffle=True)  # type: ignore[arg-type]
    while True:
        for images, labels in loader:
            yield images.flatten(1), labels


def tensor_batches(split: DeviceSplit, batch_size: int) -> Batches:
    """Our pipeline: a random permutation indexes the whole uint8 tensor."""
    while True:
        for index in torch.randperm(len(split)).split(batch_size):
            yield split.batch(index)


def time_loop(
    make_batches: Callable[[DeviceSplit, int], Batches],
    split: DeviceSplit,
    batch: int,
    fused: bool,
    args: argparse.Namespace,
) -> float:
    """Seconds per epoch, extrapolated from timed steps."""
    torch.manual_seed(0)
    model = RoutedVAE(ModelConfig())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    batches = make_batches(split, batch)

    def step() -> None:
        images, labels = next(batches)
        terms = loss_terms(model, images, labels, LossWeights())
        optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    began = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds_per_step = (time.perf_counter() - began) / args.steps
    return float(seconds_per_step * TRAIN_IMAGES / batch)


def time_to_quality(args: argparse.Namespace) -> None:
    """Train the default recipe's routed epochs and report when test accuracy first reached the bar."""
    config = TrainConfig(decoder_epochs=0, seed=args.seed, device=args.device, run_dir=args.run_dir)
    began = time.perf_counter()
    history = train(config).history
    wall = time.perf_counter() - began
    reached = time_to_accuracy(history, QUALITY_BAR)
    best = max(record["accuracy"] for record in history)
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads, device {config.device}, seed {args.seed}\n")
    print("| routed epochs | seconds to 95 % test accuracy | best accuracy | wall seconds (incl. data loading) |")
    print("| ---: | ---: | ---: | ---: |")
    shown = "not reached" if reached is None else f"{reached:.1f}"
    print(f"| {len(history)} | {shown} | {100 * best:.2f} % | {wall:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per loop (default: 40)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default: 5)")
    parser.add_argument(
        "--time-to-quality", action="store_true", help="train the default recipe and time it to 95 %% accuracy"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for --time-to-quality (default: 0)")
    parser.add_argument("--device", default="auto", help="device for --time-to-quality (default: auto)")
    parser.add_argument(
        "--run-dir", type=Path, default=Path("runs/time-to-quality"), help="(default: runs/time-to-quality)"
    )
    args = parser.parse_args()
    if args.time_to_quality:
        time_to_quality(args)
        return
    split = DeviceSplit.from_split(load_mnist().train, torch.device("cpu"))
    cases = [
        ("seed-style DataLoader, Adam", seed_style_batches, 128, False),
        ("tensor indexing, Adam", tensor_batches, 128, False),
        ("tensor indexing, fused Adam (ours)", tensor_batches, 128, True),
        ("tensor indexing, fused Adam", tensor_batches, 512, True),
    ]
    results = [(name, batch, time_loop(make, split, batch, fused, args)) for name, make, batch, fused in cases]
    baseline = results[0][2]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.steps} timed steps per loop\n")
    print("| loop | batch | s/epoch | speed-up vs seed-style |")
    print("| --- | ---: | ---: | ---: |")
    for name, batch, seconds in results:
        print(f"| {name} | {batch} | {seconds:.1f} | {baseline / seconds:.2f}x |")


if __name__ == "__main__":
    main()
