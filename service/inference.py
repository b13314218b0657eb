"""What the routes call: classify, encode, decode and sample over the micro-batched model. No HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from mnist_form.batch import preprocess_auto_many
from mnist_form.preprocess import MNIST_SIDE, preprocess_auto
from service.batching import MicroBatcher
from service.model import ModelRunner
from service.png import rows_luminance
from service.sampling import LatentSampler

# The micro-batcher's operations for 28 x 28 pictures not yet in MNIST form: their luminance, still to go through
# ``auto``; plain grayscale PNGs' inflated rows (service/png.py), still to be decoded, as they are or with ``auto``.
ENCODE_AUTO = "encode_auto"
ENCODE_SIZED_AUTO = "encode_sized_auto"  # pictures of any sizes (an object array of 2-D arrays), through ``auto``
ENCODE_PNG_ROWS = "encode_png_rows"
ENCODE_PNG_ROWS_AUTO = "encode_png_rows_auto"


@dataclass(frozen=True)
class Classification:
    digit: int
    confidence: float  # the digit's share of the total latent activation
    latent: list[float]


def classify_latents(latents: np.ndarray) -> list[Classification]:
    """Argmax digit (the first, on ties) and its share of the activation; an all-zero latent gets confidence 0.

    Plain Python over the rows: most requests carry one image, and for one row numpy's calls cost
    three times as much (14 against 4 µs here). ``row.index(max(row))`` is the first largest, as argmax."""
    classifications = []
    for row in latents.tolist():
        top, total = max(row), sum(row)
        classifications.append(Classification(row.index(top), top / total if total > 0 else 0.0, row))
    return classifications


def refused_as_nan(index: int, picture: np.ndarray) -> np.ndarray:
    """``preprocess_auto``'s result, or NaNs where it refuses the picture (it has no visible digit) or fails on it:
    its request then runs it again alone and raises what that raises (service/requests.py,
    ``raise_first_refusal``), so that one picture's error, whatever it is, fails no other request's."""
    try:
        return preprocess_auto(picture)
    except Exception:  # an InputError, usually; anything else is a bug, raised again in the picture's own request
        return np.full((MNIST_SIDE, MNIST_SIDE), np.nan, dtype=np.float32)


def encoding_with_auto(encode: Callable[[Tensor], Tensor]) -> Callable[[np.ndarray], np.ndarray]:
    """A micro-batch operation: (N, 28, 28) luminance of pictures -> ``auto`` for all of them at once
    (mnist_form/batch.py), then the model: (N, K + 1), the latents and a last column that is 1 for each picture
    ``auto`` refused (its latent is meaningless). One request's blank picture must not fail its batch-mates."""

    def run(pictures: np.ndarray) -> np.ndarray:
        return encoded_unless_refused(encode, preprocess_auto_many(list(pictures), refused_as_nan))

    return run


def encoding_sized_with_auto(encode: Callable[[Tensor], Tensor]) -> Callable[[np.ndarray], np.ndarray]:
    """A micro-batch operation: an object array of N pictures of any sizes -> ``auto`` for each (one by one: stacks
    of larger pictures cost more than they save, mnist_form/batch.py), then as ``encoding_with_auto``."""

    def run(pictures: np.ndarray) -> np.ndarray:
        pixels = np.stack([refused_as_nan(index, picture) for index, picture in enumerate(pictures)])
        return encoded_unless_refused(encode, pixels)

    return run


def encoded_unless_refused(encode: Callable[[Tensor], Tensor], pixels: np.ndarray) -> np.ndarray:
    """(N, 28, 28) MNIST-form pixels, NaN where ``auto`` refused a picture -> (N, K + 1): the latents, and a last
    column that is 1 for each refused picture (its latent is meaningless)."""
    refused = np.isnan(pixels[:, 0, 0])
    pixels[refused] = 0
    latents = encode(torch.from_numpy(pixels).unsqueeze(1)).numpy()
    return np.concatenate([latents, refused[:, None].astype(latents.dtype)], axis=1)


def encoding_png_rows(encode: Callable[[Tensor], Tensor], auto: bool) -> Callable[[np.ndarray], np.ndarray]:
    """A micro-batch operation: (N, 28 x 29) PNG rows -> decoded together, then as ``encoding_with_auto`` (``auto``)
    or straight into the model, with the same last column (always 0 without ``auto``: nothing is refused)."""
    with_auto = encoding_with_auto(encode)

    def run(rows: np.ndarray) -> np.ndarray:
        pictures = rows_luminance(rows, MNIST_SIDE, MNIST_SIDE)  # never NaN: no picture counts as refused
        return with_auto(pictures) if auto else encoded_unless_refused(encode, pictures)

    return run


def on_arrays(operation: Callable[[Tensor], Tensor]) -> Callable[[np.ndarray], np.ndarray]:
    """A model call taking and giving numpy arrays, for the micro-batcher (see service/batching.py)."""

    def run(inputs: np.ndarray) -> np.ndarray:
        return operation(torch.from_numpy(inputs)).numpy()

    return run


class Inference:
    def __init__(self, runner: ModelRunner, batcher: MicroBatcher, sampler: LatentSampler) -> None:
        self.runner, self.batcher, self.sampler = runner, batcher, sampler

    async def encode(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) MNIST-form pixels -> (N, K) latents."""
        inputs = np.ascontiguousarray(images, dtype=np.float32).reshape(len(images), 1, 28, 28)
        return await self.batcher.submit("encode", inputs)

    async def encode_auto(self, pictures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 28, 28) luminance of pictures -> (N, K) latents of their ``auto`` MNIST form, done in the micro-batch
        with other requests' pictures, and which pictures ``auto`` refused (their latents are meaningless)."""
        inputs = np.ascontiguousarray(pictures, dtype=np.float32)
        outputs = await self.batcher.submit(ENCODE_AUTO, inputs)
        return outputs[:, :-1], outputs[:, -1] > 0

    async def encode_sized_auto(self, pictures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """An object array of N pictures' luminance (2-D arrays of any sizes) -> as ``encode_auto``."""
        outputs = await self.batcher.submit(ENCODE_SIZED_AUTO, pictures)
        return outputs[:, :-1], outputs[:, -1] > 0

    async def encode_png_rows(self, rows: np.ndarray, auto: bool) -> tuple[np.ndarray, np.ndarray]:
        """(N, 28 x 29) rows of 28 x 28 plain grayscale PNGs -> (N, K) latents, decoded (and with ``auto``,
        preprocessed) in the micro-batch with other requests' pictures, and which pictures ``auto`` refused."""
        outputs = await self.batcher.submit(ENCODE_PNG_ROWS_AUTO if auto else ENCODE_PNG_ROWS, rows)
        return outputs[:, :-1], outputs[:, -1] > 0

    async def classify(self, images: np.ndarray) -> list[Classification]:
        return classify_latents(await self.encode(images))

    async def decode(self, latents: np.ndarray) -> np.ndarray:
        """(N, K) latents -> (N, 28, 28) pixels in [0, 1]."""
        pixels = await self.batcher.submit("decode", np.ascontiguousarray(latents, dtype=np.float32))
        return pixels.reshape(len(pixels), 28, 28)

    async def sample(self, n: int, digit: int | None, seed: int | None) -> tuple[list[int], np.ndarray, np.ndarray]:
        digits, latents = self.sampler.sample(n, digit, seed)
        return digits, latents, await self.decode(latents)
