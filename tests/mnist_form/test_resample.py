"""The numpy building blocks of ``auto`` against the Pillow operations they replace."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from mnist_form.preprocess import half_stroke_width, min_filter, to_bytes
from mnist_form.resample import BLAS_SINGLE_THREAD_MADDS, resize, resize_padded, resize_stack, row_blocks
from tests.mnist_form import reference_preprocess as reference


def pillow_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    resized = Image.fromarray(image, mode="F").resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.float32)


def random_sizes(rng: np.random.Generator, count: int) -> list[tuple[int, int, int, int]]:
    """(height, width, new height, new width): up- and downscaling, the sizes ``auto`` uses and others."""
    sizes = []
    for _ in range(count):
        height, width = (int(side) for side in rng.integers(1, 200, 2))
        side = int(rng.choice([20, 80, int(rng.integers(1, 240))]))
        scale = side / max(height, width)
        sizes.append((height, width, max(1, round(height * scale)), max(1, round(width * scale))))
    return sizes


def test_resize_matches_pillow_lanczos() -> None:
    rng = np.random.default_rng(0)
    for height, width, new_height, new_width in random_sizes(rng, 400):
        image = (rng.random((height, width)) * (rng.random((height, width)) < 0.5)).astype(np.float32)
        expected = pillow_resize(image, new_height, new_width)
        assert np.abs(resize(image, new_height, new_width) - expected).max() <= 2e-7
        assert np.abs(resize(image, new_height, new_width, precise=False) - expected).max() <= 1e-5


def test_resizing_a_stack_resizes_each_image() -> None:
    rng = np.random.default_rng(1)
    stack = rng.random((5, 20, 13)).astype(np.float32)
    for precise in (True, False):
        together = resize_stack(stack, 80, 52, precise)
        assert np.array_equal(together, np.stack([resize(image, 80, 52, precise) for image in stack]))


@pytest.mark.parametrize("precise", [True, False])
def test_resizing_zero_padded_images_resizes_each_to_its_own_size(precise: bool) -> None:
    """Every image of the stack at its own size (some unchanged, some with one axis unchanged), as ``resize``
    gives it alone, to float32 rounding; zeros beyond each result's size."""
    rng = np.random.default_rng(2)
    sizes = [(20, 13), (20, 20), (7, 20), (1, 3), (17, 17), (20, 9), (12, 5)]
    new_sizes = [(80, 52), (20, 20), (7, 20), (20, 60), (17, 80), (20, 9), (9, 4)]
    images = np.zeros((len(sizes), 20, 20), np.float32)
    for image, (height, width) in zip(images, sizes, strict=True):
        image[:height, :width] = rng.random((height, width))
    heights, widths = (np.array(side) for side in zip(*sizes, strict=True))
    new_heights, new_widths = (np.array(side) for side in zip(*new_sizes, strict=True))
    resized = resize_padded(images, (heights, widths), (new_heights, new_widths), (80, 80), precise)
    assert resized.shape == (len(sizes), 80, 80) and resized.dtype == np.float32
    for index, ((height, width), (new_height, new_width)) in enumerate(zip(sizes, new_sizes, strict=True)):
        alone = resize(images[index, :height, :width], new_height, new_width, precise)
        assert np.abs(resized[index, :new_height, :new_width] - alone).max() <= 2e-7
        assert not resized[index, new_height:].any() and not resized[index, :, new_width:].any()
    assert np.array_equal(resized[1, :20, :20], images[1])  # an unchanged size is copied


def test_an_unchanged_size_is_a_copy() -> None:
    image = np.arange(12, dtype=np.float32).reshape(3, 4)
    copy = resize(image, 3, 4)
    copy[0, 0] = 99
    assert image[0, 0] == 0 and np.array_equal(copy[1:], image[1:])


def test_row_blocks_cover_every_row_within_the_single_thread_size() -> None:
    for rows, madds_per_row in ((1, 10), (500, 6400), (97, 3000), (10, BLAS_SINGLE_THREAD_MADDS * 2)):
        blocks = row_blocks(rows, madds_per_row)
        assert [index for block in blocks for index in range(rows)[block]] == list(range(rows))
        sizes = [len(range(rows)[block]) for block in blocks]
        assert all(size * madds_per_row <= BLAS_SINGLE_THREAD_MADDS or size == 1 for size in sizes)


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 6, 12])
@pytest.mark.parametrize("margin", [0, 13])
def test_min_filter_equals_repeated_pillow_min_filters(steps: int, margin: int) -> None:
    image = np.random.default_rng(steps).integers(0, 256, (37, 53)).astype(np.uint8)
    expected = Image.fromarray(np.pad(image, margin))
    for _ in range(steps):
        expected = expected.filter(ImageFilter.MinFilter(3))
    assert np.array_equal(min_filter(image, steps, margin), np.asarray(expected))


def test_a_byte_above_127_is_a_value_of_at_least_one_half() -> None:
    """half_stroke_width counts ink as ``value >= 0.5`` where the reference counted bytes above 127."""
    values = [np.float32(0.5)]
    for direction in (0.0, 1.0):
        value = np.float32(0.5)
        for _ in range(2000):
            value = np.nextafter(value, np.float32(direction))
            values.append(value)
    values_array = np.asarray(values + list(np.linspace(-0.5, 1.5, 20001, dtype=np.float32)), dtype=np.float32)
    assert np.array_equal(to_bytes(values_array) > 127, values_array >= 0.5)


def test_stroke_width_matches_the_pillow_erosion() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        strokes = np.asarray(Image.fromarray((rng.random((12, 10)) > 0.5).astype(np.uint8) * 255).resize((80, 67)))
        ink = np.pad(strokes.astype(np.float32) / 255, 2)  # a blank margin, as the pipeline gives it
        assert half_stroke_width(ink) == reference.half_stroke_width(ink)
