"""Lanczos resizing of small float images as two matrix products, numerically matching Pillow's.

Pillow's ``resize(..., LANCZOS)`` on a mode "F" image is separable: every output pixel of a pass is a
weighted sum of a run of input pixels, with weights from a Lanczos-3 window widened by the scale factor when
shrinking (antialiasing) and normalised to sum to 1. Written as matrices, ``W_rows @ image @ W_cols.T``
gives the same values (to float32 rounding, which these pipelines never depend on) with no image objects
created: for a 28 x 28 digit, about 3 µs against about 25 µs for ``fromarray`` + ``resize`` + ``asarray``.
The matrices depend only on the two sizes and are cached. Large images go through Pillow: a dense matrix
product does work proportional to the whole matrix, Pillow only to each pixel's window.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

LANCZOS_SUPPORT = 3.0
MATRIX_MAX_SIDE = 160  # inputs up to this side are resized by matrices; larger ones by Pillow (cheaper there)
SIZE_KEY = 1 << 20  # (in size, out size) pairs as one number: in size * SIZE_KEY + out size
BLAS_SINGLE_THREAD_MADDS = 65536 * 4  # OpenBLAS's products up to this many multiply-adds stay on one thread


def lanczos(offsets: np.ndarray) -> np.ndarray:
    """The Lanczos-3 window: sinc(x) sinc(x / 3) on [-3, 3), zero outside."""
    window = (offsets >= -LANCZOS_SUPPORT) & (offsets < LANCZOS_SUPPORT)
    return np.where(window, np.sinc(offsets) * np.sinc(offsets / LANCZOS_SUPPORT), 0.0)


@lru_cache(maxsize=1024)
def lanczos_matrix(in_size: int, out_size: int) -> np.ndarray:
    """(out_size, in_size) float64 weights resizing one axis as Pillow does (pixel centres at i + 0.5)."""
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    support = LANCZOS_SUPPORT * filter_scale
    centres = (np.arange(out_size) + 0.5) * scale
    # Pillow truncates (centre -/+ support + 0.5) to an int and clamps the run of inputs to the image.
    first = np.maximum((centres - support + 0.5).astype(np.int64), 0)
    stop = np.minimum((centres + support + 0.5).astype(np.int64), in_size)
    inputs = np.arange(in_size)
    in_run = (inputs >= first[:, None]) & (inputs < stop[:, None])
    weights = np.where(in_run, lanczos((inputs - centres[:, None] + 0.5) / filter_scale), 0.0)
    totals = weights.sum(axis=1, keepdims=True)
    np.divide(weights, totals, out=weights, where=totals != 0)
    weights.flags.writeable = False  # shared by every caller through the cache
    return weights


@lru_cache(maxsize=1024)
def lanczos_matrix_float32(in_size: int, out_size: int) -> np.ndarray:
    """``lanczos_matrix`` rounded to float32, for products whose results only meet a threshold."""
    weights = lanczos_matrix(in_size, out_size).astype(np.float32)
    weights.flags.writeable = False
    return weights


def row_blocks(rows: int, madds_per_row: int) -> list[slice]:
    """Runs of rows whose product stays within BLAS_SINGLE_THREAD_MADDS: OpenBLAS computes a larger product
    with its thread pool, whose threads then spin on the other cores. On a busy or CPU-limited host, measured
    here, that doubled the CPU time of preprocessing a 112 x 112 picture."""
    block = max(1, BLAS_SINGLE_THREAD_MADDS // max(1, madds_per_row))
    return [slice(start, start + block) for start in range(0, rows, block)]


def times_matrix(images: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``images @ matrix`` for images (..., m, k) and a (k, n) matrix, as float32."""
    blocks = row_blocks(images.shape[-2], matrix.size)
    product: np.ndarray = (
        images @ matrix
        if len(blocks) == 1
        else np.concatenate([images[..., rows, :] @ matrix for rows in blocks], axis=-2)
    )
    return product.astype(np.float32, copy=False)


def matrix_times(matrix: np.ndarray, images: np.ndarray) -> np.ndarray:
    """``matrix @ images`` for an (m, k) matrix and images (..., k, n), as float32."""
    blocks = row_blocks(matrix.shape[0], matrix.shape[1] * images.shape[-1])
    product: np.ndarray = (
        matrix @ images if len(blocks) == 1 else np.concatenate([matrix[rows] @ images for rows in blocks], axis=-2)
    )
    return product.astype(np.float32, copy=False)


def resize_stack(images: np.ndarray, height: int, width: int, precise: bool = True) -> np.ndarray:
    """(N, H, W) float32 -> (N, height, width) float32: ``resize`` of every image, columns then rows.

    ``precise``: sums in float64, as Pillow computes them. Otherwise in float32 (weights rounded too): about
    half the work, the results within a few float32 roundings (1e-6) of Pillow's, for uses that only compare
    them with a threshold."""
    weights = lanczos_matrix if precise else lanczos_matrix_float32
    if (height, width) == images.shape[-2:]:
        return images.astype(np.float32)  # a copy, as Pillow gives
    result = np.asarray(images, dtype=np.float32)
    if width != images.shape[-1]:
        result = times_matrix(result, weights(images.shape[-1], width).T)
    if height != images.shape[-2]:
        result = matrix_times(weights(images.shape[-2], height), result)
    return result


def resize(image: np.ndarray, height: int, width: int, precise: bool = True) -> np.ndarray:
    """(H, W) float32 -> (height, width) float32, Lanczos, as ``Image.resize`` on a mode "F" image
    (``precise``: as in ``resize_stack``)."""
    if max(image.shape) > MATRIX_MAX_SIDE:
        resized = Image.fromarray(image.astype(np.float32), mode="F").resize((width, height), Image.Resampling.LANCZOS)
        return np.array(resized, dtype=np.float32)  # a writable copy
    # Columns first, then rows, each pass rounded to float32 as Pillow stores it; an axis whose size does not
    # change is left alone, as Pillow leaves it.
    return resize_stack(image, height, width, precise)


@lru_cache(maxsize=4096)
def padded_lanczos(in_size: int, out_size: int, in_pad: int, out_pad: int, precise: bool) -> np.ndarray:
    """``lanczos_matrix(in_size, out_size)`` (the identity when the sizes are equal: Pillow leaves such an axis
    alone) in the top-left corner of an (out_pad, in_pad) zero matrix: it resizes an image zero-padded to
    ``in_pad`` into one zero-padded to ``out_pad``, the zeros adding nothing to the sums."""
    matrix = np.zeros((out_pad, in_pad), dtype=np.float64 if precise else np.float32)
    weights = lanczos_matrix(in_size, out_size) if precise else lanczos_matrix_float32(in_size, out_size)
    matrix[:out_size, :in_size] = np.eye(in_size) if in_size == out_size else weights
    matrix.flags.writeable = False
    return matrix


def stacked_lanczos(
    in_sizes: np.ndarray, out_sizes: np.ndarray, in_pad: int, out_pad: int, precise: bool
) -> np.ndarray:
    """(n, out_pad, in_pad): the ``padded_lanczos`` matrix of each (in size, out size) pair; one (out_pad,
    in_pad) matrix when all pairs are the same (``np.matmul`` broadcasts it, with no copies)."""
    pairs, which = np.unique(in_sizes.astype(np.int64) * SIZE_KEY + out_sizes, return_inverse=True)
    matrices = [padded_lanczos(pair // SIZE_KEY, pair % SIZE_KEY, in_pad, out_pad, precise) for pair in pairs.tolist()]
    stacked: np.ndarray = matrices[0] if len(matrices) == 1 else np.stack(matrices)[which]
    return stacked


def resize_padded(
    images: np.ndarray,
    sizes: tuple[np.ndarray, np.ndarray],
    new_sizes: tuple[np.ndarray, np.ndarray],
    shape: tuple[int, int],
    precise: bool = True,
) -> np.ndarray:
    """(n, H, W) float32 images, each zero-padded from its own (height, width) in ``sizes``, -> (n, *shape),
    each resized to its own size in ``new_sizes`` and zero-padded: ``resize`` of every image (columns, then
    rows, each pass rounded to float32), as batched matrix products with every image's own matrices. Images
    whose size does not change are copied (what ``resize`` gives them)."""
    dtype = np.float64 if precise else np.float32
    same = (sizes[0] == new_sizes[0]) & (sizes[1] == new_sizes[1])
    changed = np.flatnonzero(~same)
    if changed.size:
        columns = stacked_lanczos(sizes[1][changed], new_sizes[1][changed], images.shape[2], shape[1], precise)
        picked = images if changed.size == len(images) else images[changed]
        halfway = np.matmul(picked.astype(dtype, copy=False), np.swapaxes(columns, -1, -2)).astype(np.float32)
        lines = stacked_lanczos(sizes[0][changed], new_sizes[0][changed], images.shape[1], shape[0], precise)
        resized: np.ndarray = np.matmul(lines, halfway.astype(dtype, copy=False)).astype(np.float32, copy=False)
        if changed.size == len(images):
            return resized
    result = np.zeros((len(images), *shape), dtype=np.float32)
    rows, cols = min(shape[0], images.shape[1]), min(shape[1], images.shape[2])
    if changed.size:
        result[same, :rows, :cols] = images[same, :rows, :cols]
        result[changed] = resized
    else:
        result[:, :rows, :cols] = images[:, :rows, :cols]
    return result
