"""How low can the reconstruction error go? Reference floors for the per-image squared error.

Two measurements, both on the 10 000 MNIST test images (summed squared error per image, pixels in [0, 1]):

1. Linear floors from PCA fitted on the training set: one mean image per digit (k = 0), per-digit PCA
   with k components, and global PCA with 10 components. A routed latent that carries one magnitude
   per image is, at best, a non-linear version of "one component per digit".
2. With ``--model``: a fresh decoder (same MLP shape as ours by default) trained for ``--epochs`` on
   the model's own latents (one-cycle learning rate). If it cannot beat the model's decoder by much,
   the latent, not the decoder, limits reconstruction.

Run: ``python -m bench.recon_floor [--model models/routed-vae.pt --epochs 15]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from training.data import Split, load_mnist

EVAL_BATCH = 2000


def flat_pixels(split: Split) -> np.ndarray:
    return split.images.reshape(len(split.labels), -1).astype(np.float64) / 255


def pca_residual(train: np.ndarray, test: np.ndarray, components: int) -> float:
    """Summed squared error of the test images projected on the training set's top components."""
    mean = train.mean(axis=0)
    centred_train = train - mean
    _, vectors = np.linalg.eigh(centred_train.T @ centred_train)  # ascending eigenvalues
    top = vectors[:, vectors.shape[1] - components :].T if components else vectors[:, :0].T
    centred = test - mean
    return float(((centred - (centred @ top.T) @ top) ** 2).sum())


def linear_floors(train: Split, test: Split) -> list[tuple[str, float]]:
    x_train, x_test = flat_pixels(train), flat_pixels(test)
    rows = []
    for components in (0, 1, 2, 3):
        total = sum(
            pca_residual(x_train[train.labels == digit], x_test[test.labels == digit], components)
            for digit in range(10)
        )
        rows.append((f"per-digit PCA, {components} component(s) per digit", total / len(x_test)))
    rows.append(("global PCA, 10 components", pca_residual(x_train, x_test, 10) / len(x_test)))
    return rows


@torch.no_grad()
def encode_split(model: torch.jit.ScriptModule, split: Split) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.from_numpy(split.images).float().div(255).unsqueeze(1)
    latents = torch.cat([model.encode(batch) for batch in images.split(EVAL_BATCH)])
    return latents, images.flatten(1)


def fresh_decoder_floor(
    model_path: Path, train: Split, test: Split, epochs: int, widths: list[int]
) -> list[tuple[str, float]]:
    model = torch.jit.load(str(model_path)).eval()
    z_train, x_train = encode_split(model, train)
    z_test, x_test = encode_split(model, test)
    with torch.no_grad():
        committed = (model.decode(z_test).flatten(1) - x_test).pow(2).sum(1).mean().item()
    active = (z_test > 0).sum(dim=1).float()
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for width_in, width_out in zip([z_train.shape[1], *widths], widths, strict=True):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    decoder = nn.Sequential(*layers, nn.Linear(widths[-1], x_train.shape[1]), nn.Sigmoid())
    optimizer = torch.optim.Adam(decoder.parameters(), lr=2e-3)
    batches = torch.arange(len(z_train)).split(128)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=epochs * len(batches))
    for epoch in range(epochs):
        began = time.perf_counter()
        for index in torch.randperm(len(z_train)).split(128):
            loss = (decoder(z_train[index]) - x_train[index]).pow(2).sum(1).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        with torch.no_grad():
            fresh = (decoder(z_test) - x_test).pow(2).sum(1).mean().item()
        print(
            f"  fresh decoder epoch {epoch + 1}/{epochs}: test error {fresh:.2f} ({time.perf_counter() - began:.0f} s)"
        )
    return [
        (f"{model_path.name}: its own decoder (active dims per image {active.mean():.2f})", committed),
        (f"{model_path.name}: fresh decoder {widths}, {epochs} epochs", fresh),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="also train a fresh decoder on this model's latents")
    parser.add_argument("--epochs", type=int, default=15, help="fresh decoder epochs (default: 15)")
    parser.add_argument("--widths", type=int, nargs="+", default=[512, 2048], help="(default: 512 2048)")
    args = parser.parse_args()
    mnist = load_mnist()
    rows = linear_floors(mnist.train, mnist.test)
    if args.model is not None:
        rows += fresh_decoder_floor(args.model, mnist.train, mnist.test, args.epochs, args.widths)
    print("\n| reconstruction | test error per image |\n| --- | ---: |")
    for name, error in rows:
        print(f"| {name} | {error:.2f} |")


if __name__ == "__main__":
    main()
