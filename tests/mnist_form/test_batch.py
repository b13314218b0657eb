"""``preprocess_auto_many`` (pictures stacked) against ``preprocess_auto`` (one by one), and the stroke screen that
spares most digits the stroke measurement.

Tolerance: every output pixel within TOLERANCE (1e-5, as against the reference pipeline) of ``preprocess_auto``'s.
The stack's resizing sums run in another order (batched matrix products of zero-padded crops), which could move
a pixel by a few float32 roundings; on every picture here the two are equal. The decisions are
``preprocess_auto``'s: the same ink box; the same centring, with its sums in its order (so that a centre of mass
exactly between two pixels goes the same way: the mirror-symmetric digits); where strokes may be thick, the same
measurement at STROKE_SIDE px. Only digits whose 20 px fit screens under STROKE_SCREEN skip that measurement, as
not thick: ``test_no_thick_digit_screens_as_thin`` checks that no thick picture of any kind here does, with a
margin (and the slow test in test_auto_on_mnist.py, on the 10 000 MNIST test digits).
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mnist_form.batch import STROKE_SCREEN, min_filter_stack, preprocess_auto_many, stroke_screen
from mnist_form.preprocess import (
    STROKE_SIDE,
    THICK_HALF_STROKE,
    as_ink,
    crop_to_ink,
    fit_box,
    half_stroke_width,
    longer_side_size,
    min_filter,
    preprocess_auto,
)
from mnist_form.resample import resize
from tests.mnist_form.pictures import gray, mnist_samples, printed_pictures, scan, thickened
from tests.mnist_form.test_preprocess_reference import TOLERANCE

SCREEN_MARGIN = 1.1  # every thick picture screens at least this many times STROKE_SCREEN
MAX_SCREENED_SHARE = 0.35  # at most this share of MNIST digits is measured at STROKE_SIDE px


def in_corner(digit: np.ndarray, bottom_right: bool) -> np.ndarray:
    """The digit moved so that its ink touches two edges of the 28 x 28 picture."""
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    ink = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    moved = np.zeros_like(digit)
    if bottom_right:
        moved[28 - ink.shape[0] :, 28 - ink.shape[1] :] = ink
    else:
        moved[: ink.shape[0], : ink.shape[1]] = ink
    return moved


def shrunk(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A luminance picture resized to (width, height), through 8-bit pixels as an upload would be."""
    image = Image.fromarray((picture * 255).round().astype(np.uint8)).resize(size, Image.Resampling.LANCZOS)
    return gray(np.asarray(image))


@pytest.fixture(scope="module")
def small_kinds() -> dict[str, list[np.ndarray]]:
    """Pictures the service stacks (at most 32 x 32): many kinds of digit, 28 x 28 and other sizes."""
    digits, _ = mnist_samples()
    printed = printed_pictures()
    rng = np.random.default_rng(0)
    return {
        "MNIST test digits": [gray(digit) for digit in digits],
        "thick-pen MNIST digits": [gray(thickened(digit)) for digit in digits[:100]],
        "very thick-pen MNIST digits": [gray(thickened(digit, 5)) for digit in digits[:100]],
        "black on white": [1 - gray(digit) for digit in digits[:50]],
        "faint, grey paper": [0.3 + 0.4 * gray(digit) for digit in digits[:50]],
        "touching the edges": [
            gray(in_corner(digit, bottom_right=index % 2 == 0)) for index, digit in enumerate(digits)
        ],
        "32 x 32 scans": [scan(digit, 32) for digit in digits[:50]],
        # Centres of mass exactly between two pixels: placed as preprocess_auto's float32 rounding places them.
        "mirror-symmetric digits": [gray(np.maximum(digit, digit[:, ::-1])) for digit in digits],
        "one-pixel-wide lines (16 x 1)": [rng.random((16, 1)).astype(np.float32) for _ in range(50)],
        "printed digits at 28 x 28": [shrunk(picture, (28, 28)) for picture in printed],
        "printed digits at 20 x 30": [shrunk(picture, (20, 30)) for picture in printed[:50]],
    }


def test_stacked_pictures_come_out_as_each_comes_alone(small_kinds: dict[str, list[np.ndarray]]) -> None:
    for kind, pictures in small_kinds.items():
        together = preprocess_auto_many(pictures)
        alone = np.stack([preprocess_auto(picture) for picture in pictures])
        assert float(np.abs(together - alone).max()) <= TOLERANCE, kind


def screened_and_measured(picture: np.ndarray) -> tuple[float, float]:
    """The picture's stroke screen (20 px fit) and its half stroke width at STROKE_SIDE px, as auto measures it."""
    crop = crop_to_ink(as_ink(picture))
    half_width = half_stroke_width(resize(crop, *longer_side_size(crop.shape, STROKE_SIDE), precise=False))
    fitted = fit_box(crop)
    return float(stroke_screen(fitted[None])[0]), half_width


def test_no_thick_digit_screens_as_thin(small_kinds: dict[str, list[np.ndarray]]) -> None:
    """Every picture with strokes thick enough to thin screens well above STROKE_SCREEN, whatever its kind
    and size (larger pictures too: the screen would hold for them)."""
    digits, _ = mnist_samples()
    kinds = {**small_kinds, "112 x 112 scans": [scan(digit) for digit in digits[:50]], "printed": printed_pictures()}
    thick = 0
    for kind, pictures in kinds.items():
        for index, picture in enumerate(pictures):
            screen, half_width = screened_and_measured(picture)
            if half_width > THICK_HALF_STROKE:
                thick += 1
                assert screen >= SCREEN_MARGIN * STROKE_SCREEN, (kind, index, screen, half_width)
    assert thick > 200, "too few thick pictures for this test to mean anything"


def test_most_mnist_digits_skip_the_stroke_measurement() -> None:
    digits, _ = mnist_samples()
    screens = np.array([screened_and_measured(gray(digit))[0] for digit in digits])
    assert 0 < (screens >= STROKE_SCREEN).mean() <= MAX_SCREENED_SHARE


@pytest.mark.parametrize("steps", [0, 1, 2, 5, 12])
def test_a_stack_is_min_filtered_as_each_image_on_blank_surroundings(steps: int) -> None:
    images = np.random.default_rng(steps).integers(0, 256, (4, 23, 17)).astype(np.uint8)
    filtered = min_filter_stack(images, steps)
    for image, result in zip(images, filtered, strict=True):
        assert np.array_equal(result, min_filter(image, steps, margin=1)[1:-1, 1:-1])
