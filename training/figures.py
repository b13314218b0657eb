"""PNG figures for the evaluation report (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed; set before pyplot is imported
import matplotlib.pyplot as plt
import numpy as np
import torch

from training.metrics import Autoencoder


@torch.no_grad()
def sweep_images(model: Autoencoder, strengths: np.ndarray, latent_size: int) -> np.ndarray:
    """Decode s * e_k for every digit k and strength s: (K, S, 28, 28)."""
    latents = torch.zeros(latent_size, len(strengths), latent_size)
    for k in range(latent_size):
        latents[k, :, k] = torch.from_numpy(strengths).float()
    decoded = model.decode(latents.view(-1, latent_size))
    return decoded.view(latent_size, len(strengths), 28, 28).numpy()


def save_sweep_grid(model: Autoencoder, path: Path, maximum: float, latent_size: int = 10) -> None:
    """One row per digit k, columns decode s * e_k for s from 0 to the slider maximum."""
    strengths = np.linspace(0, maximum, 9)
    images = sweep_images(model, strengths, latent_size)
    fig, axes = plt.subplots(latent_size, len(strengths), figsize=(len(strengths) * 0.9, latent_size * 0.95))
    for k in range(latent_size):
        for column, strength in enumerate(strengths):
            axis = axes[k, column]
            axis.imshow(images[k, column], cmap="gray", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
            if column == 0:
                axis.set_ylabel(f"dim {k}", fontsize=8)
            if k == latent_size - 1:
                axis.set_xlabel(f"s={strength:.2g}", fontsize=8)
    fig.suptitle("decode(s · e_k): each row turns up one latent dimension")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


@torch.no_grad()
def save_reconstructions(model: Autoencoder, images: np.ndarray, labels: np.ndarray, path: Path) -> None:
    """Top row: test inputs; bottom row: their reconstructions, titled with the predicted digit."""
    batch = torch.from_numpy(images).float().div(255).unsqueeze(1)
    latents = model.encode(batch)
    outputs = model.decode(latents).squeeze(1).numpy()
    predicted = latents.argmax(dim=1).numpy()
    fig, axes = plt.subplots(2, len(images), figsize=(len(images) * 0.9, 2.2))
    for column in range(len(images)):
        axes[0, column].imshow(images[column], cmap="gray")
        axes[0, column].set_title(f"true {labels[column]}", fontsize=7)
        axes[1, column].imshow(outputs[column], cmap="gray", vmin=0, vmax=1)
        axes[1, column].set_title(f"pred {predicted[column]}", fontsize=7)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_confusion_matrix(matrix: np.ndarray, path: Path) -> None:
    fig, axis = plt.subplots(figsize=(6, 5.4))
    shown = axis.imshow(matrix, cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        colour = "white" if count > matrix.max() / 2 else "black"
        axis.text(column, row, str(count), ha="center", va="center", fontsize=7, color=colour)
    axis.set_xlabel("predicted digit (argmax of latent)")
    axis.set_ylabel("true digit")
    axis.set_xticks(range(len(matrix)))
    axis.set_yticks(range(len(matrix)))
    fig.colorbar(shown)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_activation_histograms(latents: np.ndarray, labels: np.ndarray, path: Path) -> None:
    """Per latent dimension: its values on images of its own digit vs. on all other digits."""
    size = latents.shape[1]
    fig, axes = plt.subplots(2, (size + 1) // 2, figsize=(14, 5), sharey=True)
    bins = np.linspace(0, max(float(latents.max()), 1e-6), 40)
    for k, axis in enumerate(axes.flat[:size]):
        axis.hist(latents[labels != k, k], bins=bins, alpha=0.6, label="other digits", density=True)
        axis.hist(latents[labels == k, k], bins=bins, alpha=0.6, label=f"digit {k}", density=True)
        axis.set_title(f"dimension {k}", fontsize=9)
        axis.set_yscale("log")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("latent activations: own digit vs. other digits (test set, log density)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
