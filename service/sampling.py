"""Draws plausible latents for a digit from the model card's per-digit latent statistics."""

from __future__ import annotations

from typing import Any

import numpy as np


class LatentSampler:
    """A Gaussian per digit (mean and covariance of encoded training images), clipped at 0."""

    def __init__(self, card: dict[str, Any], max_value: float) -> None:
        stats = card["latent_statistics"]["per_digit"]
        self.means = np.array([digit["mean"] for digit in stats], dtype=np.float64)  # (K, K)
        covariances = np.array([digit["covariance"] for digit in stats], dtype=np.float64)  # (K, K, K)
        # A tiny ridge keeps the Cholesky factor defined for dimensions that never fire.
        ridge = 1e-6 * np.eye(self.means.shape[1])
        self.factors = np.linalg.cholesky(covariances + ridge)  # (K, K, K)
        self.max_value = max_value

    @property
    def classes(self) -> int:
        return int(self.means.shape[0])

    def sample(self, n: int, digit: int | None, seed: int | None) -> tuple[list[int], np.ndarray]:
        """Digits (given or uniformly random) and their latents (n, K), reproducible for a seed."""
        rng = np.random.default_rng(seed)
        digits = [digit] * n if digit is not None else rng.integers(0, self.classes, size=n).tolist()
        noise = rng.standard_normal((n, self.means.shape[1]))
        latents = np.stack([self.means[d] + self.factors[d] @ noise[i] for i, d in enumerate(digits)])
        return digits, np.clip(latents, 0.0, self.max_value).astype(np.float32)
