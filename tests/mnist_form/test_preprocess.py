"""MNIST-form preprocessing on arrays: stroke thinning and the two modes' refusals."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_form.errors import InputError
from mnist_form.preprocess import (
    MAX_HALF_STROKE,
    STROKE_SIDE,
    half_stroke_width,
    preprocess_auto,
    preprocess_none,
    scale_longer_side,
    thin_thick_strokes,
)


def test_thick_strokes_are_thinned_and_handwriting_like_strokes_are_left_alone() -> None:
    thick = np.zeros((100, 100), np.float32)
    thick[:, 30:70] = 1.0  # a bar 40 % as wide as tall: far thicker than any MNIST stroke
    thin = np.zeros((100, 100), np.float32)
    thin[:, 45:55] = 1.0  # 10 % as wide as tall, like a handwritten 1
    assert half_stroke_width(scale_longer_side(thick, STROKE_SIDE)) > 2 * MAX_HALF_STROKE
    thinned = thin_thick_strokes(thick)
    width = (thinned > 0.5).sum(axis=1).max() / thinned.shape[0]
    assert 0.15 < width < 0.3, f"the bar is {width:.0%} as wide as tall after thinning (40 % before)"
    assert thin_thick_strokes(thin) is thin, "an MNIST-like stroke is returned untouched"


def test_flat_pictures_have_no_digit() -> None:
    with pytest.raises(InputError) as error:
        preprocess_auto(np.full((40, 40), 0.7, np.float32))
    assert error.value.code == "blank_image"


def test_none_needs_28_by_28() -> None:
    with pytest.raises(InputError) as error:
        preprocess_none(np.zeros((28, 30), np.float32))
    assert error.value.code == "wrong_image_size" and "30x28" in error.value.message


def test_auto_output_is_mnist_form() -> None:
    """A dark digit on a light 60 x 90 picture -> white on black, 20 px box, 28 x 28."""
    gray = np.ones((90, 60), np.float32)
    gray[10:80, 25:35] = 0.0
    pixels = preprocess_auto(gray)
    assert pixels.shape == (28, 28) and pixels.max() == pytest.approx(1.0, abs=0.05)
    rows = np.flatnonzero(pixels.max(axis=1) > 0.1)
    assert rows[-1] - rows[0] + 1 in (19, 20, 21)
