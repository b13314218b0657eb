"""Label-free data augmentation: small random shifts of whole images, done on the device per batch."""

from __future__ import annotations

import torch
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
