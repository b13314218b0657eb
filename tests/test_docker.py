"""`docker compose up` end to end: build, start, healthy, classify, decode, the CLI, hardened container, down."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.client.live import SEVEN, run_cli

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parent.parent
URL = "http://127.0.0.1:8000"
PROJECT = "routedvaetest"


def compose_command() -> list[str]:
    """`docker compose` (v2) where available, else Debian's `docker-compose` (v1.29)."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose", "-p", PROJECT]
    if shutil.which("docker-compose"):
        return ["docker-compose", "-p", PROJECT]
    pytest.skip("neither `docker compose` nor `docker-compose` is installed")


def docker_client() -> object:
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env()
        client.ping()
    except Exception as error:  # no daemon: say why and skip
        pytest.skip(f"no Docker daemon is reachable: {error}")
    return client


def build_image() -> None:
    """The offline build where the base image cannot be pulled (as here), else compose's build."""
    pulled = subprocess.run(["docker", "pull", "python:3.11-slim"], capture_output=True).returncode == 0
    command = [*compose_command(), "build"] if pulled else [str(ROOT / "scripts" / "docker-build-offline.sh")]
    subprocess.run(command, cwd=ROOT, check=True, timeout=1800)


def wait_until_healthy(timeout: float) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            if urllib.request.urlopen(f"{URL}/readyz", timeout=1).status == 200:
                return time.monotonic() - began
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"service not ready within {timeout} s")


@pytest.fixture(scope="module")
def running() -> Iterator[object]:
    client = docker_client()
    build_image()
    compose = compose_command()
    subprocess.run([*compose, "up", "-d"], cwd=ROOT, check=True, timeout=300)
    try:
        print(f"ready {wait_until_healthy(120):.1f} s after compose up -d")
        yield client
    finally:
        subprocess.run([*compose, "logs", "--no-color"], cwd=ROOT, timeout=60)
        subprocess.run([*compose, "down"], cwd=ROOT, timeout=120)


def post(path: str, body: bytes, content_type: str, accept: str = "application/json") -> tuple[int, bytes, str]:
    request = urllib.request.Request(
        f"{URL}{path}", data=body, headers={"Content-Type": content_type, "Accept": accept}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read(), response.headers.get("Content-Type", "")


def multipart_png(data: bytes) -> tuple[bytes, str]:
    boundary = "routedvaeboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="d.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_classify_an_mnist_png(running: object) -> None:
    from training.data import load_mnist

    test = load_mnist().test
    right = 0
    for index in range(10):
        buffer = io.BytesIO()
        Image.fromarray(test.images[index]).save(buffer, format="PNG")
        status, body, _ = post("/classify", *multipart_png(buffer.getvalue()))
        assert status == 200
        right += int(json.loads(body)["predictions"][0]["digit"] == int(test.labels[index]))
    assert right >= 8


def test_decode_a_latent_to_png(running: object) -> None:
    latent = json.dumps({"latents": [[0, 0, 0, 2, 0, 0, 0, 0, 0, 0]]}).encode()
    status, body, content_type = post("/decode", latent, "application/json", accept="image/png")
    assert status == 200 and content_type == "image/png"
    assert Image.open(io.BytesIO(body)).size == (28, 28)


def test_command_line_client(running: object, tmp_path: Path) -> None:
    """The `routed-vae` command line (client/) against the container."""
    classify = run_cli("classify", str(SEVEN), ROUTED_VAE_URL=URL)
    assert classify.returncode == 0 and classify.stdout.split("\t")[:2] == [str(SEVEN), "7"], classify.stderr
    sample = run_cli(
        "sample", "--digit", "2", "-n", "4", "--seed", "0", "-o", str(tmp_path / "grid.png"), ROUTED_VAE_URL=URL
    )
    assert sample.returncode == 0 and sample.stdout == "2 2 2 2\n", sample.stderr
    assert Image.open(tmp_path / "grid.png").size == (58, 58)


def test_container_is_hardened(running: object) -> None:
    containers = running.containers.list(filters={"label": f"com.docker.compose.project={PROJECT}"})  # type: ignore[attr-defined]
    assert len(containers) == 1
    container = containers[0]
    config = container.attrs["HostConfig"]
    assert config["ReadonlyRootfs"] is True
    assert config["CapDrop"] == ["ALL"] or "ALL" in config["CapDrop"]
    assert any("no-new-privileges" in option for option in config["SecurityOpt"])
    assert config["Memory"] > 0 and config["PidsLimit"] > 0
    user = container.exec_run("id -u").output.decode().strip()
    assert user != "0", "runs as non-root"
    write = container.exec_run("touch /app/x")
    assert write.exit_code != 0, "root filesystem is read-only"
    assert container.exec_run("touch /tmp/x").exit_code == 0, "/tmp is a writable tmpfs"
