"""The HTTP contract (README's API summary, /docs), endpoint by endpoint, with exact statuses and error codes."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from service.config import Settings
from service.image_routes import preprocess_in
from service.inference import Inference
from service.main import create_app
from service.schemas import ClassifyResponse, EncodeResponse
from tests.service.conftest import assert_error, digit_png, png_bytes

PIXELS_ONE = [[1.0 if 12 <= x < 16 and 5 <= y < 23 else 0.0 for x in range(28)] for y in range(28)]


def assert_prediction(prediction: dict[str, object]) -> None:
    latent = prediction["latent"]
    assert isinstance(latent, list) and len(latent) == 10 and all(v >= 0 for v in latent)
    assert prediction["digit"] == max(range(10), key=lambda k: latent[k])
    assert 0 <= prediction["confidence"] <= 1  # type: ignore[operator]


# --- /preprocess ------------------------------------------------------------------------------


def decoded_pngs(response: object) -> list[np.ndarray]:
    images = response.json()["images"]  # type: ignore[attr-defined]
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(text)))) for text in images]


def test_preprocess_shows_what_the_model_sees(client: TestClient) -> None:
    """A dark digit on a light 100 x 60 picture comes back as a white-on-black 28 x 28 PNG, in order."""
    picture = Image.new("L", (60, 100), 255)
    picture.paste(0, (25, 10, 35, 90))
    files = [("file", ("a.png", png_bytes(picture), "image/png")), ("file", ("b.png", digit_png(), "image/png"))]
    response = client.post("/preprocess", files=files)
    assert response.status_code == 200
    first, second = decoded_pngs(response)
    assert first.shape == second.shape == (28, 28)
    assert first[0, 0] == 0 and first.max() == 255, "inverted to white ink on black"
    assert 19 <= np.count_nonzero(first.max(axis=1) > 25) <= 21, "scaled to MNIST's 20 px box"


def test_preprocess_none_and_json_give_back_the_pixels(client: TestClient) -> None:
    response = client.post("/preprocess?preprocess=none", json={"images": [PIXELS_ONE]})
    assert response.status_code == 200
    (pixels,) = decoded_pngs(response)
    assert np.array_equal(pixels, (np.array(PIXELS_ONE) * 255).astype(np.uint8))


def test_preprocess_refuses_what_classify_refuses(client: TestClient) -> None:
    assert_error(
        client.post("/preprocess", files={"file": ("x.png", b"not an image", "image/png")}), 415, "unsupported_image"
    )
    assert_error(client.post("/preprocess?preprocess=sideways", json={"images": [PIXELS_ONE]}), 422, "validation_error")
    assert_error(
        client.post("/preprocess", content=b"x", headers={"Content-Type": "text/plain"}), 415, "unsupported_media_type"
    )


# --- /classify and /encode: multipart ---------------------------------------------------------


def test_classify_one_multipart_png(client: TestClient) -> None:
    response = client.post("/classify", files={"file": ("one.png", digit_png(), "image/png")})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert len(predictions) == 1
    assert_prediction(predictions[0])
    assert response.headers["x-request-id"]


def test_classify_batch_keeps_input_order(client: TestClient) -> None:
    files = [("file", ("a.png", digit_png(), "image/png")), ("file", ("b.png", digit_png(56), "image/png"))]
    response = client.post("/classify", files=files)
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 2
    single = client.post("/encode", files={"file": ("a.png", digit_png(), "image/png")}).json()["latents"][0]
    assert response.json()["predictions"][0]["latent"] == pytest.approx(single, abs=1e-5)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP"])
def test_every_allowed_format_is_accepted(client: TestClient, fmt: str) -> None:
    image = Image.open(io.BytesIO(digit_png(64))).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    response = client.post("/classify", files={"file": (f"x.{fmt.lower()}", buffer.getvalue(), "image/*")})
    assert response.status_code == 200, response.text


def test_encode_and_classify_share_latents(client: TestClient) -> None:
    files = {"file": ("a.png", digit_png(), "image/png")}
    latents = client.post("/encode", files=files).json()["latents"]
    predictions = client.post("/classify", files=files).json()["predictions"]
    assert latents[0] == pytest.approx(predictions[0]["latent"], abs=1e-6)


def test_classify_and_encode_bodies_are_their_documented_models(client: TestClient) -> None:
    """The routes serialise their results without building the response models: the bodies must still be exactly
    what the models (/docs) validate and serialise to, for one image and for several."""
    files = [("file", (f"{size}.png", digit_png(size), "image/png")) for size in (28, 56, 28)]
    for path, model in (("/classify", ClassifyResponse), ("/encode", EncodeResponse)):
        for sent in (files[:1], files):
            response = client.post(path, files=sent)
            assert response.status_code == 200 and response.headers["content-type"] == "application/json"
            assert model.model_validate_json(response.content).model_dump_json().encode() == response.content


# --- /classify and /encode: JSON ------------------------------------------------------------


def test_classify_json_base64_with_and_without_data_url(client: TestClient) -> None:
    raw = base64.b64encode(digit_png()).decode()
    response = client.post("/classify", json={"images": [raw, f"data:image/png;base64,{raw}"]})
    assert response.status_code == 200
    first, second = response.json()["predictions"]
    # Two rows of one batch may round differently in the matrix multiply (float32: ~1e-7).
    assert first["latent"] == pytest.approx(second["latent"], abs=1e-6)


def test_classify_json_pixel_array(client: TestClient) -> None:
    response = client.post("/classify", json={"images": [PIXELS_ONE]})
    assert response.status_code == 200
    assert_prediction(response.json()["predictions"][0])


def test_preprocess_none_takes_28x28_as_is(client: TestClient) -> None:
    response = client.post("/encode?preprocess=none", files={"file": ("a.png", digit_png(), "image/png")})
    assert response.status_code == 200
    from_pixels = client.post("/encode", json={"images": [PIXELS_ONE]}).json()["latents"][0]
    assert response.json()["latents"][0] == pytest.approx(from_pixels, abs=1e-5)


def test_preprocess_none_refuses_other_sizes(client: TestClient) -> None:
    response = client.post("/encode?preprocess=none", files={"file": ("a.png", digit_png(56), "image/png")})
    error = assert_error(response, 422, "wrong_image_size")
    assert "28x28" in str(error["message"])


def test_preprocess_value_is_validated(client: TestClient) -> None:
    response = client.post("/encode?preprocess=sharpen", files={"file": ("a.png", digit_png(), "image/png")})
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    ("query", "mode"),
    [
        ("", "auto"),
        ("preprocess=none", "none"),
        ("preprocess=%6Eone", "none"),  # percent-encoded
        ("other=1&preprocess=none&x", "none"),
        ("preprocess=auto&preprocess=none", "none"),  # the last one counts, as in Starlette's QueryParams
        ("preprocess=none&preprocess=auto", "auto"),
        ("preprocess=", None),
        ("preprocess=None", None),
    ],
)
def test_the_preprocess_mode_is_read_from_the_query_string_as_starlette_reads_it(query: str, mode: str | None) -> None:
    assert preprocess_in(query.encode()) == mode
    assert preprocess_in(query.encode()) == mode, "and the same again from the cache"


def test_batch_of_256_is_accepted_and_257_refused(client: TestClient) -> None:
    assert client.post("/encode", json={"images": [PIXELS_ONE] * 256}).status_code == 200
    assert_error(client.post("/encode", json={"images": [PIXELS_ONE] * 257}), 422, "validation_error")
    files = [("file", (f"{i}.png", digit_png(), "image/png")) for i in range(257)]
    assert_error(client.post("/encode", files=files), 413, "too_many_images")


# --- /decode --------------------------------------------------------------------------------


def test_decode_json_returns_base64_pngs(client: TestClient) -> None:
    response = client.post("/decode", json={"latents": [[0.0] * 10, [0, 0, 0, 2.5, 0, 0, 0, 0, 0, 0]]})
    assert response.status_code == 200
    images = response.json()["images"]
    assert len(images) == 2
    image = Image.open(io.BytesIO(base64.b64decode(images[1])))
    assert image.size == (28, 28) and image.mode == "L"


def test_decode_single_latent_as_png_with_scale(client: TestClient) -> None:
    latent = {"latents": [[0, 0, 0, 3, 0, 0, 0, 0, 0, 0]]}
    response = client.post("/decode?scale=10", json=latent, headers={"Accept": "image/png"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (280, 280) and image.mode == "L"
    assert not image.info, "output PNGs carry no metadata"


def test_decode_png_accept_with_several_latents_gives_json(client: TestClient) -> None:
    response = client.post("/decode", json={"latents": [[0.0] * 10] * 2}, headers={"Accept": "image/png"})
    assert response.status_code == 200 and len(response.json()["images"]) == 2


@pytest.mark.parametrize(
    "latents",
    [
        [[0.0] * 9],  # too short
        [[0.0] * 11],  # too long
        [[-0.1] + [0.0] * 9],  # below the range
        [[10.5] + [0.0] * 9],  # above the range
        [["a"] + [0.0] * 9],  # not a number
        [],  # empty
    ],
)
def test_decode_rejects_bad_latents(client: TestClient, latents: object) -> None:
    assert_error(client.post("/decode", json={"latents": latents}), 422, "validation_error")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_decode_rejects_non_finite(client: TestClient, literal: str) -> None:
    body = '{"latents": [[' + literal + ", 0, 0, 0, 0, 0, 0, 0, 0, 0]]}"
    response = client.post("/decode", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, "validation_error")


def test_decode_scale_is_bounded(client: TestClient) -> None:
    response = client.post("/decode?scale=21", json={"latents": [[0.0] * 10]}, headers={"Accept": "image/png"})
    assert_error(response, 422, "validation_error")


# --- /sample --------------------------------------------------------------------------------


def test_sample_digit_is_seeded_and_varied(client: TestClient) -> None:
    first = client.post("/sample", json={"digit": 3, "n": 4, "seed": 7}).json()
    again = client.post("/sample", json={"digit": 3, "n": 4, "seed": 7}).json()
    assert first == again
    assert first["digits"] == [3, 3, 3, 3]
    assert len({tuple(latent) for latent in first["latents"]}) == 4, "samples should vary"
    assert len(first["images"]) == 4


def test_sample_without_digit_chooses_random_digits(client: TestClient) -> None:
    body = client.post("/sample", json={"n": 64, "seed": 1}).json()
    assert len(body["digits"]) == 64 and len(set(body["digits"])) > 3


def test_sample_without_body_gives_one(client: TestClient) -> None:
    response = client.post("/sample")
    assert response.status_code == 200 and len(response.json()["images"]) == 1


@pytest.mark.parametrize("body", [{"digit": 10}, {"n": 0}, {"n": 65}, {"seed": -1}, {"colour": "red"}])
def test_sample_rejects_bad_values(client: TestClient, body: dict[str, object]) -> None:
    assert_error(client.post("/sample", json=body), 422, "validation_error")


# --- health, metrics, model card, docs, demo -------------------------------------------------


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_metrics_cover_requests_latency_images_batches_and_model(client: TestClient) -> None:
    client.post("/classify", files={"file": ("a.png", digit_png(), "image/png")})
    text = client.get("/metrics").text
    for name in (
        'routed_vae_requests_total{endpoint="/classify",method="POST",status="200"}',
        "routed_vae_request_duration_seconds_bucket",
        'routed_vae_images_total{endpoint="/classify"}',
        "routed_vae_model_batch_size_bucket",
        "routed_vae_request_batch_size_bucket",
        "routed_vae_model_info{",
    ):
        assert name in text, name


def test_model_card_is_served(client: TestClient) -> None:
    card = client.get("/v1/model").json()
    for field in ("name", "version", "sha256", "training", "test_metrics", "latent_dimensions"):
        assert field in card
    assert len(card["latent_dimensions"]) == 10


def test_openapi_documents_every_endpoint_and_error(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = (
        "/classify",
        "/encode",
        "/preprocess",
        "/decode",
        "/sample",
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/model",
    )
    for path in paths:
        assert path in spec["paths"], path
    classify = spec["paths"]["/classify"]["post"]
    assert {"400", "413", "415", "422", "503"} <= set(classify["responses"])
    assert {"multipart/form-data", "application/json"} <= set(classify["requestBody"]["content"])
    assert client.get("/docs").status_code == 200


def test_demo_page_is_served(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]


def test_unknown_route_and_method_use_error_shape(client: TestClient) -> None:
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.get("/classify"), 405, "method_not_allowed")


def test_a_bug_in_an_image_endpoint_is_a_500_in_the_error_shape_and_the_app_stays_up(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Inference, *inputs: object) -> object:
        raise RuntimeError("a bug")

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        with monkeypatch.context() as patch:
            for method in ("encode", "encode_auto", "encode_png_rows"):
                patch.setattr(Inference, method, broken)
            assert_error(client.post("/classify", files={"file": digit_png()}), 500, "internal_error")
            assert_error(client.post("/classify?preprocess=none", files={"file": digit_png()}), 500, "internal_error")
        assert client.post("/classify", files={"file": digit_png()}).status_code == 200
