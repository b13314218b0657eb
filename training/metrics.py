"""Test metrics and latent statistics, for an eager RoutedVAE or its TorchScript export alike."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from training.data import Split

BATCH = 2000


class Autoencoder(Protocol):
    def encode(self, images: Tensor) -> Tensor: ...

    def decode(self, latents: Tensor) -> Tensor: ...


def as_float_images(split: Split) -> Tensor:
    """(N, 1, 28, 28) float32 in [0, 1] from a uint8 split."""
    return torch.from_numpy(split.images).float().div_(255).unsqueeze(1)


@torch.no_grad()
def run_split(model: Autoencoder, split: Split) -> tuple[np.ndarray, np.ndarray]:
    """Latents (N, K) and per-image summed squared reconstruction errors (N,)."""
    images = as_float_images(split)
    latents, errors = [], []
    for batch in images.split(BATCH):
        latent = model.encode(batch)
        reconstruction = model.decode(latent)
        latents.append(latent)
        errors.append((reconstruction - batch).pow(2).flatten(1).sum(dim=1))
    return torch.cat(latents).numpy(), torch.cat(errors).numpy()


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int) -> np.ndarray:
    """Rows are true digits, columns predicted digits."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (labels.astype(np.int64), predictions.astype(np.int64)), 1)
    return matrix


def classification_metrics(latents: np.ndarray, errors: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Argmax accuracy, per-digit accuracy, confusion matrix, reconstruction error."""
    classes = latents.shape[1]
    predictions = latents.argmax(axis=1)
    matrix = confusion_matrix(labels, predictions, classes)
    per_digit = matrix.diagonal() / matrix.sum(axis=1)
    own = latents[np.arange(len(labels)), labels.astype(np.int64)]
    return {
        "images": len(labels),
        "argmax_accuracy": float((predictions == labels).mean()),
        "recon_error_per_image": float(errors.mean()),
        "recon_error_per_pixel": float(errors.mean() / 784),
        "per_digit_accuracy": [round(float(a), 4) for a in per_digit],
        "confusion_matrix": matrix.tolist(),
        "own_dimension_zero_fraction": float((own <= 0).mean()),
    }


def latent_statistics(latents: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Per-digit mean and covariance of the latents, for sampling plausible digits."""
    per_digit = []
    for digit in range(latents.shape[1]):
        rows = latents[labels == digit]
        per_digit.append(
            {
                "digit": digit,
                "count": len(rows),
                "mean": [round(float(v), 5) for v in rows.mean(axis=0)],
                "covariance": np.round(np.cov(rows, rowvar=False), 6).tolist(),
            }
        )
    own = latents[np.arange(len(labels)), labels.astype(np.int64)]
    return {
        "per_digit": per_digit,
        "own_dimension_quantiles": {
            q: round(float(np.quantile(own, float(q))), 4) for q in ("0.5", "0.9", "0.99", "0.999")
        },
        "max": round(float(latents.max()), 4),
    }


def evaluate_model(model: Autoencoder, split: Split) -> dict[str, Any]:
    """All test metrics of a model on one split."""
    latents, errors = run_split(model, split)
    return classification_metrics(latents, errors, split.labels)
