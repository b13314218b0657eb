"""SIGTERM while requests are in flight: they finish, then the process exits cleanly."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.service.conftest import png_bytes
from tests.service.live_server import free_port, start_service, wait_ready

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_sigterm_lets_in_flight_requests_finish(tiny_model_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_service(tiny_model_path, port)
    try:
        wait_ready(url)
        # Large pictures make each request take a noticeable time (decoding + preprocessing 64 of them).
        picture = Image.new("L", (1500, 1500), 255)
        picture.paste(0, (600, 300, 800, 1200))
        files = [("file", (f"{i}.png", png_bytes(picture), "image/png")) for i in range(64)]
        results: list[int] = []

        def post() -> None:
            response = httpx.post(f"{url}/classify", files=files, timeout=60)
            results.append(response.status_code)

        threads = [threading.Thread(target=post) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # the requests are being processed now
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(httpx.ConnectError):  # new connections are refused while the others finish
            httpx.get(f"{url}/healthz", timeout=5)
        for thread in threads:
            thread.join(timeout=60)
        assert results == [200, 200, 200, 200]
        # With no drain period (the default) shutdown starts at once, and a clean stop exits 0.
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("damage", ["missing", "tampered", "no_card", "corrupt"])
def test_bad_model_stops_startup_with_clear_message(tiny_model_path: Path, tmp_path: Path, damage: str) -> None:
    model = tmp_path / "model.pt"
    card = tmp_path / "model.json"
    if damage != "missing":
        data = bytearray(tiny_model_path.read_bytes())
        if damage == "tampered":
            data[len(data) // 2] ^= 0xFF
        model.write_bytes(bytes(data))
    if damage == "corrupt":  # not a TorchScript archive, although its card's sha256 matches it
        model.write_bytes(b"not a model")
        card.write_text(json.dumps({"sha256": hashlib.sha256(b"not a model").hexdigest()}))
    elif damage != "no_card":
        card.write_bytes(tiny_model_path.with_suffix(".json").read_bytes())
    process = start_service(model, free_port())
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    message = stderr.decode()
    expected = {
        "missing": "not found",
        "tampered": "refusing to load it",
        "no_card": "model card",
        "corrupt": "could not be loaded",
    }[damage]
    assert "cannot start" in message and expected in message, message


def test_bad_setting_stops_startup_naming_the_variable() -> None:
    env = {**os.environ, "ROUTED_VAE_DECODER_WEIGHTS": "fp16", "ROUTED_VAE_WORKERS": "0"}
    finished = subprocess.run(
        [sys.executable, "-m", "service"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 2
    assert finished.stderr.startswith("error: cannot start: "), finished.stderr
    assert "ROUTED_VAE_DECODER_WEIGHTS='fp16': Input should be 'float16' or 'float32'" in finished.stderr
    assert "ROUTED_VAE_WORKERS='0': Input should be greater than or equal to 1" in finished.stderr
    assert "Traceback" not in finished.stderr
