"""AsyncClient against the live service: the same answers as Client, call for call."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from PIL import Image

from routed_vae_client import AsyncClient, Client, Prediction
from tests.client.live import SEVEN, pixels_of

LATENTS = [[0, 0, 0, 0, 3, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 2, 0, 0, 0]]


def pixels(images: list[Image.Image]) -> list[list[list[int]]]:
    return [np.asarray(image).tolist() for image in images]


async def every_method(url: str, images: list[Any]) -> dict[str, Any]:
    async with AsyncClient(url) as client:
        sample = await client.sample(digit=6, n=3, seed=4)
        return {
            "classify": await client.classify(images),
            "encode": await client.encode(images),
            "decode": pixels(await client.decode(LATENTS, scale=2)),
            "sample": (sample.digits, sample.latents, pixels(sample.images)),
            "model_card": await client.model_card(),
            "ready": await client.ready(),
        }


def test_both_clients_give_the_same_results(client: Client, service_url: str, digit_pngs: list[bytes]) -> None:
    images = [SEVEN, digit_pngs[2], pixels_of(digit_pngs[9])]
    from_async = asyncio.run(every_method(service_url, images))
    sample = client.sample(digit=6, n=3, seed=4)
    assert from_async["model_card"] == client.model_card() and from_async["ready"] is True
    assert all(isinstance(p, Prediction) for p in from_async["classify"])
    assert [p.digit for p in from_async["classify"]] == [p.digit for p in client.classify(images)] == [7, 2, 9]
    np.testing.assert_allclose(from_async["encode"], client.encode(images), atol=1e-6)
    assert from_async["decode"] == pixels(client.decode(LATENTS, scale=2))
    assert from_async["sample"] == (sample.digits, sample.latents, pixels(sample.images))


async def concurrent_classify(url: str, images: list[bytes]) -> list[list[Prediction]]:
    async with AsyncClient(url) as client:
        return await asyncio.gather(*(client.classify([image]) for image in images))


def test_concurrent_calls_on_one_async_client(service_url: str, digit_pngs: list[bytes]) -> None:
    answers = asyncio.run(concurrent_classify(service_url, digit_pngs))
    assert [predictions[0].digit for predictions in answers] == list(range(10))
