"""Where the service is and how to talk to it: explicit arguments first, then ROUTED_VAE_* variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from routed_vae_client.version import __version__

DEFAULT_URL = "http://127.0.0.1:8000"
URL_VARIABLE = "ROUTED_VAE_URL"
API_KEY_VARIABLE = "ROUTED_VAE_API_KEY"
# The service's limit of images (and latents) per request.
MAX_BATCH = 256
# Requests are also split so that their bodies stay under this many bytes (the service's default
# limit is 20 MiB), so a few hundred large photos do not meet a 413.
MAX_REQUEST_BYTES = 12 * 1024 * 1024


@dataclass(frozen=True)
class ClientConfig:
    """Settings shared by Client and AsyncClient, checked once."""

    base_url: str
    api_key: str | None
    timeout: float
    retries: int
    batch_size: int

    @classmethod
    def resolve(
        cls, base_url: str | None, api_key: str | None, timeout: float, retries: int, batch_size: int
    ) -> ClientConfig:
        """Arguments win over ROUTED_VAE_URL / ROUTED_VAE_API_KEY; the URL defaults to 127.0.0.1:8000."""
        url = (base_url or os.environ.get(URL_VARIABLE) or DEFAULT_URL).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the service URL must start with http:// or https://, got {url!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive seconds, got {timeout}")
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, got {retries}")
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1 to {MAX_BATCH}, got {batch_size}")
        key = api_key if api_key is not None else os.environ.get(API_KEY_VARIABLE) or None
        return cls(url, key, float(timeout), int(retries), int(batch_size))

    def headers(self, version: str) -> dict[str, str]:
        """Headers sent with every request; ``Authorization: Bearer`` only when there is a key."""
        headers = {"Accept": "application/json", "User-Agent": f"routed-vae-client/{version}"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


class ClientBase:
    """What Client and AsyncClient share; they differ only in their httpx transport.

    ``base_url`` defaults to ROUTED_VAE_URL, else http://127.0.0.1:8000; ``api_key`` to ROUTED_VAE_API_KEY.
    A 503 or 429 is retried after its Retry-After, at most ``retries`` times and never past ``timeout``
    seconds from the request's start; ``timeout`` also bounds each request.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        *,
        batch_size: int = MAX_BATCH,
    ) -> None:
        self.config = ClientConfig.resolve(base_url, api_key, timeout, retries, batch_size)
        self._open_transport()

    def _open_transport(self) -> None:
        """Creates the subclass's httpx client from ``http_options()``."""
        raise NotImplementedError

    def http_options(self) -> dict[str, Any]:
        """Keyword arguments for httpx.Client or httpx.AsyncClient."""
        return {
            "base_url": self.config.base_url,
            "headers": self.config.headers(__version__),
            "timeout": self.config.timeout,
        }
