"""Seconds per training epoch: our loop vs. a loop with the seed's structure, same model, same run.

The seed loop keeps MNIST as a Python list of (image tensor, label) pairs and lets a DataLoader
collate every batch of 128 sample by sample. Ours indexes whole-dataset tensors already on the device.
Both run the same RoutedVAE and loss (ours also with the fused Adam step that training uses); each is
timed over --steps optimiser steps after --warmup steps, and the per-epoch time is extrapolated
(60 000 images). Run: python -m bench.train_speed
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator

import torch
from torch.utils.data import DataLoader

from training.config import LossWeights, ModelConfig
from training.data import load_mnist
from training.model import RoutedVAE, loss_terms
from training.train import DeviceSplit

TRAIN_IMAGES = 60_000
Batches = Iterator[tuple[torch.Tensor, torch.Tensor]]


def seed_style_batches(split: DeviceSplit, batch_size: int) -> Batches:
    """The seed's pipeline: a list of per-sample tensors, collated by a shuffling DataLoader."""
    samples = [(split.images[i].float().div(255).view(1, 28, 28), int(split.labels[i])) for i in range(len(split))]
    loader = DataLoader(samples, batch_size=batch_size, shuffle=True)  # type: ignore[arg-type]
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
    return seconds_per_step * TRAIN_IMAGES / batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per loop (default: 40)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default: 5)")
    args = parser.parse_args()
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
