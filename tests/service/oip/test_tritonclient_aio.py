"""The real tritonclient's asyncio client (tritonclient.http.aio, on aiohttp) against a live server."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
import tritonclient.http.aio as triton_aio
from tritonclient.utils import InferenceServerException

from tests.service.oip.conftest import mnist_digits, png_file

ENCODER, CLASSIFIER = "routed-vae-encoder", "routed-vae-classifier"


def pixels_input(images: np.ndarray, binary: bool = True) -> triton.InferInput:
    item = triton.InferInput("pixels", list(images.shape), "FP32")
    item.set_data_from_numpy(images, binary_data=binary)
    return item


async def health_and_metadata(url: str) -> None:
    async with triton_aio.InferenceServerClient(url) as client:
        assert await client.is_server_live() and await client.is_server_ready()
        assert await client.is_model_ready(CLASSIFIER) and not await client.is_model_ready("resnet50")
        assert (await client.get_server_metadata())["extensions"] == ["binary_tensor_data"]
        metadata = await client.get_model_metadata(ENCODER)
        assert [tensor["name"] for tensor in metadata["inputs"]] == ["pixels"]
        assert await client.get_model_metadata(ENCODER, metadata["versions"][0]) == metadata
        with pytest.raises(InferenceServerException) as unknown:
            await client.get_model_metadata("resnet50")
        assert unknown.value.status() == "404"


def test_health_and_metadata(live_url: str) -> None:
    asyncio.run(health_and_metadata(live_url.removeprefix("http://")))


async def concurrent_encodes(url: str, batches: list[np.ndarray], binary: bool) -> list[np.ndarray]:
    """One request per batch, all in flight at once (the server's micro-batcher may join them)."""
    async with triton_aio.InferenceServerClient(url) as client:
        outputs = [triton.InferRequestedOutput("latent", binary_data=binary)]
        calls = [
            client.infer(ENCODER, [pixels_input(batch, binary)], outputs=outputs, request_id=f"batch-{index}")
            for index, batch in enumerate(batches)
        ]
        results = await asyncio.gather(*calls)
    assert [result.get_response()["id"] for result in results] == [f"batch-{index}" for index in range(len(batches))]
    return [result.as_numpy("latent") for result in results]


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_concurrent_requests_equal_encode(live_url: str, binary: bool) -> None:
    images = mnist_digits(12).astype(np.float32) / 255
    batches = [images[start : start + 3] for start in range(0, 12, 3)]
    latents = asyncio.run(concurrent_encodes(live_url.removeprefix("http://"), batches, binary))
    expected = httpx.post(f"{live_url}/encode", json={"images": images.tolist()}).json()["latents"]
    np.testing.assert_allclose(np.concatenate(latents), expected, rtol=0, atol=1e-5)


async def classify_compressed(url: str, files: list[bytes], encoding: str) -> triton.InferResult:
    images = triton.InferInput("image", [len(files)], "BYTES")
    images.set_data_from_numpy(np.array(files, dtype=object))
    async with triton_aio.InferenceServerClient(url) as client:
        return await client.infer(
            CLASSIFIER,
            [images],
            request_compression_algorithm=encoding,
            response_compression_algorithm=encoding,
        )


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_images_equal_classify(live_url: str, encoding: str) -> None:
    files = [png_file(digit, scale=2) for digit in mnist_digits(3)]
    result = asyncio.run(classify_compressed(live_url.removeprefix("http://"), files, encoding))
    parts = [("file", (f"{index}.png", data, "image/png")) for index, data in enumerate(files)]
    predictions = httpx.post(f"{live_url}/classify", files=parts).json()["predictions"]
    assert result.as_numpy("digit").tolist() == [prediction["digit"] for prediction in predictions]
    np.testing.assert_allclose(result.as_numpy("latent"), [p["latent"] for p in predictions], rtol=0, atol=1e-5)


async def bad_then_good(url: str) -> str:
    async with triton_aio.InferenceServerClient(url) as client:
        with pytest.raises(InferenceServerException) as wrong_type:
            item = triton.InferInput("pixels", [1, 28, 28], "FP64")
            item.set_data_from_numpy(np.zeros((1, 28, 28), dtype=np.float64))
            await client.infer(ENCODER, [item])
        good = await client.infer(ENCODER, [pixels_input(np.zeros((1, 28, 28), dtype=np.float32))])
        assert good.as_numpy("latent").shape == (1, 10)
        assert wrong_type.value.status() == "400"
        return str(wrong_type.value.message())


def test_bad_input_then_a_good_one(live_url: str) -> None:
    message = asyncio.run(bad_then_good(live_url.removeprefix("http://")))
    assert "FP64" in message and "FP32 or UINT8" in message
