"""A client over the app with the tiny model loaded (lifespan runs inside the `with`)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from service.config import Settings
from service.main import create_app


@pytest.fixture
def settings(tiny_model_path: Path) -> Settings:
    return Settings(model_path=tiny_model_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def digit_png(size: int = 28) -> bytes:
    """A white vertical bar on black: a crude '1' in MNIST form."""
    image = Image.new("L", (size, size), 0)
    for y in range(size // 5, size - size // 5):
        for x in range(size // 2 - 2, size // 2 + 2):
            image.putpixel((x, y), 255)
    return png_bytes(image)


def assert_error(response: object, status: int, code: str) -> dict[str, object]:
    """The one documented error shape, with the exact status and code."""
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


@contextmanager
def without_fbgemm() -> Iterator[None]:
    """torch's quantized engine set to QNNPACK, what arm64 builds have: no float16 packing."""
    engine = torch.backends.quantized.engine
    torch.backends.quantized.engine = "qnnpack"
    try:
        yield
    finally:
        torch.backends.quantized.engine = engine
