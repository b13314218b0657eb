"""The image endpoints, /classify, /encode and /preprocess: plain Starlette routes that translate only.

They run once per image request under load, so they are added with ``app.add_route`` (a public Starlette
API) rather than as FastAPI routes: no dependency resolution or parameter validation per request, about
0.1 ms saved on this CPU, as much as a micro-batched encode of one image. service/openapi.py documents
them in /docs; errors they raise reach the app's exception handlers like any route's.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from service.app_state import count_images, inference_of, limits_of
from service.endpoints import CLASSIFY, ENCODE, PREPROCESS
from service.errors import schema_mismatch
from service.images import PREPROCESS_MODES
from service.inference import Classification, classify_latents
from service.requests import PICTURES, PNG_ROWS, SIZED_PICTURES, raise_first_refusal, read_images
from service.responses import encode_pngs, json_field_response, json_response
from service.schemas import ClassifyResponse, EncodeResponse, ImagesResponse

# The bodies of ClassifyResponse and EncodeResponse, serialised from the inference layer's results.
PREDICTIONS = TypeAdapter(list[Classification])
LATENTS = TypeAdapter(list[list[float]])


@lru_cache(maxsize=64)
def preprocess_in(query_string: bytes) -> str | None:
    """The ``preprocess`` mode a raw query string asks for (``auto`` when it names none); None if it names
    something else. Cached: clients send a handful of distinct query strings, and parsing one into Starlette's
    QueryParams took about 10 µs of a request under load."""
    mode = QueryParams(query_string).get("preprocess", "auto")
    return mode if mode in PREPROCESS_MODES else None


def preprocess_of(request: Request) -> str:
    mode = preprocess_in(request.scope["query_string"])
    if mode is None:
        raise schema_mismatch([{"loc": ("query", "preprocess"), "msg": "Input should be 'auto' or 'none'"}])
    return mode


async def latents_of(request: Request, endpoint: str) -> np.ndarray:
    """The request's images through the model. The decoding and ``auto`` of 28 x 28 uploads, and ``auto`` of other
    pictures up to SIZED_AUTO_PIXELS, are left to the micro-batch, which does them for all waiting requests'
    pictures together; a picture ``auto`` refuses is reported as alone."""
    inference = inference_of(request)
    images = await read_images(request, limits_of(request), preprocess_of(request), defer=True)
    count_images(request, endpoint, len(images.arrays))
    if images.stage == PNG_ROWS:
        latents, refused = await inference.encode_png_rows(images.arrays, images.auto)
    elif images.stage == PICTURES:
        latents, refused = await inference.encode_auto(images.arrays)
    elif images.stage == SIZED_PICTURES:
        latents, refused = await inference.encode_sized_auto(images.arrays)
    else:
        return await inference.encode(images.arrays)
    raise_first_refusal(images, refused)
    return latents


async def classify_images(request: Request) -> Response:
    """Classify digit images by the argmax of their latent."""
    return json_field_response("predictions", PREDICTIONS, classify_latents(await latents_of(request, CLASSIFY)))


async def encode_images(request: Request) -> Response:
    """Encode digit images to their 10-dimensional latents."""
    return json_field_response("latents", LATENTS, (await latents_of(request, ENCODE)).tolist())


async def preprocess_images(request: Request) -> Response:
    """The 28x28 MNIST-form images the model would see for these inputs, as base64 PNGs."""
    pixels = (await read_images(request, limits_of(request), preprocess_of(request))).arrays
    return json_response(ImagesResponse(images=await encode_pngs(pixels)))


IMAGE_ENDPOINTS = {CLASSIFY: classify_images, ENCODE: encode_images, PREPROCESS: preprocess_images}
RESPONSE_MODELS: dict[str, type[BaseModel]] = {
    CLASSIFY: ClassifyResponse,
    ENCODE: EncodeResponse,
    PREPROCESS: ImagesResponse,
}


def add_image_routes(app: FastAPI) -> None:
    """The image endpoints as POST-only Starlette routes (documented by service/openapi.py)."""
    for path, endpoint in IMAGE_ENDPOINTS.items():
        app.add_route(path, endpoint, methods=["POST"], include_in_schema=False)
