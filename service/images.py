"""Safe image decoding and MNIST-style preprocessing. No HTTP here: errors are ImageError."""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from service.png import gray_png, png_size, read_gray_png

# Formats we decode; EPS (runs Ghostscript) and everything else are refused before parsing.
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
MNIST_SIDE = 28
DIGIT_BOX = 20  # MNIST scales each digit so its longer side is 20 px, then centres it in 28 x 28
INK_THRESHOLD = 0.2  # fraction of full ink below which a pixel counts as background when cropping
STROKE_SIDE = 80  # stroke width is measured with the digit's longer side at 80 px (4 x the 20 px box)
THICK_HALF_STROKE = 6.5  # px at that size: above MNIST's 95th percentile (6.1); thicker strokes get thinned...
MAX_HALF_STROKE = 4.0  # ...to about MNIST's median (the gap keeps auto stable when applied twice)
MAX_THINNING_STEPS = 12


class ImageError(ValueError):
    """An input image that cannot be used; ``status`` and ``code`` say how to answer it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int
    max_pixels: int


def decode_base64(text: str, max_bytes: int) -> bytes:
    """Bytes of a base64 image, with or without a ``data:image/...;base64,`` prefix."""
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        if not header.endswith(";base64"):
            raise ImageError(422, "invalid_base64", "A data URL must be base64: data:image/png;base64,...")
    if len(text) > (max_bytes * 4) // 3 + 4:
        raise ImageError(413, "image_too_large", f"An image may be at most {max_bytes} bytes.")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImageError(422, "invalid_base64", f"The image is not valid base64: {error}.") from error


def open_image(data: bytes, limits: ImageLimits) -> Image.Image:
    """Frame 0 of an allowed image, fully decoded, after checking its size from the header."""
    if len(data) > limits.max_bytes:
        raise ImageError(413, "image_too_large", f"An image may be at most {limits.max_bytes} bytes.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            width, height = image.size
            if width * height > limits.max_pixels:
                raise ImageError(
                    413,
                    "image_too_large",
                    f"The image is {width}x{height}; at most {limits.max_pixels} pixels are accepted.",
                )
            image.seek(0)  # animated GIF/WebP: the first frame only
            image.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(413, "image_too_large", "The image has too many pixels.") from error
    except UnidentifiedImageError as error:
        raise ImageError(
            415, "unsupported_image", f"Not a readable image. Accepted formats: {', '.join(ALLOWED_FORMATS)}."
        ) from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ImageError(422, "corrupt_image", "The image is truncated or corrupt and could not be decoded.") from error
    return image


def header_pixels(data: bytes) -> int | None:
    """Width x height read from the image header alone (nothing decoded); None if it is unreadable."""
    size = png_size(data)  # the common case, without opening the file in Pillow
    if size is not None:
        return size[0] * size[1]
    try:
        with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as image:
            width, height = image.size
    except Exception:  # any unreadable header: the full decode reports it properly
        return None
    return int(width) * int(height)


def to_grayscale(image: Image.Image) -> np.ndarray:
    """Luminance in [0, 1]; transparency flattened onto whichever background contrasts with the ink."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255
        gray = np.asarray(rgba.convert("L"), dtype=np.float32) / 255
        opaque = alpha > 0.5
        ink_is_light = opaque.any() and float(gray[opaque].mean()) > 0.5
        background = 0.0 if ink_is_light else 1.0
        return gray * alpha + background * (1 - alpha)
    luminance = image if image.mode == "L" else image.convert("L")
    return np.asarray(luminance, dtype=np.float32) / 255


def as_ink(gray: np.ndarray) -> np.ndarray:
    """Ink = 1, background = 0: invert when the border (the background) is light, then stretch."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    ink = 1 - gray if background > 0.5 else gray
    floor = min(background, 1 - background)
    peak = float(ink.max())
    if peak - floor < 0.05:
        raise ImageError(422, "blank_image", "The image has no visible digit (it is one flat colour).")
    return np.clip((ink - floor) / (peak - floor), 0, 1)


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def scale_longer_side(ink: np.ndarray, side: int) -> np.ndarray:
    """Scale so the longer side is ``side`` px, keeping the aspect ratio (antialiased)."""
    height, width = ink.shape
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = Image.fromarray(ink.astype(np.float32), mode="F")
    return np.asarray(image.resize(size, Image.Resampling.LANCZOS), dtype=np.float32).clip(0, 1)


def fit_box(ink: np.ndarray) -> np.ndarray:
    """Scale so the longer side is 20 px, as MNIST does."""
    return scale_longer_side(ink, DIGIT_BOX)


def to_bytes(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> uint8 0..255, rounded (out-of-range values clipped)."""
    return (values.clip(0, 1) * 255).round().astype(np.uint8)


def half_stroke_width(ink: np.ndarray) -> float:
    """Typical half width of the strokes, in pixels: one 3 x 3 erosion takes a pixel off each side of every
    stroke, so the share of ink it removes is about 1 / (half width)."""
    image = Image.fromarray(to_bytes(ink))
    before = int((ink > 0.5).sum())
    after = int((np.asarray(image.filter(ImageFilter.MinFilter(3))) > 127).sum())
    return 1.0 / max(1e-6, 1 - after / max(before, 1))


def thin_thick_strokes(ink: np.ndarray) -> np.ndarray:
    """Strokes thicker than handwriting's eroded back to MNIST's range; MNIST-like strokes untouched.

    Printed and marker digits have strokes about twice as thick as MNIST's, and a model that learned
    handwriting reads a thick 0, 6 or 9 as an 8. Measured at STROKE_SIDE px: half widths of MNIST test
    digits have median 3.9, 90th percentile 5.6, 95th 6.1. Strokes above 6.5 are thinned to 4: the
    font-digit test went from 58 % to 75 %, and MNIST's accuracy through `auto` stayed 94.2 %. The gap
    between 6.5 and 4 keeps `auto` stable when applied to its own output.
    """
    # A blank margin, so that erosion also works on strokes that touch the crop's edge.
    scaled = np.pad(scale_longer_side(ink, STROKE_SIDE), MAX_THINNING_STEPS + 1)
    half_width = half_stroke_width(scaled)
    if half_width <= THICK_HALF_STROKE:
        return ink
    steps = min(MAX_THINNING_STEPS, round(half_width - MAX_HALF_STROKE))
    image = Image.fromarray(to_bytes(scaled))
    for _ in range(steps):
        image = image.filter(ImageFilter.MinFilter(3))
    thinned = np.asarray(image, dtype=np.float32) / 255
    if (thinned > 0.5).sum() < 0.1 * (scaled > 0.5).sum():  # a solid blob, not strokes: leave it
        return ink
    return crop_to_ink(thinned)


def centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place the digit in 28 x 28 so its centre of mass sits at the centre, as MNIST does."""
    height, width = digit.shape
    total = float(digit.sum())
    rows, cols = np.indices(digit.shape)
    centre_row = float((rows * digit).sum()) / total
    centre_col = float((cols * digit).sum()) / total
    # MNIST's centres of mass sit at (14.0, 14.0) in 0-indexed pixel coordinates (measured on the
    # test set: mean 13.99 / 14.00, sd 0.29); a half-pixel offset costs an MLP several points.
    top = round(MNIST_SIDE / 2 - centre_row)
    left = round(MNIST_SIDE / 2 - centre_col)
    top = min(max(top, 0), MNIST_SIDE - height)
    left = min(max(left, 0), MNIST_SIDE - width)
    canvas = np.zeros((MNIST_SIDE, MNIST_SIDE), dtype=np.float32)
    canvas[top : top + height, left : left + width] = digit
    return canvas


def preprocess_auto(gray: np.ndarray) -> np.ndarray:
    """Luminance of any picture of one digit -> 28 x 28 MNIST form (white on black, strokes no thicker
    than handwriting's, 20 px box, centred by mass)."""
    return centre_by_mass(fit_box(thin_thick_strokes(crop_to_ink(as_ink(gray)))))


def preprocess_none(gray: np.ndarray) -> np.ndarray:
    """A 28 x 28 image taken as it is: grayscale, 1 = ink."""
    if gray.shape != (MNIST_SIDE, MNIST_SIDE):
        height, width = gray.shape
        raise ImageError(
            422,
            "wrong_image_size",
            f"preprocess=none needs a 28x28 image, got {width}x{height}; use preprocess=auto for other sizes.",
        )
    return gray


def read_luminance(data: bytes, limits: ImageLimits, upright: bool) -> np.ndarray:
    """Luminance in [0, 1] of an image file; ``upright`` applies its EXIF orientation."""
    plain = read_gray_png(data, limits.max_pixels) if len(data) <= limits.max_bytes else None
    if plain is not None:  # the common 8-bit grayscale PNG, read without Pillow's slower path
        return plain.astype(np.float32) / 255
    image = open_image(data, limits)
    if upright:
        image = ImageOps.exif_transpose(image) or image
    return to_grayscale(image)


def image_to_mnist(data: bytes, limits: ImageLimits, preprocess: str) -> np.ndarray:
    """Bytes of an image file -> (28, 28) float32 in [0, 1], MNIST form."""
    auto = preprocess == "auto"
    gray = read_luminance(data, limits, upright=auto)
    return preprocess_auto(gray) if auto else preprocess_none(gray)


def pixels_to_png(pixels: np.ndarray, scale: int = 1) -> bytes:
    """(28, 28) values in [0, 1] -> an 8-bit grayscale PNG with no metadata, upscaled by nearest neighbour."""
    image = to_bytes(pixels)
    if scale > 1:
        image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    return gray_png(image)
