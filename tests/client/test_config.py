"""Client settings: arguments over environment variables, and the Authorization header."""

from __future__ import annotations

import socket
import threading

import pytest

from routed_vae_client import Client
from routed_vae_client.config import ClientConfig


def resolve(base_url: str | None = None, api_key: str | None = None) -> ClientConfig:
    return ClientConfig.resolve(base_url, api_key, timeout=30, retries=3, batch_size=256)


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUTED_VAE_URL", raising=False)
    monkeypatch.delenv("ROUTED_VAE_API_KEY", raising=False)
    config = resolve()
    assert (config.base_url, config.api_key) == ("http://127.0.0.1:8000", None)
    assert "Authorization" not in config.headers("0.1.0")


def test_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTED_VAE_URL", "http://env.example:1")
    monkeypatch.setenv("ROUTED_VAE_API_KEY", "from-env")
    assert (resolve().base_url, resolve().api_key) == ("http://env.example:1", "from-env")
    explicit = resolve("https://arg.example/", "from-arg")
    assert (explicit.base_url, explicit.api_key) == ("https://arg.example", "from-arg")


def test_api_key_is_sent_as_a_bearer_token() -> None:
    headers = resolve(api_key="s3cret").headers("0.1.0")
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["User-Agent"] == "routed-vae-client/0.1.0"


def test_the_key_travels_in_the_request_headers() -> None:
    """What the client puts on the wire, read by a bare socket standing in for the service."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        received: list[bytes] = []

        def answer_once() -> None:
            connection, _ = listener.accept()
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(4096)
                received.append(data)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")

        thread = threading.Thread(target=answer_once)
        thread.start()
        with Client(f"http://127.0.0.1:{listener.getsockname()[1]}", api_key="s3cret") as client:
            assert client.model_card() == {}
        thread.join(timeout=10)
    headers = received[0].decode("latin-1").split("\r\n")
    assert "Authorization: Bearer s3cret" in [line for line in headers if line.lower().startswith("authorization")]
