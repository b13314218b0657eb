"""Start `python -m service` as a real process on a free loopback port and wait until it is ready."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_service(
    model: Path, port: int, stderr: int | None = subprocess.PIPE, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``env``: extra ROUTED_VAE_* settings for this server."""
    env = {**os.environ, **(env or {}), "ROUTED_VAE_PORT": str(port), "ROUTED_VAE_MODEL_PATH": str(model)}
    return subprocess.Popen([sys.executable, "-m", "service"], env=env, stderr=stderr)


def wait_ready(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/readyz", timeout=1).status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"service at {url} was not ready within {timeout} s")


@contextmanager
def serving(model: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """The URL of a ready `python -m service` process (``env``: extra settings), stopped afterwards."""
    port = free_port()
    process = start_service(model, port, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
