"""What the client returns: typed predictions and samples, and PIL images from the service's PNGs."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image


@dataclass(frozen=True)
class Prediction:
    """One classified image, e.g. ``Prediction(digit=7, confidence=0.83, latent=[...10 floats])``."""

    digit: int
    confidence: float
    latent: list[float]

    @classmethod
    def from_json(cls, value: Any) -> Prediction:
        """A prediction from the service's ``{"digit", "confidence", "latent"}``."""
        return cls(int(value["digit"]), float(value["confidence"]), [float(x) for x in value["latent"]])


@dataclass(frozen=True)
class Sample:
    """Drawn digits: ``sample.digits[i]`` is the digit of ``sample.images[i]``, decoded from ``sample.latents[i]``."""

    digits: list[int]
    latents: list[list[float]]
    images: list[Image.Image]

    def grid(self, columns: int | None = None) -> Image.Image:
        """The images side by side in rows, e.g. ``client.sample(n=16).grid().save("grid.png")``."""
        return image_grid(self.images, columns)


def png_to_image(text: str, scale: int = 1) -> Image.Image:
    """A base64 PNG from the service as a loaded PIL image, enlarged ``scale`` times (nearest neighbour)."""
    image: Image.Image = Image.open(io.BytesIO(base64.b64decode(text)))
    image.load()
    if scale > 1:
        return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    return image


def image_grid(images: Sequence[Image.Image], columns: int | None = None, gap: int = 2) -> Image.Image:
    """Equal-sized images in a grid (about square unless ``columns`` is given), ``gap`` black pixels apart."""
    if not images:
        raise ValueError("no images to put in a grid")
    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    width, height = images[0].size
    grid = Image.new("L", (columns * width + (columns - 1) * gap, rows * height + (rows - 1) * gap), 0)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        grid.paste(image.convert("L"), (column * (width + gap), row * (height + gap)))
    return grid
