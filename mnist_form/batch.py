"""``preprocess_auto`` for many pictures at once: the same steps as whole-array numpy operations.

A request of 256 digits spent most of its time in per-image numpy calls of a few microseconds each. Here
pictures of the same size are stacked and every step runs once for the stack: ink and crop boxes for all,
then, for each group of equal crop sizes, the stroke measurement and the 20 px fit as matrix products over
the group. Pictures this path does not finish (no visible digit, strokes thick enough to thin) are handed
to ``preprocess_auto`` one by one, which gives them its usual result or error. The results equal
``preprocess_auto``'s to float32 rounding (tests/mnist_form/test_batch.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mnist_form.preprocess import (
    DIGIT_BOX,
    HALF_INK,
    INK_THRESHOLD,
    MNIST_SIDE,
    STROKE_SIDE,
    THICK_HALF_STROKE,
    centre_by_mass,
    clip_unit,
    fit_box,
    index_grids,
    longer_side_size,
    preprocess_auto,
    thin_strokes,
)
from mnist_form.resample import MATRIX_MAX_SIDE, resize_stack

# The one-by-one path for a picture, given its position in the batch (so that errors can name it).
Fallback = Callable[[int, np.ndarray], np.ndarray]
MIN_STACK = 2  # a lone picture of its size goes through preprocess_auto: stacking would only add work
# Stacking pays when many pictures share their ink box's size, so that each step runs once for many: the
# case of MNIST-sized uploads (digits in a 20 px box). Larger pictures' boxes rarely share a size, and their
# stacks' arrays cost page faults: a 256-picture stack of 112 x 112 scans took 1.5x as long as one by one.
STACKABLE_PIXELS = 32 * 32


def inks(grays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``as_ink`` of every picture of an (N, H, W) stack, and which pictures are blank (left unstretched)."""
    borders = np.concatenate([grays[:, 0], grays[:, -1], grays[:, :, 0], grays[:, :, -1]], axis=1)
    middle = borders.shape[1] // 2
    halves = np.partition(borders, (middle - 1, middle), axis=1)
    background = ((halves[:, middle - 1] + halves[:, middle]) / 2).astype(np.float64)
    light = background > 0.5
    ink = np.where(light[:, None, None], 1 - grays, grays)
    floor = np.minimum(background, 1 - background)
    peak = ink.max(axis=(1, 2)).astype(np.float64)
    blank = peak - floor < 0.05
    # As preprocess_auto computes it: float32 arithmetic with floor and range rounded to float32.
    span = np.where(blank, 1.0, peak - floor).astype(np.float32)
    return clip_unit((ink - floor.astype(np.float32)[:, None, None]) / span[:, None, None]), blank


def ink_boxes(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """First row, first column, height and width of each picture's ink box (pixels above INK_THRESHOLD)."""
    mask = ink > INK_THRESHOLD
    rows, cols = np.asarray(mask.any(axis=2)), np.asarray(mask.any(axis=1))
    top, left = rows.argmax(axis=1), cols.argmax(axis=1)
    bottom = rows.shape[1] - rows[:, ::-1].argmax(axis=1)
    right = cols.shape[1] - cols[:, ::-1].argmax(axis=1)
    return top, left, bottom - top, right - left


def crops(ink: np.ndarray, top: np.ndarray, left: np.ndarray, height: int, width: int) -> np.ndarray:
    """(n, height, width) boxes cut out of an (n, H, W) stack at per-picture offsets."""
    rows = top[:, None, None] + np.arange(height)[None, :, None]
    cols = left[:, None, None] + np.arange(width)[None, None, :]
    return ink[np.arange(len(ink))[:, None, None], rows, cols]


def counts(masks: np.ndarray) -> np.ndarray:
    """True pixels in each mask of an (n, H, W) stack (summed as bytes: a third of count_nonzero's time)."""
    total: np.ndarray = masks.view(np.uint8).sum(axis=(1, 2), dtype=np.int32)
    return total


def half_stroke_widths(scaled: np.ndarray) -> np.ndarray:
    """``half_stroke_width`` of every image of an (n, H, W) stack."""
    before = counts(scaled > HALF_INK)
    mask = scaled >= HALF_INK
    across = mask[:, :, :-2] & mask[:, :, 1:-1] & mask[:, :, 2:]
    after = counts(across[:, :-2] & across[:, 1:-1] & across[:, 2:])
    widths: np.ndarray = 1.0 / np.maximum(1e-6, 1 - after / np.maximum(before, 1))
    return widths


def centre_stack(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners placing each digit of an (n, h, w) stack centred by mass in 28 x 28."""
    height, width = digits.shape[1:]
    total = digits.sum(axis=(1, 2)).astype(np.float64)
    rows, cols = index_grids(height, width)
    centre_row = (rows * digits).sum(axis=(1, 2)) / total
    centre_col = (cols * digits).sum(axis=(1, 2)) / total
    top = np.clip(np.round(MNIST_SIDE / 2 - centre_row), 0, MNIST_SIDE - height).astype(np.intp)
    left = np.clip(np.round(MNIST_SIDE / 2 - centre_col), 0, MNIST_SIDE - width).astype(np.intp)
    return top, left


def place(digits: np.ndarray, top: np.ndarray, left: np.ndarray) -> np.ndarray:
    """(n, 28, 28) blank canvases with each digit of an (n, h, w) stack pasted at its own corner."""
    count, height, width = digits.shape
    canvas = np.zeros((count, MNIST_SIDE, MNIST_SIDE), dtype=np.float32)
    rows = top[:, None, None] + np.arange(height)[None, :, None]
    cols = left[:, None, None] + np.arange(width)[None, None, :]
    canvas[np.arange(count)[:, None, None], rows, cols] = digits
    return canvas


def finish_group(boxes: np.ndarray) -> np.ndarray:
    """MNIST form of a stack of equal-size ink boxes (the work of preprocess_auto after ``crop_to_ink``)."""
    size = boxes.shape[1:]
    half_widths = half_stroke_widths(resize_stack(boxes, *longer_side_size(size, STROKE_SIDE), precise=False))
    fitted = clip_unit(resize_stack(boxes, *longer_side_size(size, DIGIT_BOX)))
    results = place(fitted, *centre_stack(fitted))
    for index in np.flatnonzero(half_widths > THICK_HALF_STROKE).tolist():  # thick strokes: thinned one by one
        results[index] = centre_by_mass(fit_box(thin_strokes(boxes[index], float(half_widths[index]))))
    return results


def auto_stack(grays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MNIST form of an (N, H, W) stack of pictures, and which rows were done (the others are blank or too
    large for matrix resizing: preprocess_auto's to do or to refuse)."""
    ink, blank = inks(grays)
    top, left, height, width = ink_boxes(ink)
    ready = ~blank & (np.maximum(height, width) <= MATRIX_MAX_SIDE)
    results = np.zeros((len(grays), MNIST_SIDE, MNIST_SIDE), dtype=np.float32)
    for box_height, box_width in set(zip(height[ready].tolist(), width[ready].tolist(), strict=True)):
        members = np.flatnonzero(ready & (height == box_height) & (width == box_width))
        results[members] = finish_group(crops(ink[members], top[members], left[members], box_height, box_width))
    return results, ready


def default_fallback(index: int, gray: np.ndarray) -> np.ndarray:
    return preprocess_auto(gray)


def preprocess_auto_many(grays: Sequence[np.ndarray], fallback: Fallback = default_fallback) -> np.ndarray:
    """(N, 28, 28) MNIST form of N pictures, each as ``preprocess_auto`` gives it. Pictures of equal size are
    done together; the rest go to ``fallback(index, picture)`` in index order, so the first error raised is
    the first picture's that has one."""
    results = np.empty((len(grays), MNIST_SIDE, MNIST_SIDE), dtype=np.float32)
    finished = np.zeros(len(grays), dtype=bool)
    for indices in stacks(grays):
        done, members = auto_stack(np.stack([grays[index] for index in indices])), np.asarray(indices)
        results[members[done[1]]], finished[members[done[1]]] = done[0][done[1]], True
    for index in np.flatnonzero(~finished).tolist():
        results[index] = fallback(index, grays[index])
    return results


def stacks(grays: Sequence[np.ndarray]) -> list[list[int]]:
    """Indices of pictures to stack: two or more of one size, each at most STACKABLE_PIXELS."""
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for index, gray in enumerate(grays):
        if gray.size <= STACKABLE_PIXELS:
            by_shape.setdefault(gray.shape, []).append(index)
    return [indices for indices in by_shape.values() if len(indices) >= MIN_STACK]
