"""``preprocess=auto`` on whole requests: many images at once give what each gives alone, and errors name
the image."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from mnist_form.preprocess import preprocess_auto
from service.images import ImageLimits, luminance, open_image_file
from service.requests import (
    PNG_ROWS,
    SIZED_AUTO_PIXELS,
    SIZED_AUTO_REQUEST_PIXELS,
    SIZED_PICTURES,
    deferred_images,
)
from tests.mnist_form.pictures import mnist_samples
from tests.service.conftest import assert_error, png_bytes


def digit_pngs(count: int) -> list[bytes]:
    digits, _ = mnist_samples()
    pngs = [png_bytes(Image.fromarray(digit)) for digit in digits[:count]]
    scan = Image.fromarray(255 - digits[0]).resize((112, 112), Image.Resampling.BILINEAR)
    return [*pngs, png_bytes(scan)]


def preprocessed(client: TestClient, pngs: list[bytes]) -> list[np.ndarray]:
    files = [("file", (f"{index}.png", data, "image/png")) for index, data in enumerate(pngs)]
    response = client.post("/preprocess", files=files)
    assert response.status_code == 200, response.text
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(text)))) for text in response.json()["images"]]


def test_a_request_of_many_images_gives_what_each_gives_alone(client: TestClient) -> None:
    pngs = digit_pngs(40)
    together = preprocessed(client, pngs)
    assert len(together) == len(pngs)
    for data, result in zip(pngs, together, strict=True):
        assert np.array_equal(result, preprocessed(client, [data])[0])


def test_json_files_are_preprocessed_as_multipart_ones(client: TestClient) -> None:
    pngs = digit_pngs(8)
    response = client.post("/preprocess", json={"images": [base64.b64encode(data).decode() for data in pngs]})
    assert response.status_code == 200
    assert (
        response.json()["images"]
        == client.post(
            "/preprocess", files=[("file", (f"{i}.png", data, "image/png")) for i, data in enumerate(pngs)]
        ).json()["images"]
    )


@pytest.mark.parametrize("side", [28, 200, 300])
def test_a_blank_image_among_digits_is_named(client: TestClient, side: int) -> None:
    """28 x 28 pictures are preprocessed together in the micro-batch, others up to 256 x 256 pixels one by one there,
    larger ones in the request: each way the error names it."""
    pngs = digit_pngs(6)
    pngs[3] = png_bytes(Image.new("L", (side, side), 255))
    files = [("file", (f"{index}.png", data, "image/png")) for index, data in enumerate(pngs)]
    error = assert_error(client.post("/classify", files=files), 422, "blank_image")
    assert str(error["message"]).startswith("Image 3: ")


@pytest.mark.parametrize("preprocess", ["auto", "none"])
def test_grayscale_pngs_decoded_in_the_micro_batch_classify_as_other_files_do(
    client: TestClient, preprocess: str
) -> None:
    """Plain 28 x 28 grayscale PNGs are decoded in the micro-batch, other files in the request: the same digits as
    RGB PNGs get the same latents, alone and in a request of several."""
    digits, _ = mnist_samples()
    gray = [png_bytes(Image.fromarray(digit)) for digit in digits[:5]]
    rgb = [png_bytes(Image.fromarray(digit).convert("RGB")) for digit in digits[:5]]
    limits = ImageLimits(10**6, 10**6)
    stages = {
        kind: deferred_images([open_image_file(files[0], limits)], preprocess)
        for kind, files in (("gray", gray), ("rgb", rgb))
    }
    assert stages["gray"] is not None and stages["gray"].stage == PNG_ROWS, (
        "grayscale PNGs go to the micro-batch as rows"
    )
    assert stages["rgb"] is None or stages["rgb"].stage != PNG_ROWS, "RGB ones are decoded in the request"

    def latents(pngs: list[bytes]) -> np.ndarray:
        files = [("file", (f"{index}.png", data, "image/png")) for index, data in enumerate(pngs)]
        response = client.post(f"/encode?preprocess={preprocess}", files=files)
        assert response.status_code == 200, response.text
        return np.array(response.json()["latents"])

    np.testing.assert_allclose(latents(gray), latents(rgb), atol=1e-5)
    np.testing.assert_allclose(latents(gray[:1]), latents(rgb)[:1], atol=1e-5)


def test_other_small_pictures_get_auto_in_the_micro_batch_and_the_latents_auto_gives_them(client: TestClient) -> None:
    """A 112 x 112 scan and a 200 x 120 picture are decoded in the request and left to the micro-batch for
    ``auto``; the route's latents are the model's on what ``auto`` makes of each. Larger pictures, and any with
    ``preprocess=none``, are not left to it."""
    digits, _ = mnist_samples()
    scan = png_bytes(Image.fromarray(255 - digits[0]).resize((112, 112), Image.Resampling.BILINEAR))
    wide = png_bytes(Image.fromarray(digits[1]).resize((200, 120)).convert("RGB"))
    limits = ImageLimits(10**7, 10**8)
    files = [open_image_file(data, limits) for data in (scan, wide)]
    deferred = deferred_images(files, "auto")
    assert deferred is not None and deferred.stage == SIZED_PICTURES and len(deferred.arrays) == 2
    assert deferred_images(files, "none") is None
    side = int(SIZED_AUTO_PIXELS**0.5) + 1
    large = open_image_file(png_bytes(Image.fromarray(digits[2]).resize((side, side))), limits)
    assert deferred_images([large], "auto") is None, "done in the request's worker thread"
    many = [png_bytes(Image.fromarray(digits[3]).resize((256, 256)))] * (SIZED_AUTO_REQUEST_PIXELS // 256**2)
    alike = deferred_images([open_image_file(data, limits) for data in many], "auto")
    assert alike is not None and alike.stage == SIZED_PICTURES and alike.arrays[0].shape == (256, 256)
    one_more = [open_image_file(data, limits) for data in [*many, many[0]]]
    assert deferred_images(one_more, "auto") is None, "more pixels in all than may wait for the batch"

    response = client.post(
        "/encode", files=[("file", ("scan.png", scan, "image/png")), ("file", ("w.png", wide, "image/png"))]
    )
    assert response.status_code == 200, response.text
    runner = client.app.state.inference.runner  # type: ignore[attr-defined]
    reopened = [open_image_file(data, limits) for data in (scan, wide)]  # decoding closed the RGB one's reader
    pixels = np.stack([preprocess_auto(luminance(file, upright=True)) for file in reopened])
    expected = runner.encode(torch.from_numpy(pixels).unsqueeze(1)).numpy()
    np.testing.assert_allclose(np.array(response.json()["latents"]), expected, atol=1e-5)
