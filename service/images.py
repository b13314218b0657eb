"""Image files -> MNIST form: headers checked before anything is decoded, then decoded once. No HTTP here.

The path of one file: ``open_image_file`` reads and checks its header (format allowlist, byte and pixel
limits), ``luminance`` decodes it from there, and ``to_mnist_form`` hands it to ``mnist_form``. Errors are
``InputError``s whose codes the service maps to statuses.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mnist_form.errors import InputError
from mnist_form.picture import to_grayscale
from mnist_form.preprocess import preprocess_auto, preprocess_none, to_bytes
from service.png import decode_plain_gray, gray_png, plain_gray_size

# Formats we decode; EPS (runs Ghostscript) and everything else are refused before parsing.
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
PREPROCESS_MODES = ("auto", "none")


@dataclass(frozen=True)
class ImageLimits:
    """What one image may be: bytes of its file, pixels once decoded."""

    max_bytes: int
    max_pixels: int


@dataclass(frozen=True)
class ImageFile:
    """An image file whose header has been read and checked; nothing is decoded yet."""

    data: bytes
    width: int
    height: int
    pillow: Image.Image | None = None  # None: a plain 8-bit grayscale PNG, for service.png's reader

    @property
    def pixels(self) -> int:
        return self.width * self.height


def decode_base64(text: str, max_bytes: int) -> bytes:
    """Bytes of a base64 image, with or without a ``data:image/...;base64,`` prefix."""
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        if not header.endswith(";base64"):
            raise InputError("invalid_base64", "A data URL must be base64: data:image/png;base64,...")
    if len(text) > (max_bytes * 4) // 3 + 4:
        raise InputError("image_too_large", f"An image may be at most {max_bytes} bytes.")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InputError("invalid_base64", f"The image is not valid base64: {error}.") from error


@contextmanager
def pillow_errors() -> Iterator[None]:
    """Pillow's exceptions as InputErrors; a decompression-bomb warning is an error too."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InputError("image_too_large", "The image has too many pixels.") from error
    except UnidentifiedImageError as error:
        accepted = ", ".join(ALLOWED_FORMATS)
        raise InputError("unsupported_image", f"Not a readable image. Accepted formats: {accepted}.") from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise InputError("corrupt_image", "The image is truncated or corrupt and could not be decoded.") from error


def check_size(width: int, height: int, limits: ImageLimits) -> None:
    if width * height > limits.max_pixels:
        raise InputError(
            "image_too_large", f"The image is {width}x{height}; at most {limits.max_pixels} pixels are accepted."
        )


def open_with_pillow(data: bytes, limits: ImageLimits) -> ImageFile:
    with pillow_errors():
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)  # reads the header only
    width, height = image.size
    check_size(width, height, limits)
    return ImageFile(data, width, height, image)


def open_image_file(data: bytes, limits: ImageLimits) -> ImageFile:
    """Reads and checks the header of an image file (format, bytes, pixels) without decoding its pixels."""
    if len(data) > limits.max_bytes:
        raise InputError("image_too_large", f"An image may be at most {limits.max_bytes} bytes.")
    size = plain_gray_size(data)
    if size is None:
        return open_with_pillow(data, limits)
    check_size(*size, limits)
    return ImageFile(data, *size)


def luminance(file: ImageFile, upright: bool) -> np.ndarray:
    """Luminance in [0, 1] of an opened file; ``upright`` applies its EXIF orientation."""
    if file.pillow is None:
        plain = decode_plain_gray(file.data, file.width, file.height)
        if plain is not None:  # the common 8-bit grayscale PNG, read without Pillow's slower path
            return plain.astype(np.float32) / 255
        # An unusual chunk or damaged data: Pillow reads it, or says what is wrong with it.
        file = open_with_pillow(file.data, ImageLimits(len(file.data), file.pixels))
    assert file.pillow is not None
    try:
        with pillow_errors():
            file.pillow.seek(0)  # animated GIF/WebP: the first frame only
            file.pillow.load()
        image = (ImageOps.exif_transpose(file.pillow) or file.pillow) if upright else file.pillow
        return to_grayscale(image)
    finally:
        file.pillow.close()  # frees the decoded pixels now, not when the whole request is done


def to_mnist_form(file: ImageFile, preprocess: str) -> np.ndarray:
    """An opened image file -> (28, 28) float32 in [0, 1], MNIST form, as ``preprocess`` (auto or none) asks."""
    auto = preprocess == "auto"
    gray = luminance(file, upright=auto)
    return preprocess_auto(gray) if auto else preprocess_none(gray)


def pixels_to_png(pixels: np.ndarray, scale: int = 1) -> bytes:
    """(28, 28) values in [0, 1] -> an 8-bit grayscale PNG with no metadata, upscaled by nearest neighbour."""
    return gray_png(to_bytes(pixels), scale)
