"""``preprocess_auto`` for many pictures at once: the same steps as whole-array numpy operations.

A request of 256 digits spent most of its time in per-image numpy calls of a few microseconds each. Here
pictures of the same size are stacked and every step runs once for the whole stack: ink and crop boxes; the
crops, zero-padded to the largest; the 20 px fit as batched matrix products with each picture's own
resampling matrices (zeros add nothing to the Lanczos sums; a box already 20 px long is copied, as
``resize`` copies it); centring by mass. Pictures this path does not finish (no visible digit, too large
for matrices) are handed to ``preprocess_auto`` one by one, which gives them its usual result or error.

Whether strokes are thick enough to thin is ``preprocess_auto``'s question too, asked at STROKE_SIDE px,
which was most of a stack's work. The 20 px fit already answers it for most digits (``stroke_screen``):
only digits whose fit shows strokes anywhere near thick are measured at STROKE_SIDE px, as
``preprocess_auto`` measures them, and the thick ones thinned together, step by step as ``thin_strokes``
thins one. The results equal ``preprocess_auto``'s to float32 rounding (tests/mnist_form/test_batch.py; on
every picture the tests and benchmarks use, bit for bit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mnist_form.preprocess import (
    DIGIT_BOX,
    HALF_INK,
    INK_THRESHOLD,
    MAX_HALF_STROKE,
    MAX_THINNING_STEPS,
    MNIST_SIDE,
    STROKE_SIDE,
    THICK_HALF_STROKE,
    clip_unit,
    corner_by_mass,
    preprocess_auto,
    to_bytes,
    window_min,
)
from mnist_form.resample import MATRIX_MAX_SIDE, resize_padded

# The one-by-one path for a picture, given its position in the batch (so that errors can name it).
Fallback = Callable[[int, np.ndarray], np.ndarray]
MIN_STACK = 2  # a lone picture of its size goes through preprocess_auto: stacking would only add work
# Stacking pays when many pictures share their size: the case of MNIST-sized uploads. Larger pictures' stacks
# cost page faults: a 256-picture stack of 112 x 112 scans took 1.5x as long as one by one.
STACKABLE_PIXELS = 32 * 32
# Ink area over half the ink's perimeter in the 20 px fit (``stroke_screen``) below which strokes are not
# measured at STROKE_SIDE px: they are not thick. Only stacks of small pictures (STACKABLE_PIXELS) are screened;
# larger ones, photographs and scans included, are always measured. Half width at STROKE_SIDE px over this screen
# was at most 2.61 on the 70 000 MNIST digits and 35 000 thick-pen, printed (training's and the test set's), pad,
# scanned and twice-preprocessed digits, all 28 x 28 (measured 2026-12-02), so a screen under 2.2 meant a half
# width under 5.75, below THICK_HALF_STROKE; every thick one among them screened 2.53 or more (the tests keep a
# 10 % margin, SCREEN_MARGIN). 33 % of the 70 000 MNIST digits screen 2.2 or more and are measured (21 % screen
# 2.4 or more, the screen while strokes were thinned from 6.5).
STROKE_SCREEN = 2.2
# Pixels from half a pixel within which a stack's centre of mass is taken again as ``corner_by_mass`` takes it:
# far above the rounding of the stack's sums (at most 3e-6 px from corner_by_mass's centre on 33 000 MNIST
# digits and scans), and few real digits come this close (0.2 % per axis), but symmetric ones, exactly half.
HALF_PIXEL_BAND = 1e-3
# Digits measured (and thinned) at STROKE_SIDE px together: larger stacks' 80 x 80 temporaries cost more in
# page faults than they save in calls (measured 2026-12-01: 8 to 24 about equal, 64 and all at once slower).
MEASURED_AT_ONCE = 16


def inks(grays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``as_ink`` of every picture of an (N, H, W) stack, computed in place (``grays`` becomes the ink), and
    which pictures are blank (left as they were). Pictures already in MNIST form (dark border, full range)
    are not touched, as ``as_ink`` leaves them."""
    background, floor = backgrounds(grays)
    light = background > 0.5
    peak = grays.max(axis=(1, 2))
    if light.any():
        peak[light] = 1 - grays[light].min(axis=(1, 2))  # float32, as ``(1 - gray).max()`` rounds it
    blank = peak - floor < 0.05
    stretch = np.flatnonzero(~blank & (light | (floor != 0) | (peak != 1)))
    if stretch.size:
        ink = grays[stretch]
        ink[light[stretch]] = 1 - ink[light[stretch]]
        # As preprocess_auto computes it: float32 arithmetic with floor and range rounded to float32.
        low, span = floor[stretch].astype(np.float32), (peak[stretch] - floor[stretch]).astype(np.float32)
        grays[stretch] = clip_unit((ink - low[:, None, None]) / span[:, None, None])
    return grays, blank


def backgrounds(grays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``border_median`` of every picture of an (N, H, W) stack (float64), and its distance to black or
    white, the nearer."""
    borders = np.concatenate([grays[:, 0], grays[:, -1], grays[:, :, 0], grays[:, :, -1]], axis=1)
    background = borders[:, 0].astype(np.float64)  # a border of one value has it as its median
    mixed = np.flatnonzero(borders.min(axis=1) != borders.max(axis=1))
    if mixed.size:
        middle = borders.shape[1] // 2
        halves = np.partition(borders[mixed], (middle - 1, middle), axis=1)
        background[mixed] = (halves[:, middle - 1] + halves[:, middle]) / 2  # float32, as border_median
    return background, np.minimum(background, 1 - background)


def ink_boxes(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """First row, first column, height and width of each picture's ink box (pixels above INK_THRESHOLD)."""
    mask = ink > INK_THRESHOLD
    rows, cols = np.asarray(mask.any(axis=2)), np.asarray(mask.any(axis=1))
    top, left = rows.argmax(axis=1), cols.argmax(axis=1)
    bottom = rows.shape[1] - rows[:, ::-1].argmax(axis=1)
    right = cols.shape[1] - cols[:, ::-1].argmax(axis=1)
    return top, left, bottom - top, right - left


def padded_crops(
    ink: np.ndarray, pictures: np.ndarray, top: np.ndarray, left: np.ndarray, height: np.ndarray, width: np.ndarray
) -> np.ndarray:
    """(n, max height, max width): the box of each of the stack's ``pictures``, zeros beyond its size. One slice
    a picture: indexing all at once needed index arrays several times the boxes' size, and fresh memory costs
    page faults."""
    boxes = np.zeros((len(pictures), int(height.max()), int(width.max())), dtype=np.float32)
    for box, picture, row, col, rows, cols in zip(boxes, *as_lists(pictures, top, left, height, width), strict=True):
        box[:rows, :cols] = ink[picture, row : row + rows, col : col + cols]
    return boxes


def as_lists(*arrays: np.ndarray) -> list[list[int]]:
    return [array.tolist() for array in arrays]


def longer_side_sizes(height: np.ndarray, width: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """``longer_side_size`` of each (height, width) pair (``np.round`` rounds halves to even, as ``round``)."""
    scale = side / np.maximum(height, width)
    new_height, new_width = (np.maximum(1, np.round(length * scale)).astype(np.intp) for length in (height, width))
    return new_height, new_width


def stroke_screen(fitted: np.ndarray) -> np.ndarray:
    """Ink area over half the ink's perimeter (its total variation, the blank surroundings included) of each
    zero-padded fit in an (n, h, w) stack: about the strokes' half width, in pixels of the fit."""
    steps = sum(absolute_sums(np.diff(fitted, axis=axis)) for axis in (1, 2))
    edges = fitted[:, [0, -1]].sum(axis=(1, 2)) + fitted[:, :, [0, -1]].sum(axis=(1, 2))  # steps from the blank
    screen: np.ndarray = 2 * fitted.sum(axis=(1, 2)) / np.maximum(steps + edges, 1e-6)
    return screen


def absolute_sums(values: np.ndarray) -> np.ndarray:
    """Sum of the absolute values of each image of an (n, h, w) stack (``values`` overwritten)."""
    total: np.ndarray = np.abs(values, out=values).sum(axis=(1, 2))
    return total


def half_stroke_widths(scaled: np.ndarray) -> np.ndarray:
    """``half_stroke_width`` of every image of an (n, H, W) stack (zero padding changes nothing)."""
    before = counts(scaled > HALF_INK)
    mask = scaled >= HALF_INK
    across = mask[:, :, :-2] & mask[:, :, 1:-1] & mask[:, :, 2:]
    after = counts(across[:, :-2] & across[:, 1:-1] & across[:, 2:])
    widths: np.ndarray = 1.0 / np.maximum(1e-6, 1 - after / np.maximum(before, 1))
    return widths


def counts(masks: np.ndarray) -> np.ndarray:
    """True pixels in each mask of an (n, H, W) stack (summed as bytes: a third of count_nonzero's time)."""
    total: np.ndarray = masks.view(np.uint8).sum(axis=(1, 2), dtype=np.int32)
    return total


def centre_stack(digits: np.ndarray, height: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners placing each zero-padded digit of an (n, h, w) stack, of its own height and width,
    centred by mass in 28 x 28, as ``corner_by_mass`` places it. The stack's sums run in another order than
    its, which moves a centre by float rounding only; a digit whose centre lies within HALF_PIXEL_BAND of half
    a pixel (a symmetric digit: exactly half) is placed by ``corner_by_mass`` itself, so that it rounds the
    same way."""
    total = digits.sum(axis=(1, 2)).astype(np.float64)
    centre_row = digits.sum(axis=2, dtype=np.float64) @ np.arange(digits.shape[1], dtype=np.float64) / total
    centre_col = digits.sum(axis=1, dtype=np.float64) @ np.arange(digits.shape[2], dtype=np.float64) / total
    offsets = MNIST_SIDE / 2 - np.stack([centre_row, centre_col])
    top = np.clip(np.round(offsets[0]), 0, MNIST_SIDE - height).astype(np.intp)
    left = np.clip(np.round(offsets[1]), 0, MNIST_SIDE - width).astype(np.intp)
    near_half = (np.abs(offsets - np.floor(offsets) - 0.5) < HALF_PIXEL_BAND).any(axis=0)
    for picture, rows, cols in zip(
        *as_lists(np.flatnonzero(near_half), height[near_half], width[near_half]), strict=True
    ):
        top[picture], left[picture] = corner_by_mass(np.ascontiguousarray(digits[picture, :rows, :cols]))
    return top, left


def place(digits: np.ndarray, top: np.ndarray, left: np.ndarray, height: np.ndarray, width: np.ndarray) -> np.ndarray:
    """(n, 28, 28) blank canvases with each digit of an (n, h, w) stack, of its own height and width, pasted at
    its own corner (one slice a picture, as in ``padded_crops``)."""
    canvases = np.zeros((len(digits), MNIST_SIDE, MNIST_SIDE), dtype=np.float32)
    for canvas, digit, row, col, rows, cols in zip(canvases, digits, *as_lists(top, left, height, width), strict=True):
        canvas[row : row + rows, col : col + cols] = digit[:rows, :cols]
    return canvases


def stroke_half_widths(boxes: np.ndarray, height: np.ndarray, width: np.ndarray, pictures: np.ndarray) -> np.ndarray:
    """``half_stroke_width`` at STROKE_SIDE px, as ``thin_thick_strokes`` measures it, of the zero-padded boxes
    of ``pictures``, MEASURED_AT_ONCE at a time."""
    half_widths = np.empty(len(pictures))
    for start in range(0, len(pictures), MEASURED_AT_ONCE):
        part = pictures[start : start + MEASURED_AT_ONCE]
        sizes = (height[part], width[part])
        scaled_sizes = longer_side_sizes(*sizes, STROKE_SIDE)
        scaled = resize_padded(boxes[part], sizes, scaled_sizes, (STROKE_SIDE, STROKE_SIDE), precise=False)
        half_widths[start : start + MEASURED_AT_ONCE] = half_stroke_widths(scaled)
    return half_widths


def min_filter_stack(images: np.ndarray, steps: int) -> np.ndarray:
    """``min_filter`` of each uint8 image of an (n, H, W) stack, blank around it: the minimum over each pixel's
    (2 steps + 1)-wide square, by rows then columns."""
    count, height, width = images.shape
    padded = np.zeros((count, height + 2 * steps, width + 2 * steps), dtype=images.dtype)
    padded[:, steps : steps + height, steps : steps + width] = images
    rows = window_min(padded.transpose(1, 0, 2), 2 * steps + 1)  # (H, n, W + 2 steps)
    filtered: np.ndarray = window_min(rows.transpose(2, 1, 0), 2 * steps + 1).transpose(1, 2, 0)
    return filtered


def thin_stack(
    boxes: np.ndarray, height: np.ndarray, width: np.ndarray, half_widths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``centre_by_mass(fit_box(thin_strokes(box, half_width)))`` for each zero-padded box, step by step as
    ``thin_strokes`` takes them: (k, 28, 28) for the boxes that thinning leaves strokes in, and their indices
    (the others are solid blobs, which ``thin_strokes`` leaves as they were)."""
    sizes = (height, width)
    scaled = clip_unit(resize_padded(boxes, sizes, longer_side_sizes(*sizes, STROKE_SIDE), (STROKE_SIDE,) * 2))
    steps = np.minimum(MAX_THINNING_STEPS, np.round(half_widths - MAX_HALF_STROKE)).astype(np.intp)
    thinned = np.empty(scaled.shape, dtype=np.float32)
    for step in np.unique(steps).tolist():
        group = np.flatnonzero(steps == step)
        thinned[group] = min_filter_stack(to_bytes(scaled[group]), step)
    thinned /= 255
    kept = np.flatnonzero(counts(thinned > HALF_INK) >= 0.1 * counts(scaled > HALF_INK))
    top, left, thin_height, thin_width = (values[kept] for values in ink_boxes(thinned))
    return fit_and_place(padded_crops(thinned, kept, top, left, thin_height, thin_width), thin_height, thin_width)[
        0
    ], kept


def fit_and_place(boxes: np.ndarray, height: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``centre_by_mass(fit_box(box))`` of each zero-padded box of the given sizes, and the (zero-padded) fits."""
    fit_height, fit_width = longer_side_sizes(height, width, DIGIT_BOX)
    fitted = clip_unit(resize_padded(boxes, (height, width), (fit_height, fit_width), (DIGIT_BOX, DIGIT_BOX)))
    return place(fitted, *centre_stack(fitted, fit_height, fit_width), fit_height, fit_width), fitted


def finish(boxes: np.ndarray, height: np.ndarray, width: np.ndarray) -> np.ndarray:
    """MNIST form of a stack of zero-padded ink boxes of the given sizes (preprocess_auto's work after
    ``crop_to_ink``). Strokes are measured, and thick ones thinned, MEASURED_AT_ONCE digits at a time."""
    results, fitted = fit_and_place(boxes, height, width)
    measured = np.flatnonzero(stroke_screen(fitted) >= STROKE_SCREEN)
    half_widths = stroke_half_widths(boxes, height, width, measured)
    thick = half_widths > THICK_HALF_STROKE
    for start in range(0, np.count_nonzero(thick), MEASURED_AT_ONCE):
        part, part_half_widths = (values[thick][start : start + MEASURED_AT_ONCE] for values in (measured, half_widths))
        thinned, kept = thin_stack(boxes[part], height[part], width[part], part_half_widths)
        results[part[kept]] = thinned
    return results


def auto_stack(grays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MNIST form of the pictures of an (N, H, W) stack (overwritten) that this path does, and their indices
    (the others are blank or too large for matrix resizing: preprocess_auto's to do or to refuse)."""
    ink, blank = inks(grays)
    top, left, height, width = ink_boxes(ink)
    ready = np.flatnonzero(~blank & (np.maximum(height, width) <= MATRIX_MAX_SIDE))
    if not ready.size:
        return np.zeros((0, MNIST_SIDE, MNIST_SIDE), dtype=np.float32), ready
    boxes = padded_crops(ink, ready, top[ready], left[ready], height[ready], width[ready])
    return finish(boxes, height[ready], width[ready]), ready


def default_fallback(index: int, gray: np.ndarray) -> np.ndarray:
    return preprocess_auto(gray)


def preprocess_auto_many(grays: Sequence[np.ndarray], fallback: Fallback = default_fallback) -> np.ndarray:
    """(N, 28, 28) MNIST form of N pictures, each as ``preprocess_auto`` gives it. Pictures of equal size are
    done together; the rest go to ``fallback(index, picture)`` in index order, so the first error raised is
    the first picture's that has one."""
    finished, parts = np.zeros(len(grays), dtype=bool), []
    for indices in stacks(grays):
        done, ready = auto_stack(np.stack([grays[index] for index in indices]))
        if len(ready) == len(grays):  # one stack, every picture done: the usual request of digits
            return done
        parts.append((np.asarray(indices)[ready], done))
        finished[parts[-1][0]] = True
    results = np.empty((len(grays), MNIST_SIDE, MNIST_SIDE), dtype=np.float32)
    for members, done in parts:
        results[members] = done
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
