"""The hand-written PNG writer: any reader (here Pillow) must get the exact pixels back."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from service.images import pixels_to_png
from service.png import gray_png


@pytest.mark.parametrize("shape", [(28, 28), (1, 1), (3, 200), (224, 224)])
def test_pillow_reads_back_the_exact_pixels(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    decoded = Image.open(io.BytesIO(gray_png(image)))
    decoded.load()  # checks every chunk's CRC and the zlib stream
    assert decoded.format == "PNG" and decoded.mode == "L" and decoded.info == {}
    assert np.array_equal(np.asarray(decoded), image)


def test_upscaling_repeats_each_pixel_like_nearest_neighbour() -> None:
    pixels = np.random.default_rng(1).random((28, 28))
    scaled = np.asarray(Image.open(io.BytesIO(pixels_to_png(pixels, scale=8))))
    reference = Image.fromarray((pixels * 255).round().astype(np.uint8)).resize((224, 224), Image.Resampling.NEAREST)
    assert np.array_equal(scaled, np.asarray(reference))
