"""Low-resolution scans: MNIST test digits scanned coarsely and enlarged again, black ink on white paper.

Each digit (20 px tall in MNIST's 28 x 28 picture) is shrunk so that it is 8-16 px tall (the whole picture to
round(28 * side / 20) px, averaging pixels as a coarse scanner does), enlarged to 112 px by bilinear or
nearest-neighbour resampling, inverted to dark ink on light paper and saved as an 8-bit grayscale PNG: the file
a user would upload.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

SCAN_SIDES = tuple(range(8, 17))  # the digit's height in scanned pixels
UPSCALED_SIDE = 112
COUNT = 1000  # the first this many MNIST test digits
SEED = 0
UPSCALES = {"bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST}


@dataclass(frozen=True)
class Scan:
    """How one digit was scanned: its height in scanned pixels and the enlargement's resampling."""

    side: int
    upscale: str

    @property
    def picture_side(self) -> int:
        """The whole 28 x 28 picture's side once scanned."""
        return round(28 * self.side / 20)


def scan_settings(count: int, seed: int = SEED) -> list[Scan]:
    """One setting per digit: heights and resamplings drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    sides = rng.choice(SCAN_SIDES, size=count)
    upscales = rng.choice(sorted(UPSCALES), size=count)
    return [Scan(int(side), str(upscale)) for side, upscale in zip(sides, upscales, strict=True)]


def scanned(digit: np.ndarray, scan: Scan) -> Image.Image:
    """A (28, 28) uint8 MNIST digit (white on black) as a coarse scan, enlarged: black on white, 112 x 112."""
    paper = Image.fromarray(255 - digit)
    small = paper.resize((scan.picture_side, scan.picture_side), Image.Resampling.BOX)
    return small.resize((UPSCALED_SIDE, UPSCALED_SIDE), UPSCALES[scan.upscale])


def scan_png(digit: np.ndarray, scan: Scan) -> bytes:
    buffer = io.BytesIO()
    scanned(digit, scan).save(buffer, format="PNG")
    return buffer.getvalue()
