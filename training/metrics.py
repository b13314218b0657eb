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


@torch.no_grad()
def encode_images(model: Autoencoder, images: Tensor) -> tuple[Tensor, Tensor]:
    """Latents (N, K) and per-image summed squared reconstruction errors (N,) of uint8 images (N, 28, 28) or
    (N, 784), ``BATCH`` at a time so that only one batch is ever held as floats; on the images' device."""
    latents, errors = [], []
    for raw in images.split(BATCH):
        batch = raw.float().div_(255).flatten(1)
        latent = model.encode(batch)
        latents.append(latent)
        errors.append((model.decode(latent).flatten(1) - batch).pow(2).sum(dim=1))
    return torch.cat(latents), torch.cat(errors)


def run_split(model: Autoencoder, split: Split) -> tuple[np.ndarray, np.ndarray]:
    """``encode_images`` of a split, as numpy arrays."""
    latents, errors = encode_images(model, torch.from_numpy(split.images))
    return latents.numpy(), errors.numpy()


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
