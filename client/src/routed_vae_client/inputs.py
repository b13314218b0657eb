"""Turns the images a caller hands over (paths, bytes, PIL images, 28x28 arrays) into request-ready items."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
from PIL import Image

ImageInput: TypeAlias = str | os.PathLike[str] | bytes | bytearray | Image.Image | np.ndarray[Any, Any]
MNIST_SIDE = 28
PNG_MODES = frozenset({"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"})
# Bytes of one 28x28 pixel array written as JSON (784 numbers of up to 8 characters and a comma).
PIXELS_JSON_BYTES = MNIST_SIDE * MNIST_SIDE * 9


@dataclass(frozen=True)
class ImageItem:
    """One image as it will travel: an image file's bytes, or MNIST-form pixel rows taken as they are."""

    file: bytes | None = None
    pixels: list[list[float]] | None = None

    @property
    def wire_bytes(self) -> int:
        """About how many bytes this image adds to a JSON request body (base64 makes files a third larger)."""
        return len(self.file) * 4 // 3 + 4 if self.file is not None else PIXELS_JSON_BYTES

    def json_value(self) -> str | list[list[float]]:
        """The item as an element of the service's JSON ``images`` list."""
        if self.file is not None:
            return base64.b64encode(self.file).decode("ascii")
        assert self.pixels is not None
        return self.pixels


def pil_to_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    (image if image.mode in PNG_MODES else image.convert("RGB")).save(buffer, format="PNG")
    return buffer.getvalue()


def array_to_pixels(array: np.ndarray[Any, Any], index: int) -> list[list[float]]:
    """A 28x28 array (uint8 0..255, or floats/bools 0..1, 1 = ink) as JSON-ready rows in [0, 1]."""
    if array.shape != (MNIST_SIDE, MNIST_SIDE):
        raise ValueError(f"image {index}: arrays must be 28x28 (MNIST form), got shape {array.shape}")
    if array.dtype == np.uint8:
        values = array.astype(np.float64) / 255
    elif array.dtype == np.bool_ or np.issubdtype(array.dtype, np.floating):
        values = array.astype(np.float64)
        if not (np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1):
            raise ValueError(f"image {index}: float arrays must hold values in [0, 1]")
    else:
        raise TypeError(f"image {index}: arrays must be uint8 (0-255) or floats in [0, 1], got {array.dtype}")
    # Six decimals are below the model's float32 resolution at 1.0 and keep the JSON body small.
    rows: list[list[float]] = np.round(values, 6).tolist()
    return rows


def to_item(image: ImageInput, index: int) -> ImageItem:
    """One caller image as an ImageItem; a path is read here, so a missing file fails before any request."""
    if isinstance(image, np.ndarray):
        return ImageItem(pixels=array_to_pixels(image, index))
    if isinstance(image, Image.Image):
        return ImageItem(file=pil_to_png(image))
    if isinstance(image, bytes | bytearray):
        return ImageItem(file=bytes(image))
    if isinstance(image, str | os.PathLike):
        return ImageItem(file=Path(image).read_bytes())
    raise TypeError(
        f"image {index}: expected a path, bytes, a PIL image or a 28x28 numpy array, got {type(image).__name__}"
    )


def to_items(images: Iterable[ImageInput]) -> list[ImageItem]:
    """Every image as an ImageItem, in order; a single image passed bare is refused with a clear message."""
    if isinstance(images, str | bytes | bytearray | os.PathLike | Image.Image) or (
        isinstance(images, np.ndarray) and images.ndim < 3
    ):
        raise TypeError("pass a list of images (one image is [image]); an array of images has shape (N, 28, 28)")
    return [to_item(image, index) for index, image in enumerate(images)]


def chunked(items: Sequence[ImageItem], max_count: int, max_bytes: int) -> Iterator[tuple[int, list[ImageItem]]]:
    """(offset, items) runs in order, each at most ``max_count`` items and, where it can, ``max_bytes``."""
    start, chunk, size = 0, list[ImageItem](), 0
    for index, item in enumerate(items):
        if chunk and (len(chunk) == max_count or size + item.wire_bytes > max_bytes):
            yield start, chunk
            start, chunk, size = index, [], 0
        chunk.append(item)
        size += item.wire_bytes
    if chunk:
        yield start, chunk
