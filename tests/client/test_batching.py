"""More than 256 images or latents: split into several requests, results in input order."""

from __future__ import annotations

import numpy as np

from routed_vae_client import Client
from routed_vae_client.inputs import ImageItem, chunked
from tests.client.live import pixels_of, requests_counted

COUNT = 600
ORDER = [(index * 7 + index // 10) % 10 for index in range(COUNT)]  # every digit, no run of equal neighbours


def test_600_files_make_three_requests_in_order(client: Client, service_url: str, digit_pngs: list[bytes]) -> None:
    expected = client.encode(digit_pngs)
    before = requests_counted(service_url, "/classify")
    predictions = client.classify([digit_pngs[digit] for digit in ORDER])
    assert requests_counted(service_url, "/classify") - before == 3, "256 + 256 + 88"
    assert len(predictions) == COUNT
    np.testing.assert_allclose([p.latent for p in predictions], [expected[digit] for digit in ORDER], atol=1e-5)
    assert [p.digit for p in predictions] == ORDER


def test_600_mixed_images_split_by_batch_size(service_url: str, digit_pngs: list[bytes]) -> None:
    """Arrays send the request as JSON; ``batch_size`` lowers the split point."""
    arrays = [pixels_of(png) for png in digit_pngs]
    images = [arrays[digit] if index % 2 else digit_pngs[digit] for index, digit in enumerate(ORDER)]
    before = requests_counted(service_url, "/encode")
    with Client(service_url, batch_size=100) as client:
        latents = client.encode(images, preprocess="none")
        expected = client.encode(arrays)
    assert requests_counted(service_url, "/encode") - before == 6 + 1
    np.testing.assert_allclose(latents, [expected[digit] for digit in ORDER], atol=1e-5)


def test_300_latents_decode_in_two_requests(client: Client, service_url: str) -> None:
    latents = [(3 * np.eye(10))[index % 10].tolist() for index in range(300)]
    before = requests_counted(service_url, "/decode")
    images = client.decode(latents)
    assert requests_counted(service_url, "/decode") - before == 2
    reference = [np.asarray(image) for image in client.decode(latents[:10])]
    for index, image in enumerate(images):
        assert np.abs(np.asarray(image).astype(int) - reference[index % 10]).max() <= 1


def test_chunks_keep_to_the_count_and_the_byte_budget() -> None:
    items = [ImageItem(file=bytes(size)) for size in (30, 30, 30, 90, 300, 3, 3, 3, 3)]
    runs = [(offset, [len(item.file or b"") for item in chunk]) for offset, chunk in chunked(items, 3, 100)]
    # Sizes count as base64 (4/3 + 4): 30 -> 44, 90 -> 124 (over the budget: alone), 3 -> 8.
    assert runs == [(0, [30, 30]), (2, [30]), (3, [90]), (4, [300]), (5, [3, 3, 3]), (8, [3])]
