"""Fixtures: one live service with the committed model for the whole test run, a client of it, digit pictures."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image

from routed_vae_client import Client
from tests.client import live


@pytest.fixture(scope="session")
def service_url() -> Iterator[str]:
    yield from live.serve({})


@pytest.fixture
def client(service_url: str) -> Iterator[Client]:
    with Client(service_url) as live_client:
        yield live_client


@pytest.fixture
def dead_url() -> str:
    return live.dead_url()


@pytest.fixture(scope="session")
def digit_pngs(service_url: str) -> list[bytes]:
    """Ten clear digit pictures, 0 to 9: the service's own decodings of 3 * e_k, as 28x28 PNG files."""
    response = httpx.post(f"{service_url}/decode", json={"latents": (3 * np.eye(10)).tolist()})
    response.raise_for_status()
    return [live.png_of(Image.open(io.BytesIO(base64.b64decode(text)))) for text in response.json()["images"]]
