"""Every Client method against the live service, checked against what the service answers to plain HTTP."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
import pytest
from PIL import Image

from routed_vae_client import Client, Prediction, Sample
from tests.client.live import MODEL, SEVEN, pixels_of


def test_classify_takes_paths_bytes_pil_images_and_arrays(client: Client, digit_pngs: list[bytes]) -> None:
    three = pixels_of(digit_pngs[3])
    images = [SEVEN, str(SEVEN), SEVEN.read_bytes(), Image.open(SEVEN), three, three / 255.0]
    predictions = client.classify(images)
    assert all(isinstance(p, Prediction) for p in predictions) and len(predictions) == 6
    assert [p.digit for p in predictions] == [7, 7, 7, 7, 3, 3]
    # One picture spelled four ways; rows of one model batch may differ in the last float bit.
    np.testing.assert_allclose([p.latent for p in predictions[:4]], [predictions[0].latent] * 4, atol=1e-6)
    np.testing.assert_allclose(predictions[4].latent, predictions[5].latent, atol=1e-5)
    for prediction in predictions:
        assert len(prediction.latent) == 10 and 0 <= prediction.confidence <= 1
        assert prediction.confidence == pytest.approx(max(prediction.latent) / sum(prediction.latent), abs=1e-6)


def test_classify_answers_as_the_service_does(client: Client, service_url: str) -> None:
    direct = httpx.post(f"{service_url}/classify", files=[("file", ("seven.png", SEVEN.read_bytes()))])
    (expected,) = direct.json()["predictions"]
    (prediction,) = client.classify([SEVEN])
    assert prediction.digit == expected["digit"] == 7
    assert prediction.confidence == pytest.approx(expected["confidence"], abs=1e-6)
    np.testing.assert_allclose(prediction.latent, expected["latent"], atol=1e-6)


def test_arrays_are_taken_as_mnist_form_like_the_services_json_pixels(
    client: Client, service_url: str, digit_pngs: list[bytes]
) -> None:
    """An array is sent as pixels, which the service never preprocesses, whatever ``preprocess`` says."""
    pixels = pixels_of(digit_pngs[5]) / 255.0
    direct = httpx.post(f"{service_url}/encode", json={"images": [pixels.tolist()]}).json()["latents"][0]
    for mode in ("auto", "none"):
        np.testing.assert_allclose(client.encode([pixels], preprocess=mode)[0], direct, atol=1e-5)


def test_encode_gives_the_latents_classify_gives(client: Client, digit_pngs: list[bytes]) -> None:
    latents = client.encode(digit_pngs)
    np.testing.assert_allclose(latents, [prediction.latent for prediction in client.classify(digit_pngs)], atol=1e-6)
    assert [int(np.argmax(latent)) for latent in latents] == list(range(10))


def test_preprocess_none_takes_a_28x28_file_as_it_is(client: Client, digit_pngs: list[bytes]) -> None:
    as_file = client.encode([digit_pngs[8]], preprocess="none")[0]
    as_array = client.encode([pixels_of(digit_pngs[8])])[0]
    np.testing.assert_allclose(as_file, as_array, atol=1e-5)
    assert client.encode([digit_pngs[8]], preprocess="auto")[0] != as_file, "auto recentres and rescales"


def test_no_images_means_no_request(client: Client) -> None:
    assert client.classify([]) == [] and client.encode([]) == [] and client.decode([]) == []


def test_decode_matches_the_services_own_png(client: Client, service_url: str) -> None:
    latent = [0, 0, 0, 2.5, 0, 0, 0, 0, 0.5, 0]
    (image,) = client.decode([latent], scale=4)
    direct = httpx.post(
        f"{service_url}/decode?scale=4", json={"latents": [latent]}, headers={"Accept": "image/png"}
    ).content
    assert image.size == (112, 112) and image.mode == "L"
    assert np.array_equal(np.asarray(image), np.asarray(Image.open(io.BytesIO(direct))))
    plain = client.decode([latent, [0] * 10])
    assert [picture.size for picture in plain] == [(28, 28), (28, 28)]
    assert np.asarray(plain[1]).max() < np.asarray(plain[0]).max(), "an all-zero latent decodes to (near) blank"


def test_decode_takes_a_numpy_array_of_latents(client: Client) -> None:
    latents = 2 * np.eye(10)[[1, 4]]
    assert [np.asarray(image).tolist() for image in client.decode(latents)] == [
        np.asarray(image).tolist() for image in client.decode(latents.tolist())
    ]


def test_sample_is_typed_repeatable_and_keeps_the_digit(client: Client) -> None:
    drawn = client.sample(digit=3, n=5, seed=11)
    assert isinstance(drawn, Sample) and drawn.digits == [3] * 5
    assert len(drawn.latents) == 5 and all(len(latent) == 10 for latent in drawn.latents)
    assert [image.size for image in drawn.images] == [(28, 28)] * 5
    again = client.sample(digit=3, n=5, seed=11)
    assert again.latents == drawn.latents
    assert [np.asarray(image).tolist() for image in again.images] == [np.asarray(i).tolist() for i in drawn.images]
    assert client.sample(digit=3, n=5, seed=12).latents != drawn.latents
    assert drawn.grid().size == (3 * 28 + 2 * 2, 2 * 28 + 2)
    assert len(client.sample().digits) == 1


def test_model_card_is_the_committed_models(client: Client) -> None:
    card = client.model_card()
    committed = json.loads(MODEL.with_suffix(".json").read_text())
    assert card["sha256"] == committed["sha256"] and card["name"] == committed["name"]


def test_ready(client: Client) -> None:
    assert client.ready() is True


def test_defaults_come_from_the_environment(service_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTED_VAE_URL", service_url + "/")
    monkeypatch.setenv("ROUTED_VAE_API_KEY", "key-from-env")
    with Client() as from_env:
        assert from_env.config.base_url == service_url and from_env.config.api_key == "key-from-env"
        assert from_env.classify([SEVEN])[0].digit == 7, "the service accepts the Authorization header"
    with Client(api_key="explicit") as explicit:
        assert explicit.config.api_key == "explicit"


def test_a_single_image_or_latent_passed_bare_is_refused(client: Client) -> None:
    with pytest.raises(TypeError, match="list of images"):
        client.classify(SEVEN)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list of images"):
        client.classify(np.zeros((28, 28), np.uint8))
    with pytest.raises(TypeError, match="list of latents"):
        client.decode([0, 0, 3, 0, 0, 0, 0, 0, 0, 0])  # type: ignore[list-item]
