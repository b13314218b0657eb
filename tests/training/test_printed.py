from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from training.config import TrainConfig
from training.data import Split
from training.input_kinds.digit_pictures import FONT_FILES
from training.printed import FACE_SOURCES, TYPEFACES, Style, draw, font_path, printed_digits
from training.train import training_split


def test_same_seed_same_pictures_other_seed_other_pictures() -> None:
    first, again, other = printed_digits(20, seed=3), printed_digits(20, seed=3), printed_digits(20, seed=4)
    assert np.array_equal(first.images, again.images)
    assert not np.array_equal(first.images, other.images)


def test_labels_take_turns_and_pictures_are_in_mnist_form() -> None:
    split = printed_digits(30, seed=0)
    assert split.images.shape == (30, 28, 28) and split.images.dtype == np.uint8
    assert split.labels.tolist() == [index % 10 for index in range(30)]
    for image in split.images:
        ink = image.astype(np.float64)
        rows, cols = np.indices(ink.shape)
        assert image.max() == 255 and image[0].max() == 0 and image[:, 0].max() == 0  # white on black, margin
        centre = ((rows * ink).sum() / ink.sum(), (cols * ink).sum() / ink.sum())
        assert abs(centre[0] - 14) < 1 and abs(centre[1] - 14) < 1  # centred by mass, as MNIST


def test_every_typeface_is_installed_by_the_training_extra_and_none_is_the_printed_test_sets() -> None:
    for name in TYPEFACES:
        assert font_path(name).is_file(), name
    assert len(set(TYPEFACES)) == len(TYPEFACES) == sum(len(names) for names in FACE_SOURCES.values())
    tested = {Path(name).stem.lower() for name in FONT_FILES}
    assert not tested & {Path(name).stem.lower() for name in TYPEFACES}
    assert not any(name.lower().startswith(("dejavu", "aileron")) for name in TYPEFACES)


@pytest.mark.parametrize("dark_on_light", [True, False])
def test_a_drawn_digit_has_ink_in_the_stated_polarity(dark_on_light: bool) -> None:
    style = Style("cmr10.ttf", size=40, stroke=0, degrees=0.0, offset=(0, 0), dark_on_light=dark_on_light)
    picture = draw(7, style)
    border = np.concatenate([picture[0], picture[-1]])
    assert (border > 0.5).all() == dark_on_light  # paper along the edge
    assert ((picture < 0.5).mean() < 0.5) == dark_on_light  # ink is the smaller part


def ink_box(picture: np.ndarray) -> tuple[int, int]:
    """(height, width) of the ink of a dark-on-light picture."""
    rows, cols = np.nonzero(picture < 0.5)
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_a_condensed_or_extended_style_scales_the_digit_across_only() -> None:
    plain = Style("Lato-Bold.ttf", size=72, stroke=0, degrees=0.0, offset=(0, 0), dark_on_light=True)
    height, width = ink_box(draw(0, plain))
    for scale in (0.7, 1.25):
        scaled_height, scaled_width = ink_box(draw(0, replace(plain, width=scale)))
        assert abs(scaled_height - height) <= 1
        assert abs(scaled_width - width * scale) <= 2


@pytest.mark.parametrize("mark", ["dot", "slash", "bar"])
def test_a_marked_zero_has_ink_inside_its_counter_and_other_digits_ignore_the_mark(mark: str) -> None:
    plain = Style("Lato-Regular.ttf", size=72, stroke=0, degrees=0.0, offset=(0, 0), dark_on_light=True)
    zero, marked = draw(0, plain), draw(0, replace(plain, zero_mark=mark))
    centre = (slice(60, 84), slice(66, 78))  # the middle of the 144 px canvas: inside the 0's counter
    assert (zero[centre] > 0.5).all() and (marked[centre] < 0.5).any()
    assert ink_box(marked) == ink_box(zero)  # the mark stays inside the 0
    assert np.array_equal(draw(8, plain), draw(8, replace(plain, zero_mark=mark)))


def test_training_split_adds_printed_digits_after_the_limited_mnist_images() -> None:
    mnist = Split(images=np.zeros((50, 28, 28), np.uint8), labels=np.full(50, 3, np.uint8))
    plain = training_split(mnist, TrainConfig(limit=20, printed_digits=0))
    assert len(plain) == 20
    mixed = training_split(mnist, TrainConfig(limit=20, printed_digits=10))
    assert len(mixed) == 30
    assert mixed.labels[:20].tolist() == [3] * 20 and mixed.labels[20:].tolist() == list(range(10))
    assert mixed.images[20:].max() == 255 and mixed.images[:20].max() == 0
