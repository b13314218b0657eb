"""A live server with the tiny model for the v2 tests, MNIST test digits as inputs, and the v2 error check."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.service.live_server import serving

SAMPLES = Path(__file__).resolve().parents[3] / "service" / "static" / "mnist-samples.json"


@pytest.fixture(scope="session")
def live_url(tiny_model_path: Path) -> Iterator[str]:
    """The URL of a real `python -m service` process serving the tiny model."""
    with serving(tiny_model_path) as url:
        yield url


def mnist_digits(count: int) -> np.ndarray:
    """(count, 28, 28) uint8 MNIST test digits bundled with the demo page."""
    samples = json.loads(SAMPLES.read_text())
    return np.stack(
        [np.frombuffer(base64.b64decode(text), dtype=np.uint8).reshape(28, 28) for text in samples["pixels"][:count]]
    )


def png_file(pixels: np.ndarray, scale: int = 1) -> bytes:
    """A PNG of uint8 pixels, upscaled by nearest neighbour."""
    image = Image.fromarray(pixels)
    if scale > 1:
        image = image.resize((28 * scale, 28 * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def assert_protocol_error(response: object, status: int) -> str:
    """The protocol's error shape, {"error": "<message>"}, with the exact status."""
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"], body
    return str(body["error"])
