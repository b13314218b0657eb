"""The real tritonclient (HTTP, sync) against a live server: what it gets equals /encode, /decode and /classify."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
import tritonclient.http as triton
from PIL import Image
from tritonclient.utils import InferenceServerException

from mnist_form.preprocess import to_bytes
from service.model import ModelRunner
from tests.service.oip.conftest import mnist_digits, png_file

ENCODER, DECODER, CLASSIFIER = "routed-vae-encoder", "routed-vae-decoder", "routed-vae-classifier"
PIXELS = {"name": "pixels", "datatype": "FP32", "shape": [-1, 28, 28]}
LATENT = {"name": "latent", "datatype": "FP32", "shape": [-1, 10]}
IMAGE = {"name": "image", "datatype": "BYTES", "shape": [-1]}
DIGIT = {"name": "digit", "datatype": "INT64", "shape": [-1]}
CONFIDENCE = {"name": "confidence", "datatype": "FP32", "shape": [-1]}
METADATA = {
    ENCODER: ([PIXELS], [LATENT]),
    DECODER: ([LATENT], [PIXELS]),
    CLASSIFIER: ([PIXELS, IMAGE], [DIGIT, CONFIDENCE, LATENT]),
}


@pytest.fixture(scope="module")
def client(live_url: str) -> triton.InferenceServerClient:
    return triton.InferenceServerClient(live_url.removeprefix("http://"))


@pytest.fixture(scope="module")
def version(live_url: str) -> str:
    return str(httpx.get(f"{live_url}/v1/model").json()["version"])


def tensor(name: str, array: np.ndarray, datatype: str, binary: bool = True) -> triton.InferInput:
    item = triton.InferInput(name, list(array.shape), datatype)
    item.set_data_from_numpy(array, binary_data=binary)
    return item


def pixels(count: int) -> np.ndarray:
    return mnist_digits(count).astype(np.float32) / 255


def test_health_and_server_metadata(client: triton.InferenceServerClient, version: str) -> None:
    assert client.is_server_live() and client.is_server_ready()
    for model in METADATA:
        assert client.is_model_ready(model) and client.is_model_ready(model, version)
    assert not client.is_model_ready("resnet50") and not client.is_model_ready(ENCODER, "999")
    assert client.get_server_metadata() == {
        "name": "routed-vae",
        "version": "1.0.0",
        "extensions": ["binary_tensor_data"],
    }


def test_model_metadata_is_the_contract(client: triton.InferenceServerClient, version: str) -> None:
    for model, (inputs, outputs) in METADATA.items():
        expected = {"name": model, "versions": [version], "platform": "pytorch_torchscript"}
        expected |= {"inputs": inputs, "outputs": outputs}
        assert client.get_model_metadata(model) == expected
        assert client.get_model_metadata(model, version) == expected
    with pytest.raises(InferenceServerException) as unknown:
        client.get_model_metadata("resnet50")
    assert unknown.value.status() == "404" and "routed-vae-encoder" in unknown.value.message()
    with pytest.raises(InferenceServerException) as wrong_version:
        client.get_model_metadata(ENCODER, "999")
    assert wrong_version.value.status() == "404"


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_encoder_equals_encode(client: triton.InferenceServerClient, live_url: str, binary: bool) -> None:
    images = pixels(5)
    outputs = [triton.InferRequestedOutput("latent", binary_data=binary)]
    result = client.infer(ENCODER, [tensor("pixels", images, "FP32", binary)], outputs=outputs)
    expected = httpx.post(f"{live_url}/encode", json={"images": images.tolist()}).json()["latents"]
    assert result.as_numpy("latent").shape == (5, 10)
    np.testing.assert_allclose(result.as_numpy("latent"), expected, rtol=0, atol=1e-5)
    assert ("parameters" in result.get_output("latent")) == binary


def test_uint8_pixels_are_scaled(client: triton.InferenceServerClient) -> None:
    digits = mnist_digits(4)
    scaled = client.infer(ENCODER, [tensor("pixels", digits, "UINT8")]).as_numpy("latent")
    floats = client.infer(ENCODER, [tensor("pixels", digits.astype(np.float32) / 255, "FP32")]).as_numpy("latent")
    np.testing.assert_allclose(scaled, floats, rtol=0, atol=1e-5)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_decoder_equals_decode(
    client: triton.InferenceServerClient, live_url: str, tiny_model_path: Path, binary: bool
) -> None:
    latents = np.clip(client.infer(ENCODER, [tensor("pixels", pixels(3), "FP32")]).as_numpy("latent"), 0, 10)
    outputs = [triton.InferRequestedOutput("pixels", binary_data=binary)]
    decoded = client.infer(DECODER, [tensor("latent", latents, "FP32", binary)], outputs=outputs).as_numpy("pixels")
    assert decoded.shape == (3, 28, 28) and decoded.dtype == np.float32
    pngs = httpx.post(f"{live_url}/decode", json={"latents": latents.tolist()}).json()["images"]
    for image, png in zip(decoded, pngs, strict=True):
        assert np.array_equal(to_bytes(image), np.asarray(Image.open(io.BytesIO(base64.b64decode(png)))))
    model = ModelRunner.load(tiny_model_path)  # /decode answers 8-bit PNGs; the floats are checked in-process
    expected = model.decode(torch.from_numpy(latents)).numpy().reshape(3, 28, 28)
    np.testing.assert_allclose(decoded, expected, rtol=0, atol=1e-5)


def assert_same_predictions(result: triton.InferResult, predictions: list[dict[str, object]]) -> None:
    assert result.as_numpy("digit").tolist() == [prediction["digit"] for prediction in predictions]
    confidences = [prediction["confidence"] for prediction in predictions]
    np.testing.assert_allclose(result.as_numpy("confidence"), confidences, rtol=0, atol=1e-5)
    latents = [prediction["latent"] for prediction in predictions]
    np.testing.assert_allclose(result.as_numpy("latent"), latents, rtol=0, atol=1e-5)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_classifier_pixels_equal_classify(client: triton.InferenceServerClient, live_url: str, binary: bool) -> None:
    images = pixels(6)
    outputs = [triton.InferRequestedOutput(name, binary_data=binary) for name in ("digit", "confidence", "latent")]
    result = client.infer(CLASSIFIER, [tensor("pixels", images, "FP32", binary)], outputs=outputs)
    predictions = httpx.post(f"{live_url}/classify", json={"images": images.tolist()}).json()["predictions"]
    assert_same_predictions(result, predictions)


def multipart(files: list[bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (f"{index}.png", data, "image/png")) for index, data in enumerate(files)]


@pytest.mark.parametrize("preprocess", ["auto", "none"])
def test_classifier_images_equal_classify(client: triton.InferenceServerClient, live_url: str, preprocess: str) -> None:
    """Encoded image files as BYTES, read like /classify reads them (auto: a 3x picture; none: 28 x 28)."""
    files = [png_file(digit, scale=3 if preprocess == "auto" else 1) for digit in mnist_digits(4)]
    images = tensor("image", np.array(files, dtype=object), "BYTES")
    parameters = {"preprocess": preprocess} if preprocess == "none" else None
    result = client.infer(CLASSIFIER, [images], parameters=parameters)
    answer = httpx.post(f"{live_url}/classify?preprocess={preprocess}", files=multipart(files))
    assert_same_predictions(result, answer.json()["predictions"])


def test_json_images_are_base64(client: triton.InferenceServerClient, live_url: str) -> None:
    files = [png_file(digit, scale=2) for digit in mnist_digits(2)]
    texts = np.array([base64.b64encode(data) for data in files], dtype=object)
    result = client.infer(CLASSIFIER, [tensor("image", texts, "BYTES", binary=False)])
    assert_same_predictions(result, httpx.post(f"{live_url}/classify", files=multipart(files)).json()["predictions"])


@pytest.mark.parametrize("request_encoding", ["gzip", "deflate", None])
@pytest.mark.parametrize("response_encoding", ["gzip", "deflate", None])
def test_compression_both_ways(
    client: triton.InferenceServerClient, request_encoding: str | None, response_encoding: str | None
) -> None:
    images = pixels(8)
    plain = client.infer(CLASSIFIER, [tensor("pixels", images, "FP32")])
    compressed = client.infer(
        CLASSIFIER,
        [tensor("pixels", images, "FP32")],
        request_compression_algorithm=request_encoding,
        response_compression_algorithm=response_encoding,
    )
    for name in ("digit", "confidence", "latent"):
        assert np.array_equal(plain.as_numpy(name), compressed.as_numpy(name))


def test_output_subset_in_the_order_asked_with_the_request_id(client: triton.InferenceServerClient) -> None:
    outputs = [triton.InferRequestedOutput("confidence"), triton.InferRequestedOutput("digit", binary_data=False)]
    result = client.infer(CLASSIFIER, [tensor("pixels", pixels(2), "FP32")], outputs=outputs, request_id="req-42")
    response = result.get_response()
    assert response["id"] == "req-42" and response["model_name"] == CLASSIFIER
    assert [output["name"] for output in response["outputs"]] == ["confidence", "digit"]
    assert "data" in result.get_output("digit") and "data" not in result.get_output("confidence")
    assert result.as_numpy("latent") is None and result.as_numpy("digit").shape == (2,)


def test_versions_path(client: triton.InferenceServerClient, version: str) -> None:
    images = pixels(2)
    unversioned = client.infer(ENCODER, [tensor("pixels", images, "FP32")])
    versioned = client.infer(ENCODER, [tensor("pixels", images, "FP32")], model_version=version)
    assert versioned.get_response()["model_version"] == version
    assert np.array_equal(unversioned.as_numpy("latent"), versioned.as_numpy("latent"))
    with pytest.raises(InferenceServerException) as missing:
        client.infer(ENCODER, [tensor("pixels", images, "FP32")], model_version="999")
    assert missing.value.status() == "404"


def test_bad_input_is_a_400_the_client_reports(client: triton.InferenceServerClient) -> None:
    with pytest.raises(InferenceServerException) as wrong_shape:
        client.infer(ENCODER, [tensor("pixels", np.zeros((2, 28), dtype=np.float32), "FP32")])
    assert wrong_shape.value.status() == "400" and "shape [2, 28]" in wrong_shape.value.message()
    with pytest.raises(InferenceServerException) as out_of_range:
        client.infer(DECODER, [tensor("latent", np.full((1, 10), np.nan, dtype=np.float32), "FP32")])
    assert out_of_range.value.status() == "400" and "finite" in out_of_range.value.message()
    assert client.infer(ENCODER, [tensor("pixels", pixels(1), "FP32")]).as_numpy("latent").shape == (1, 10)
