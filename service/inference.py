"""What the routes call: classify, encode, decode and sample over the micro-batched model. No HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from service.batching import MicroBatcher
from service.model import ModelRunner
from service.sampling import LatentSampler


@dataclass(frozen=True)
class Classification:
    digit: int
    confidence: float  # the digit's share of the total latent activation
    latent: list[float]


def classify_latents(latents: np.ndarray) -> list[Classification]:
    """Argmax digit (the first, on ties) and its share of the activation; an all-zero latent gets confidence 0.

    Plain Python over the rows: most requests carry one image, and for one row numpy's calls cost
    three times as much (14 against 4 µs here)."""
    classifications = []
    for row in latents.tolist():
        digit = max(range(len(row)), key=row.__getitem__)
        total = sum(row)
        classifications.append(Classification(digit, row[digit] / total if total > 0 else 0.0, row))
    return classifications


def on_arrays(operation: Callable[[Tensor], Tensor]) -> Callable[[np.ndarray], np.ndarray]:
    """A model call taking and giving numpy arrays, for the micro-batcher (see service/batching.py)."""

    def run(inputs: np.ndarray) -> np.ndarray:
        return operation(torch.from_numpy(inputs)).numpy()

    return run


class Inference:
    def __init__(self, runner: ModelRunner, batcher: MicroBatcher, sampler: LatentSampler) -> None:
        self.runner, self.batcher, self.sampler = runner, batcher, sampler

    async def encode(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) MNIST-form pixels -> (N, K) latents."""
        inputs = np.ascontiguousarray(images, dtype=np.float32).reshape(len(images), 1, 28, 28)
        return await self.batcher.submit("encode", inputs)

    async def classify(self, images: np.ndarray) -> list[Classification]:
        return classify_latents(await self.encode(images))

    async def decode(self, latents: np.ndarray) -> np.ndarray:
        """(N, K) latents -> (N, 28, 28) pixels in [0, 1]."""
        pixels = await self.batcher.submit("decode", np.ascontiguousarray(latents, dtype=np.float32))
        return pixels.reshape(len(pixels), 28, 28)

    async def sample(self, n: int, digit: int | None, seed: int | None) -> tuple[list[int], np.ndarray, np.ndarray]:
        digits, latents = self.sampler.sample(n, digit, seed)
        return digits, latents, await self.decode(latents)
