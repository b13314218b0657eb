"""MNIST-style preprocessing: a picture of one digit (luminance in [0, 1]) -> 28 x 28 MNIST form.

Every step works on small numpy arrays: resizing is two matrix products (``mnist_form.resample``), stroke
width is measured with boolean erosion, thick strokes are thinned with uint8 minimum filters. Results match
the Pillow-filter pipeline this replaced (kept in tests as the reference) to float32 rounding; the test
module ``tests/mnist_form/test_preprocess_reference.py`` states and checks the tolerance.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from mnist_form.errors import InputError
from mnist_form.resample import resize

MNIST_SIDE = 28
DIGIT_BOX = 20  # MNIST scales each digit so its longer side is 20 px, then centres it in 28 x 28
INK_THRESHOLD = 0.2  # fraction of full ink below which a pixel counts as background when cropping
STROKE_SIDE = 80  # stroke width is measured with the digit's longer side at 80 px (4 x the 20 px box)
THICK_HALF_STROKE = 5.8  # px at that size: above MNIST's 90th percentile (5.6); thicker strokes get thinned...
MAX_HALF_STROKE = 4.0  # ...to about MNIST's median
MAX_THINNING_STEPS = 12
HALF_INK = 0.5  # a pixel counts as ink when measuring strokes (to_bytes gives it a byte above 127)


def border_median(gray: np.ndarray) -> float:
    """Median of the four edges' pixels (corners counted twice), as ``np.median`` computes it."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    middle = border.size // 2  # the border always has an even count: the two middle values' mean
    lower, upper = np.partition(border, (middle - 1, middle))[middle - 1 : middle + 1]
    return float((lower + upper) / 2)


def clip_unit(values: np.ndarray) -> np.ndarray:
    """``values`` clipped to [0, 1] in place (``np.clip`` costs several times as much on small arrays)."""
    np.maximum(values, 0, out=values)
    np.minimum(values, 1, out=values)
    return values


def as_ink(gray: np.ndarray) -> np.ndarray:
    """Ink = 1, background = 0: invert when the border (the background) is light, then stretch."""
    background = border_median(gray)
    ink = 1 - gray if background > 0.5 else gray
    floor = min(background, 1 - background)
    peak = float(ink.max())
    if peak - floor < 0.05:
        raise InputError("blank_image", "The image has no visible digit (it is one flat colour).")
    if floor == 0 and peak == 1:  # already spans [0, 1] (an MNIST digit): stretching would change nothing
        return ink
    return clip_unit((ink - floor) / (peak - floor))


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    mask = ink > INK_THRESHOLD
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def longer_side_size(shape: tuple[int, ...], side: int) -> tuple[int, int]:
    """(height, width) with the longer side ``side`` px, keeping the aspect ratio."""
    height, width = shape
    scale = side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def scale_longer_side(ink: np.ndarray, side: int) -> np.ndarray:
    """Scale so the longer side is ``side`` px, keeping the aspect ratio (Lanczos, antialiased)."""
    return clip_unit(resize(ink, *longer_side_size(ink.shape, side)))


def fit_box(ink: np.ndarray) -> np.ndarray:
    """Scale so the longer side is 20 px, as MNIST does."""
    return scale_longer_side(ink, DIGIT_BOX)


def to_bytes(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> uint8 0..255, rounded (out-of-range values clipped)."""
    return (values.clip(0, 1) * 255).round().astype(np.uint8)


def eroded_count(mask: np.ndarray) -> int:
    """Pixels left by one 3 x 3 erosion of ``mask`` with blank surroundings: those whose 3 x 3 neighbourhood
    is all ink (an edge pixel's neighbourhood reaches the blank outside, so it never stays)."""
    across = mask[:, :-2] & mask[:, 1:-1] & mask[:, 2:]
    return int(np.count_nonzero(across[:-2] & across[1:-1] & across[2:]))


def half_stroke_width(ink: np.ndarray) -> float:
    """Typical half width of the strokes, in pixels, of a digit on blank surroundings: one 3 x 3 erosion takes
    a pixel off each side of every stroke, so the share of ink it removes is about 1 / (half width)."""
    before = int(np.count_nonzero(ink > 0.5))
    # Eroded as 8-bit values would be: a pixel stays ink when its byte is above 127, which for a float32
    # value is exactly ``value >= 0.5`` (tests/mnist_form/test_preprocess.py checks it).
    return 1.0 / max(1e-6, 1 - eroded_count(ink >= HALF_INK) / max(before, 1))


def window_min(image: np.ndarray, size: int) -> np.ndarray:
    """Minimum over each run of ``size`` rows (the result is ``size - 1`` rows shorter): runs of 2, 4, 8, ...
    rows by doubling, then two overlapping runs of the largest power of two cover each window."""
    span, result = 1, image
    while 2 * span <= size:
        result = np.minimum(result[:-span], result[span:])
        span *= 2
    window: np.ndarray = np.minimum(result[: len(result) - (size - span)], result[size - span :])
    return window


def min_filter(image: np.ndarray, steps: int, margin: int = 0) -> np.ndarray:
    """What ``steps`` successive 3 x 3 minimum filters (edges repeated outwards) make of a uint8 image first
    given a blank ``margin``: the minimum over each pixel's (2 steps + 1)-wide square, by columns then rows."""
    size, height, width = 2 * steps + 1, *image.shape
    if margin >= 1:  # the blank margin's edge is blank: repeating it outwards is padding with zeros
        padded = np.zeros((height + 2 * (margin + steps), width + 2 * (margin + steps)), dtype=image.dtype)
        padded[margin + steps : margin + steps + height, margin + steps : margin + steps + width] = image
    else:
        padded = np.pad(image, steps, mode="edge")
    return window_min(window_min(padded, size).T, size).T


def thin_thick_strokes(ink: np.ndarray) -> np.ndarray:
    """Strokes thicker than handwriting's eroded back to MNIST's range; MNIST-like strokes untouched.

    Printed and marker digits have strokes about twice as thick as MNIST's, and a model that learned
    handwriting reads a thick 0, 6 or 9 as an 8. Measured at STROKE_SIDE px: half widths of MNIST test
    digits have median 3.9, 90th percentile 5.6, 95th 6.1. Strokes above 5.8 are thinned to 4. Above 6.5 at
    first, which left bold sans-serif digits of half width 6.2 thick enough to misread (Pillow's face: a 6
    whose curled top nearly closes on its bowl read as 8, its 9 as 0); from 5.8 those read right, and
    MNIST's test set through `auto` reads 9 718 digits right rather than 9 712 (docs/recipe.md, "Thinner
    strokes from half width 5.8"). `auto` is not quite idempotent on thick pictures: its 28 px result,
    measured again at STROKE_SIDE px, is above the threshold for about one in seven of them (78 of 551 thick
    test pictures from 5.8; 49 of 425 from 6.5), so sending its output back thins those once more.
    """
    # Measured on float32 sums (only compared with 0.5; about half the work); thinned from float64 ones.
    half_width = half_stroke_width(resize(ink, *longer_side_size(ink.shape, STROKE_SIDE), precise=False))
    return ink if half_width <= THICK_HALF_STROKE else thin_strokes(ink, half_width)


def thin_strokes(ink: np.ndarray, half_width: float) -> np.ndarray:
    """Strokes of ``half_width`` (above THICK_HALF_STROKE) eroded to about MAX_HALF_STROKE, at STROKE_SIDE px."""
    scaled = scale_longer_side(ink, STROKE_SIDE)
    steps = min(MAX_THINNING_STEPS, round(half_width - MAX_HALF_STROKE))
    # A blank margin, so that erosion also works on strokes that touch the crop's edge.
    thinned = min_filter(to_bytes(scaled), steps, margin=MAX_THINNING_STEPS + 1).astype(np.float32) / 255
    if np.count_nonzero(thinned > 0.5) < 0.1 * np.count_nonzero(scaled > 0.5):  # a solid blob, not strokes
        return ink
    return crop_to_ink(thinned)


@lru_cache(maxsize=256)
def index_grids(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column numbers of every pixel, as float64 (what int indices times float32 pixels give)."""
    rows, cols = np.indices((height, width), dtype=np.float64)
    rows.flags.writeable = cols.flags.writeable = False
    return rows, cols


def corner_by_mass(digit: np.ndarray) -> tuple[int, int]:
    """Top-left corner that places the digit in 28 x 28 with its centre of mass at the centre, as MNIST does."""
    height, width = digit.shape
    total = float(digit.sum())
    rows, cols = index_grids(height, width)
    centre_row = float((rows * digit).sum()) / total
    centre_col = float((cols * digit).sum()) / total
    # MNIST's centres of mass sit at (14.0, 14.0) in 0-indexed pixel coordinates (measured on the
    # test set: mean 13.99 / 14.00, sd 0.29); a half-pixel offset costs an MLP several points.
    top = round(MNIST_SIDE / 2 - centre_row)
    left = round(MNIST_SIDE / 2 - centre_col)
    return min(max(top, 0), MNIST_SIDE - height), min(max(left, 0), MNIST_SIDE - width)


def centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place the digit in 28 x 28 so its centre of mass sits at the centre, as MNIST does."""
    height, width = digit.shape
    top, left = corner_by_mass(digit)
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
        raise InputError(
            "wrong_image_size",
            f"preprocess=none needs a 28x28 image, got {width}x{height}; use preprocess=auto for other sizes.",
        )
    return gray
