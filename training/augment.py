"""Label-free data augmentation, done on the device per batch: small random shifts, rotations and slants."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

SIDE = 28  # MNIST images are 28 x 28


def random_shift(images: Tensor, max_shift: int) -> Tensor:
    """Each flattened image (B, 784) moved by its own random whole-pixel offset in [-max_shift, max_shift]
    along each axis, blank (0) where it moves in from outside. The network sees, and reconstructs, the
    shifted picture; labels are untouched."""
    if max_shift == 0:
        return images
    count, padded_side = len(images), SIDE + 2 * max_shift
    padded = torch.nn.functional.pad(images.view(count, SIDE, SIDE), (max_shift,) * 4).flatten(1)
    offsets = torch.randint(0, 2 * max_shift + 1, (count, 2), device=images.device)  # (B, [row, column])
    grid = torch.arange(SIDE, device=images.device)
    rows = (grid.view(1, SIDE, 1) + offsets[:, 0].view(count, 1, 1)) * padded_side  # (B, 28, 1)
    columns = grid.view(1, 1, SIDE) + offsets[:, 1].view(count, 1, 1)  # (B, 1, 28)
    return padded.gather(1, (rows + columns).flatten(1))


def random_affine(images: Tensor, max_degrees: float, max_shear: float) -> Tensor:
    """Each flattened image (B, 784) rotated about its centre by its own random angle in
    [-max_degrees, max_degrees] and slanted by its own random horizontal shear in [-max_shear, max_shear]
    (bilinear, blank where it moves in from outside); labels are untouched."""
    if max_degrees == 0 and max_shear == 0:
        return images
    count = len(images)
    angles = (torch.rand(count, device=images.device) * 2 - 1) * math.radians(max_degrees)
    shears = (torch.rand(count, device=images.device) * 2 - 1) * max_shear
    cos, sin = angles.cos(), angles.sin()
    # Where each output pixel reads from, in [-1, 1] coordinates: rotation times shear, no translation.
    zero = torch.zeros_like(cos)
    transform = torch.stack(
        [torch.stack([cos, cos * shears - sin, zero], dim=1), torch.stack([sin, sin * shears + cos, zero], dim=1)],
        dim=1,
    )  # (B, 2, 3)
    grid = F.affine_grid(transform, [count, 1, SIDE, SIDE], align_corners=False)
    pictures = images.view(count, 1, SIDE, SIDE)
    return F.grid_sample(pictures, grid, mode="bilinear", padding_mode="zeros", align_corners=False).flatten(1)
