"""Turning latents into classifications (the argmax digit and its share of the total activation), and the
decoding and ``auto`` done in the micro-batch."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mnist_form.preprocess import preprocess_auto
from service.batching import MicroBatcher
from service.inference import (
    ENCODE_AUTO,
    ENCODE_SIZED_AUTO,
    Inference,
    classify_latents,
    encoding_png_rows,
    encoding_sized_with_auto,
    encoding_with_auto,
)
from service.model import ModelRunner
from service.png import rows_luminance, scanlines
from service.requests import SIZED_PICTURES, RequestImages, raise_first_refusal
from service.sampling import LatentSampler
from tests.mnist_form.pictures import mnist_samples
from tests.service.conftest import png_bytes


def test_classification_is_the_argmax_and_its_share_of_the_activation() -> None:
    latents = np.array([[0.0, 3.0, 1.0, 0, 0, 0, 0, 0, 0, 0], [0.0] * 10], dtype=np.float32)
    first, blank = classify_latents(latents)
    assert (first.digit, first.confidence) == (1, 0.75)
    assert first.latent == [0.0, 3.0, 1.0] + [0.0] * 7 and all(type(v) is float for v in first.latent)
    assert (blank.digit, blank.confidence) == (0, 0.0)


def test_a_tie_goes_to_the_lower_digit_as_numpy_argmax_would() -> None:
    latents = np.array([[0.0, 2.0, 0.0, 2.0, 0, 0, 0, 0, 0, 1.0]], dtype=np.float32)
    (tied,) = classify_latents(latents)
    assert tied.digit == int(latents.argmax()) == 1 and tied.confidence == 0.4


Encoded = tuple[np.ndarray, np.ndarray]


def concurrently(
    runner: ModelRunner,
    name: str,
    operation: Callable[[Callable[[torch.Tensor], torch.Tensor]], Callable[[np.ndarray], np.ndarray]],
    submit: Callable[[Inference, np.ndarray], Awaitable[Encoded]],
    requests: list[np.ndarray],
) -> tuple[list[Encoded], list[int]]:
    """``submit`` of every request at once, through a micro-batcher running ``operation`` of the runner's encode as
    ``name``; the results, and the rows of each batch it ran."""
    batches: list[int] = []

    async def together() -> list[Encoded]:
        operations = {name: operation(runner.encode)}
        batcher = MicroBatcher(operations, max_rows=256, max_wait=0.01, on_batch=lambda _, rows: batches.append(rows))
        batcher.start()
        inference = Inference(runner, batcher, LatentSampler(runner.card, 10.0))
        try:
            return list(await asyncio.gather(*(submit(inference, request) for request in requests)))
        finally:
            await batcher.stop()

    return asyncio.run(together()), batches


def test_auto_in_the_micro_batch_refuses_only_the_blank_picture(tiny_model_path: Path) -> None:
    """Requests whose 28 x 28 pictures get ``auto`` together: a blank one is flagged, its batch-mates get the
    latents of their own ``auto`` output, as if each had been preprocessed alone."""
    runner = ModelRunner.load(tiny_model_path)
    digits, _ = mnist_samples()
    pictures = [digit.astype(np.float32) / 255 for digit in digits[:5]]
    blank = np.zeros((28, 28), np.float32)
    requests = [np.stack(pictures[:2]), np.stack([pictures[2], blank]), np.stack(pictures[3:])]
    results, batches = concurrently(runner, ENCODE_AUTO, encoding_with_auto, Inference.encode_auto, requests)
    (first, refused_first), (second, refused_second), (third, refused_third) = results
    assert batches == [6], "the three requests' pictures went through auto and the model as one batch"
    assert not refused_first.any() and refused_second.tolist() == [False, True] and not refused_third.any()
    alone = runner.encode(torch.from_numpy(np.stack([preprocess_auto(p) for p in pictures])).unsqueeze(1)).numpy()
    np.testing.assert_allclose(np.concatenate([first, second[:1], third]), alone, atol=1e-5)


def pictures_of(*pictures: np.ndarray) -> np.ndarray:
    """One request's pictures of any sizes, as the micro-batch takes them: an object array of 2-D arrays."""
    array = np.empty(len(pictures), dtype=object)
    for index, picture in enumerate(pictures):
        array[index] = picture
    return array


def test_auto_of_pictures_of_any_size_in_the_micro_batch_refuses_only_the_blank_one(tiny_model_path: Path) -> None:
    """Requests whose pictures of other sizes get ``auto`` in the micro-batch: one batch for all of them, a blank one
    flagged, the others given the latents of their own ``auto`` output."""
    runner = ModelRunner.load(tiny_model_path)
    digits, _ = mnist_samples()
    scan = np.asarray(Image.fromarray(255 - digits[0]).resize((112, 112)), dtype=np.float32) / 255
    wide = np.asarray(Image.fromarray(digits[1]).resize((60, 40)), dtype=np.float32) / 255
    tall = np.asarray(Image.fromarray(digits[2]).resize((30, 90)), dtype=np.float32) / 255
    same_size = np.asarray(Image.fromarray(digits[3]).resize((112, 112)), dtype=np.float32) / 255
    blank = np.ones((50, 50), np.float32)
    requests = [pictures_of(scan, same_size), pictures_of(wide, blank), pictures_of(tall)]
    operation = encoding_sized_with_auto
    results, batches = concurrently(runner, ENCODE_SIZED_AUTO, operation, Inference.encode_sized_auto, requests)
    (first, refused_first), (second, refused_second), (third, refused_third) = results
    assert batches == [5], "the three requests' pictures went through auto and the model as one batch"
    assert not refused_first.any() and refused_second.tolist() == [False, True] and not refused_third.any()
    pictures = [scan, same_size, wide, tall]
    alone = runner.encode(torch.from_numpy(np.stack([preprocess_auto(p) for p in pictures])).unsqueeze(1)).numpy()
    np.testing.assert_allclose(np.concatenate([first, second[:1], third]), alone, atol=1e-5)


def test_png_rows_decoded_in_the_micro_batch_give_each_picture_s_own_latents(tiny_model_path: Path) -> None:
    """Rows of 28 x 28 grayscale PNGs (Pillow's, with its own mix of row filters) decoded all together, then
    encoded as they are or through ``auto``: the latents each picture gets alone; a blank one is flagged."""
    runner = ModelRunner.load(tiny_model_path)
    digits, _ = mnist_samples()
    pictures = [*digits[:6], np.zeros((28, 28), np.uint8)]
    rows = np.stack(
        [np.frombuffer(scanlines(png_bytes(Image.fromarray(picture)), 28, 28) or b"", np.uint8) for picture in pictures]
    )
    assert rows.shape == (7, 28 * 29)
    luminance = np.stack(pictures).astype(np.float32) / 255
    assert np.array_equal(rows_luminance(rows, 28, 28), luminance)

    as_they_are = encoding_png_rows(runner.encode, auto=False)(rows)
    alone = runner.encode(torch.from_numpy(luminance).unsqueeze(1)).numpy()
    np.testing.assert_allclose(as_they_are[:, :-1], alone, atol=1e-5)
    assert not as_they_are[:, -1].any()

    with_auto = encoding_png_rows(runner.encode, auto=True)(rows)
    assert with_auto[:, -1].tolist() == [0] * 6 + [1], "only the blank picture is refused"
    preprocessed = np.stack([preprocess_auto(picture) for picture in luminance[:6]])
    alone_auto = runner.encode(torch.from_numpy(preprocessed).unsqueeze(1)).numpy()
    np.testing.assert_allclose(with_auto[:6, :-1], alone_auto, atol=1e-5)


def test_a_picture_auto_fails_on_fails_only_its_own_request(
    tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error other than a refusal (a bug on some picture) is flagged in the micro-batch like a refusal, so its
    batch-mates get their latents; the picture's own request, running it again alone, raises that error."""
    runner = ModelRunner.load(tiny_model_path)
    digits, _ = mnist_samples()
    good = np.asarray(Image.fromarray(digits[0]).resize((90, 90)), dtype=np.float32) / 255
    odd = np.asarray(Image.fromarray(digits[1]).resize((77, 40)), dtype=np.float32) / 255

    def failing_on_odd_widths(picture: np.ndarray) -> np.ndarray:
        if picture.shape[1] == 77:
            raise RuntimeError("a bug")
        return preprocess_auto(picture)

    monkeypatch.setattr("service.inference.preprocess_auto", failing_on_odd_widths)
    monkeypatch.setattr("service.requests.preprocess_auto", failing_on_odd_widths)
    outputs = encoding_sized_with_auto(runner.encode)(pictures_of(good, odd))
    assert outputs[:, -1].tolist() == [0, 1]
    alone = runner.encode(torch.from_numpy(preprocess_auto(good)[None, None])).numpy()
    np.testing.assert_allclose(outputs[:1, :-1], alone, atol=1e-5)
    images = RequestImages(pictures_of(good, odd), SIZED_PICTURES, auto=True)
    with pytest.raises(RuntimeError, match="a bug"):
        raise_first_refusal(images, outputs[:, -1] > 0)


def test_a_refusal_the_picture_alone_does_not_repeat_is_an_error() -> None:
    """If the micro-batch flagged a picture that ``auto`` takes when run again alone, something is wrong: the request
    fails (500) rather than answer with a meaningless latent."""
    digits, _ = mnist_samples()
    images = RequestImages(pictures_of(digits[0].astype(np.float32) / 255), SIZED_PICTURES, auto=True)
    with pytest.raises(RuntimeError, match="alone"):
        raise_first_refusal(images, np.array([True]))
