"""The fast ``auto`` pipeline against the one it replaced (tests/mnist_form/reference_preprocess.py).

Tolerance: every output pixel within TOLERANCE of the reference's. Both pipelines compute in float32 and
differ only in how sums are ordered and rounded (matrix products against Pillow's loops; the stroke
measurement in float32), which moves pixels by a few float32 roundings: 6e-8 at most on every picture
here. TOLERANCE is far below one 8-bit level (1 / 255 = 0.004), the precision the model's inputs arrive
with. What the tolerance cannot cover, a decision flipping (a centre of mass within ~1e-6 px of a half
pixel, a stroke width within ~1e-6 of the thinning threshold), would move a digit by a pixel or skip a
thinning: no picture here, nor any of the 10 000 MNIST test digits (the slow test), does that.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from mnist_form.batch import preprocess_auto_many
from mnist_form.errors import InputError
from mnist_form.preprocess import preprocess_auto
from tests.mnist_form import reference_preprocess as reference
from tests.mnist_form.pictures import all_kinds, gray, mnist_samples, scan, thickened

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def kinds() -> dict[str, list[np.ndarray]]:
    return all_kinds()


def worst_difference(pictures: list[np.ndarray], pipeline: Callable[[np.ndarray], np.ndarray]) -> float:
    return max(float(np.abs(pipeline(picture) - reference.preprocess_auto(picture)).max()) for picture in pictures)


def test_every_kind_of_picture_matches_the_reference(kinds: dict[str, list[np.ndarray]]) -> None:
    differences = {kind: worst_difference(pictures, preprocess_auto) for kind, pictures in kinds.items()}
    assert all(difference <= TOLERANCE for difference in differences.values()), differences


def test_whole_requests_match_the_reference(kinds: dict[str, list[np.ndarray]]) -> None:
    """All kinds mixed in one call (stacked and one-by-one pictures interleaved), as a request brings them."""
    pictures = [picture for group in zip(*kinds.values(), strict=False) for picture in group]
    pictures += kinds["MNIST test digits (28 x 28)"] + kinds["thick-pen MNIST digits (28 x 28)"]
    together = preprocess_auto_many(pictures)
    expected = np.stack([reference.preprocess_auto(picture) for picture in pictures])
    assert together.shape == expected.shape
    assert float(np.abs(together - expected).max()) <= TOLERANCE


def test_thick_pen_digits_are_thinned_as_the_reference_thins_them() -> None:
    """The thinning path is exercised: the reference changes these digits' strokes, and so does ``auto``."""
    digits, _ = mnist_samples()
    pictures = [gray(thickened(digit, 5)) for digit in digits[:40]]
    thinned = [
        picture
        for picture in pictures
        if reference.thin_thick_strokes(reference.crop_to_ink(reference.as_ink(picture)))
        is not reference.crop_to_ink(reference.as_ink(picture))
    ]
    assert len(thinned) > 20, "too few pictures take the thinning path for this test to mean anything"
    assert worst_difference(thinned, preprocess_auto) <= TOLERANCE
    assert float(np.abs(preprocess_auto_many(thinned) - np.stack([preprocess_auto(p) for p in thinned])).max()) == 0


def test_blank_pictures_are_refused_by_both() -> None:
    for picture in (np.full((28, 28), 0.3, np.float32), np.ones((90, 60), np.float32)):
        for pipeline in (reference.preprocess_auto, preprocess_auto):
            with pytest.raises(InputError) as error:
                pipeline(picture)
            assert error.value.code == "blank_image"


def test_a_request_hands_its_leftover_pictures_to_the_fallback_in_order() -> None:
    """Blank pictures (and pictures too large to stack) go to the fallback one by one, lowest index first, so
    the error a request reports is its first bad picture's."""
    digits, _ = mnist_samples()
    blank = np.zeros((28, 28), np.float32)
    pictures = [gray(digits[0]), blank, gray(digits[1]), scan(digits[2]), blank, gray(digits[3])]
    seen: list[int] = []

    def fallback(index: int, picture: np.ndarray) -> np.ndarray:
        seen.append(index)
        return np.full((28, 28), -1.0, np.float32) if picture is blank else preprocess_auto(picture)

    results = preprocess_auto_many(pictures, fallback)
    assert seen == [1, 3, 4]
    for index in (0, 2, 3, 5):
        assert float(np.abs(results[index] - reference.preprocess_auto(pictures[index])).max()) <= TOLERANCE
    with pytest.raises(InputError) as error:
        preprocess_auto_many(pictures)
    assert error.value.code == "blank_image"
