"""What the routes call: classify, encode, decode and sample over the micro-batched model. No HTTP."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from service.batching import MicroBatcher
from service.model import ModelRunner
from service.sampling import LatentSampler


@dataclass(frozen=True)
class Classification:
    digit: int
    confidence: float  # the digit's share of the total latent activation
    latent: list[float]


def classify_latents(latents: np.ndarray) -> list[Classification]:
    """Argmax digit and its share of the activation; an all-zero latent gets confidence 0."""
    totals = latents.sum(axis=1)
    digits = latents.argmax(axis=1)
    own = latents[np.arange(len(latents)), digits]
    shares = np.divide(own, totals, out=np.zeros_like(own), where=totals > 0)
    return [
        Classification(digit, share, row)
        for digit, share, row in zip(digits.tolist(), shares.tolist(), latents.tolist(), strict=True)
    ]


class Inference:
    def __init__(self, runner: ModelRunner, batcher: MicroBatcher, sampler: LatentSampler) -> None:
        self.runner, self.batcher, self.sampler = runner, batcher, sampler

    async def encode(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) MNIST-form pixels -> (N, K) latents."""
        tensor = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).unsqueeze(1)
        return (await self.batcher.submit("encode", tensor)).numpy()

    async def classify(self, images: np.ndarray) -> list[Classification]:
        return classify_latents(await self.encode(images))

    async def decode(self, latents: np.ndarray) -> np.ndarray:
        """(N, K) latents -> (N, 28, 28) pixels in [0, 1]."""
        tensor = torch.from_numpy(np.ascontiguousarray(latents, dtype=np.float32))
        return (await self.batcher.submit("decode", tensor)).squeeze(1).numpy()

    async def sample(self, n: int, digit: int | None, seed: int | None) -> tuple[list[int], np.ndarray, np.ndarray]:
        digits, latents = self.sampler.sample(n, digit, seed)
        return digits, latents, await self.decode(latents)
