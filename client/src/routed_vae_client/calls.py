"""The request-building core both clients share: what each method sends, and how answers become results.

Nothing here does I/O. A method is a Plan: the Calls to send (one per chunk of at most 256 images or
latents) and a function that turns their answers, in order, into the method's result. Client and
AsyncClient only send the Calls.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
from PIL import Image

from routed_vae_client.config import MAX_REQUEST_BYTES, ClientConfig
from routed_vae_client.errors import RoutedVAEError, error_from_response
from routed_vae_client.inputs import ImageInput, ImageItem, chunked, to_items
from routed_vae_client.results import Prediction, Sample, png_to_image

ResultT = TypeVar("ResultT")
ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Call:
    """One HTTP request, independent of transport; ``note`` says which part of a split call it is."""

    method: str
    path: str
    params: dict[str, str | int] = field(default_factory=dict)
    json: Any = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None
    note: str = ""

    def request_arguments(self) -> dict[str, Any]:
        """Keyword arguments for httpx's ``build_request`` (the same on the sync and async clients)."""
        return {"method": self.method, "url": self.path, "params": self.params, "json": self.json, "files": self.files}


@dataclass(frozen=True)
class Plan(Generic[ResultT]):
    """The Calls one method makes, and how their successful responses combine into its result."""

    calls: list[Call]
    finish: Callable[[list[httpx.Response]], ResultT]


READY = Call("GET", "/readyz")


def checked(call: Call, response: httpx.Response) -> httpx.Response:
    """The response when it succeeded; otherwise its RoutedVAEError, saying which part of a split call failed."""
    if response.is_success:
        return response
    error = error_from_response(response)
    if call.note:
        error = RoutedVAEError(error.status, error.code, f"{error.message} ({call.note})", error.details)
    raise error


def json_lists(response: httpx.Response, keys: Sequence[str], expected: int) -> list[list[Any]]:
    """``response.json()[key]`` for each key; each must hold one entry per image, latent or sample asked for."""
    try:
        body = response.json()
        lists = [body[key] for key in keys]
    except (ValueError, KeyError, TypeError) as error:
        raise RoutedVAEError(response.status_code, "invalid_response", f"the answer lacks one of {keys}") from error
    if not all(isinstance(values, list) and len(values) == expected for values in lists):
        raise RoutedVAEError(response.status_code, "invalid_response", f"expected {expected} of each of {keys}")
    return lists


def split_note(noun: str, offset: int, count: int, total: int, chunks: int) -> str:
    """Which part of a split call a request is, e.g. "images 256-511 of 600"; empty when there is no split."""
    return f"{noun} {offset}-{offset + count - 1} of {total}" if chunks > 1 else ""


def image_call(path: str, items: list[ImageItem], preprocess: str, note: str) -> Call:
    """Multipart when every image is a file (the service's fast path), else JSON, where arrays go as pixels."""
    params: dict[str, str | int] = {"preprocess": preprocess}
    files = [
        ("file", (f"image-{index}", item.file, "application/octet-stream"))
        for index, item in enumerate(items)
        if item.file is not None
    ]
    if len(files) == len(items):
        return Call("POST", path, params, files=files, note=note)
    return Call("POST", path, params, json={"images": [item.json_value() for item in items]}, note=note)


def image_plan(
    path: str,
    key: str,
    images: Iterable[ImageInput],
    preprocess: str,
    config: ClientConfig,
    parse: Callable[[Any], ItemT],
) -> Plan[list[ItemT]]:
    """Images split into requests of at most ``batch_size`` (and about 12 MiB); results keep the input order."""
    items = to_items(images)
    chunks = list(chunked(items, config.batch_size, MAX_REQUEST_BYTES))
    calls = [
        image_call(path, chunk, preprocess, split_note("images", offset, len(chunk), len(items), len(chunks)))
        for offset, chunk in chunks
    ]
    sizes = [len(chunk) for _, chunk in chunks]

    def finish(responses: list[httpx.Response]) -> list[ItemT]:
        return [
            parse(value)
            for response, size in zip(responses, sizes, strict=True)
            for value in json_lists(response, [key], size)[0]
        ]

    return Plan(calls, finish)


def classify_plan(images: Iterable[ImageInput], preprocess: str, config: ClientConfig) -> Plan[list[Prediction]]:
    """POST /classify in as many requests as the images need."""
    return image_plan("/classify", "predictions", images, preprocess, config, Prediction.from_json)


def encode_plan(images: Iterable[ImageInput], preprocess: str, config: ClientConfig) -> Plan[list[list[float]]]:
    """POST /encode in as many requests as the images need."""
    return image_plan("/encode", "latents", images, preprocess, config, lambda latent: [float(x) for x in latent])


def latent_rows(latents: Iterable[Sequence[float]]) -> list[list[float]]:
    """Latents as lists of floats; a single latent passed bare is refused with a clear message."""
    values = list(latents)
    if values and isinstance(values[0], numbers.Number):
        raise TypeError("pass a list of latents (one latent is [latent])")
    return [[float(value) for value in latent] for latent in values]


def decode_plan(latents: Iterable[Sequence[float]], scale: int, config: ClientConfig) -> Plan[list[Image.Image]]:
    """Latents split into requests of at most ``batch_size``; images enlarged ``scale`` times, as the service does."""
    rows = latent_rows(latents)
    starts = range(0, len(rows), config.batch_size)
    chunks = [rows[start : start + config.batch_size] for start in starts]
    calls = [
        Call(
            "POST",
            "/decode",
            {"scale": scale},
            json={"latents": chunk},
            note=split_note("latents", start, len(chunk), len(rows), len(chunks)),
        )
        for start, chunk in zip(starts, chunks, strict=True)
    ]

    def finish(responses: list[httpx.Response]) -> list[Image.Image]:
        return [
            png_to_image(text, scale)
            for response, chunk in zip(responses, chunks, strict=True)
            for text in json_lists(response, ["images"], len(chunk))[0]
        ]

    return Plan(calls, finish)


def sample_plan(digit: int | None, n: int, seed: int | None) -> Plan[Sample]:
    """One /sample request; ``digit`` and ``seed`` are sent only when given."""
    body: dict[str, int] = {"n": n}
    if digit is not None:
        body["digit"] = digit
    if seed is not None:
        body["seed"] = seed

    def finish(responses: list[httpx.Response]) -> Sample:
        (response,) = responses
        digits, latents, images = json_lists(response, ["digits", "latents", "images"], n)
        return Sample(
            [int(digit) for digit in digits],
            [[float(x) for x in latent] for latent in latents],
            [png_to_image(text) for text in images],
        )

    return Plan([Call("POST", "/sample", json=body)], finish)


def model_card_plan() -> Plan[dict[str, Any]]:
    """One GET /v1/model; the card as the service sends it."""

    def finish(responses: list[httpx.Response]) -> dict[str, Any]:
        card: dict[str, Any] = responses[0].json()
        return card

    return Plan([Call("GET", "/v1/model")], finish)
