"""Error answers become RoutedVAEError with the service's status, code and message; no service, a connection error."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from routed_vae_client import AsyncClient, Client, RoutedVAEConnectionError, RoutedVAEError
from routed_vae_client.errors import error_from_response
from tests.client.live import SEVEN

LATENT = [0, 0, 3, 0, 0, 0, 0, 0, 0, 0]
CALLS: dict[str, Callable[[Any], Any]] = {
    "classify": lambda client: client.classify([SEVEN]),
    "encode": lambda client: client.encode([SEVEN]),
    "decode": lambda client: client.decode([LATENT]),
    "sample": lambda client: client.sample(digit=1),
    "model_card": lambda client: client.model_card(),
}


def raised(call: Callable[[], object]) -> RoutedVAEError:
    with pytest.raises(RoutedVAEError) as caught:
        call()
    return caught.value


def test_unreadable_image(client: Client) -> None:
    error = raised(lambda: client.classify([b"not an image"]))
    assert (error.status, error.code) == (415, "unsupported_image")
    assert error.message.startswith("Image 0: Not a readable image") and str(error).startswith("415 unsupported_image")


def test_validation_errors_keep_their_details(client: Client) -> None:
    error = raised(lambda: client.encode([SEVEN], preprocess="sideways"))
    assert (error.status, error.code) == (422, "validation_error")
    assert error.details == [{"loc": ["query", "preprocess"], "msg": "Input should be 'auto' or 'none'"}]
    error = raised(lambda: client.decode([[11] * 10]))
    assert (error.status, error.code) == (422, "validation_error") and error.details
    error = raised(lambda: client.sample(n=65))
    assert error.status == 422 and error.details[0]["loc"] == ["body", "n"]
    assert raised(lambda: client.decode([LATENT], scale=21)).code == "validation_error"


def test_preprocess_none_refuses_other_sizes(client: Client) -> None:
    error = raised(lambda: client.classify([SEVEN], preprocess="none"))
    assert (error.status, error.code) == (422, "wrong_image_size") and "112x112" in error.message


def test_a_failure_in_a_later_request_says_which_images(client: Client, digit_pngs: list[bytes]) -> None:
    images: list[bytes] = [digit_pngs[index % 10] for index in range(300)]
    images[280] = b"GIF89a broken"
    error = raised(lambda: client.classify(images))
    assert error.code in ("corrupt_image", "unsupported_image")
    assert error.message.startswith("Image 24: ") and error.message.endswith("(images 256-299 of 300)")


def test_wrong_path_is_the_services_404(service_url: str) -> None:
    with Client(service_url + "/v9") as client:
        error = raised(client.model_card)
    assert (error.status, error.code) == (404, "not_found") and "/v9/v1/model" in error.message


@pytest.mark.parametrize("method", sorted(CALLS))
def test_service_down_is_a_connection_error_naming_the_url(dead_url: str, method: str) -> None:
    with Client(dead_url) as client, pytest.raises(RoutedVAEConnectionError) as caught:
        CALLS[method](client)
    error = caught.value
    assert isinstance(error, RoutedVAEError) and error.status is None and error.code == "connection_error"
    assert dead_url in error.message and dead_url in str(error) and error.url.startswith(dead_url)


def test_service_down_async_and_ready(dead_url: str) -> None:
    async def check() -> None:
        async with AsyncClient(dead_url) as client:
            assert await client.ready() is False
            with pytest.raises(RoutedVAEConnectionError, match=dead_url):
                await client.classify([SEVEN])

    asyncio.run(check())
    with Client(dead_url) as client:
        assert client.ready() is False


def test_no_answer_within_the_timeout_is_a_connection_error() -> None:
    """A listening socket that never answers: the request times out instead of hanging."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with Client(url, timeout=0.3) as client, pytest.raises(RoutedVAEConnectionError, match="no answer in time"):
            client.model_card()


def test_an_answer_not_in_the_error_shape_keeps_its_status() -> None:
    request = httpx.Request("GET", "http://127.0.0.1/v1/model")
    error = error_from_response(httpx.Response(502, text="<html>Bad gateway</html>", request=request))
    assert (error.status, error.code, error.message) == (502, "http_502", "<html>Bad gateway</html>")
    error = error_from_response(httpx.Response(500, json={"detail": "x"}, request=request))
    assert (error.status, error.code) == (500, "http_500")


def test_bad_settings_are_refused_before_any_request() -> None:
    for settings in ({"base_url": "127.0.0.1:8000"}, {"timeout": 0}, {"retries": -1}, {"batch_size": 257}):
        with pytest.raises(ValueError):
            Client(**settings)  # type: ignore[arg-type]
