"""Base64 PNG answers: a few encoded on the event loop, more in a worker thread, the same either way."""

from __future__ import annotations

import asyncio
import base64
import io

import numpy as np
import pytest
from PIL import Image

from service import responses


def decoded(encoded: list[str]) -> np.ndarray:
    return np.stack([np.asarray(Image.open(io.BytesIO(base64.b64decode(text)))) for text in encoded])


@pytest.mark.parametrize("count", [1, responses.INLINE_PNGS, responses.INLINE_PNGS + 1, 9])
def test_pngs_hold_the_pixels_whichever_way_they_are_encoded(count: int) -> None:
    pixels = np.random.default_rng(count).random((count, 28, 28)).astype(np.float32)
    images = decoded(asyncio.run(responses.encode_pngs(pixels)))
    assert images.shape == (count, 28, 28)
    assert np.array_equal(images, (pixels * 255).round().astype(np.uint8))


def test_only_more_than_the_inline_count_go_to_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    handed_off: list[int] = []

    async def counting_threadpool(work, pixels):  # type: ignore[no-untyped-def]
        handed_off.append(len(pixels))
        return work(pixels)

    monkeypatch.setattr(responses, "run_in_threadpool", counting_threadpool)
    for count in (1, responses.INLINE_PNGS, responses.INLINE_PNGS + 1):
        asyncio.run(responses.encode_pngs(np.zeros((count, 28, 28), np.float32)))
    assert handed_off == [responses.INLINE_PNGS + 1]
