"""Testing the client against a live service: start one, read its metrics, run the command line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.service.live_server import free_port, start_service, wait_ready

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "routed-vae.pt"
CLIENT_SOURCE = ROOT / "client" / "src"
SEVEN = ROOT / "docs" / "seven.png"


def serve(extra_env: dict[str, str]) -> Iterator[str]:
    """A real `python -m service` with the committed model and ``extra_env`` set; yields its URL, then stops it."""
    port = free_port()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in extra_env.items():
            patch.setenv(name, value)
        process = start_service(MODEL, port, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, timeout=60)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def counter(url: str, sample: str) -> float:
    """The value of one Prometheus sample line of the service, e.g. a request counter; 0 before it exists."""
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def requests_counted(url: str, path: str, status: int = 200) -> float:
    """How many POSTs to ``path`` the service has answered with ``status``."""
    return counter(url, f'routed_vae_requests_total{{endpoint="{path}",method="POST",status="{status}"}}')


def png_of(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def pixels_of(png: bytes) -> np.ndarray:
    """A PNG as a 28x28 uint8 array."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


def cli_env(**variables: str) -> dict[str, str]:
    """The environment for running the command line from this checkout, with no ROUTED_VAE_* leaking in."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ROUTED_VAE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CLIENT_SOURCE), os.environ.get("PYTHONPATH")]))
    return {**env, **variables}


def run_cli(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """`routed-vae ARGS` as a separate process (``python -m routed_vae_client``), output captured."""
    command = [sys.executable, "-m", "routed_vae_client", *args]
    return subprocess.run(command, capture_output=True, text=True, env=cli_env(**variables), timeout=120)


def dead_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"
