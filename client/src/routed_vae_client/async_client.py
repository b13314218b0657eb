"""The asyncio client: sends the shared core's Calls with httpx.AsyncClient."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx
from PIL import Image

from routed_vae_client import calls
from routed_vae_client.calls import Call, Plan
from routed_vae_client.config import ClientBase
from routed_vae_client.errors import RoutedVAEConnectionError, connection_error
from routed_vae_client.inputs import ImageInput
from routed_vae_client.results import Prediction, Sample
from routed_vae_client.retrying import RetryBudget

ResultT = TypeVar("ResultT")


class AsyncClient(ClientBase):
    """The routed-vae service from asyncio code, e.g. ``(await AsyncClient().classify(["7.png"]))[0].digit``."""

    def _open_transport(self) -> None:
        self._http = httpx.AsyncClient(**self.http_options())

    async def classify(self, images: Iterable[ImageInput], preprocess: str = "auto") -> list[Prediction]:
        """Digit, confidence and latent per image, e.g. ``(await client.classify(["seven.png"]))[0].digit == 7``."""
        return await self._run(calls.classify_plan(images, preprocess, self.config))

    async def encode(self, images: Iterable[ImageInput], preprocess: str = "auto") -> list[list[float]]:
        """The 10-dimensional latent of each image, e.g. ``(await client.encode([pixels]))[0][7]``."""
        return await self._run(calls.encode_plan(images, preprocess, self.config))

    async def decode(self, latents: Iterable[Sequence[float]], scale: int = 1) -> list[Image.Image]:
        """A 28x28 image per latent (``scale`` times larger), e.g. ``await client.decode([[0, 0, 3] + [0] * 7])``."""
        return await self._run(calls.decode_plan(latents, scale, self.config))

    async def sample(self, digit: int | None = None, n: int = 1, seed: int | None = None) -> Sample:
        """``n`` plausible digits (of ``digit`` if set), e.g. ``(await client.sample(digit=3, n=8, seed=0)).images``."""
        return await self._run(calls.sample_plan(digit, n, seed))

    async def model_card(self) -> dict[str, Any]:
        """The model card (identity, sha256, metrics, latents), e.g. ``(await client.model_card())["sha256"]``."""
        return await self._run(calls.model_card_plan())

    async def ready(self) -> bool:
        """True once the model is loaded; False while it loads or when unreachable, e.g. ``await client.ready()``."""
        try:
            return (await self._exchange(calls.READY)).status_code == 200
        except RoutedVAEConnectionError:
            return False

    async def aclose(self) -> None:
        """Close the connections, e.g. ``await client.aclose()`` (``async with AsyncClient()`` does it)."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _run(self, plan: Plan[ResultT]) -> ResultT:
        return plan.finish([await self._send(call) for call in plan.calls])

    async def _send(self, call: Call) -> httpx.Response:
        """The call's successful response, after retries the budget allows; else its error raised."""
        budget = RetryBudget(self.config.retries, self.config.timeout)
        while True:
            response = await self._exchange(call)
            wait = budget.delay(response.status_code, response.headers.get("Retry-After"))
            if wait is None:
                return calls.checked(call, response)
            await asyncio.sleep(wait)

    async def _exchange(self, call: Call) -> httpx.Response:
        request = self._http.build_request(**call.request_arguments())
        try:
            return await self._http.send(request)
        except httpx.TransportError as error:
            raise connection_error(request, error) from error
