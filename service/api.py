"""FastAPI routes for /decode, /sample and /v1/model: they translate HTTP to Inference calls and back.

``add_model_routes`` puts them on the app itself (``app.add_api_route``), not through an included ``APIRouter``:
FastAPI matches an included router's routes through a wrapper that costs about 50 µs per request passing it.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import Body, Depends, FastAPI, Query, Request, Response

from mnist_form.errors import InputError
from service.app_state import count_images, inference_of
from service.endpoints import DECODE, MODEL_CARD, SAMPLE
from service.images import pixels_to_png
from service.inference import Inference
from service.openapi import ERROR_RESPONSES
from service.requests import JSON_TYPES, media_type
from service.responses import encode_pngs, json_response
from service.schemas import DecodeRequest, ImagesResponse, SampleRequest, SampleResponse


# Async on purpose: FastAPI runs plain `def` dependencies in its thread pool, a hand-off that costs more
# than a one-image request's own work.
async def get_inference(request: Request) -> Inference:
    return inference_of(request)


async def require_json(request: Request) -> None:
    kind = media_type(request)
    if kind and kind not in JSON_TYPES:
        raise InputError("unsupported_media_type", f"Content-Type '{kind}' is not accepted; send application/json.")


InferenceDep = Annotated[Inference, Depends(get_inference)]


async def decode_latents(
    request: Request,
    body: DecodeRequest,
    inference: InferenceDep,
    scale: Annotated[int, Query(ge=1, le=20, description="nearest-neighbour upscale of a PNG answer")] = 1,
) -> Response:
    """Decode latents to 28x28 images: JSON of base64 PNGs, or one PNG with Accept: image/png."""
    count_images(request, DECODE, len(body.latents))
    pixels = await inference.decode(np.array(body.latents, dtype=np.float32))
    if len(pixels) == 1 and "image/png" in request.headers.get("accept", ""):
        return Response(pixels_to_png(pixels[0], scale), media_type="image/png")
    return json_response(ImagesResponse(images=await encode_pngs(pixels)))


async def sample_digits(
    request: Request, inference: InferenceDep, body: Annotated[SampleRequest | None, Body()] = None
) -> Response:
    """Draw plausible, varied digits from the per-digit latent statistics; a seed makes it repeatable."""
    body = body or SampleRequest()
    count_images(request, SAMPLE, body.n)
    digits, latents, pixels = await inference.sample(body.n, body.digit, body.seed)
    return json_response(SampleResponse(digits=digits, latents=latents.tolist(), images=await encode_pngs(pixels)))


async def read_model_card(inference: InferenceDep) -> dict[str, Any]:
    """The model card: identity, sha256, training configuration, test metrics, latent meanings."""
    return inference.runner.card


DECODE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    200: {"content": {"image/png": {}}, "description": "JSON, or one PNG with Accept: image/png"},
}


def add_json_post(app: FastAPI, path: str, endpoint: Any, response_model: Any, responses: dict[int | str, Any]) -> None:
    """A POST route of the model that takes a JSON body (415 for any other media type)."""
    app.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        response_model=response_model,
        dependencies=[Depends(require_json)],
        responses=responses,
        tags=["model"],
    )


def add_model_routes(app: FastAPI) -> None:
    """/decode, /sample and /v1/model on ``app``."""
    add_json_post(app, DECODE, decode_latents, ImagesResponse, DECODE_RESPONSES)
    add_json_post(app, SAMPLE, sample_digits, SampleResponse, ERROR_RESPONSES)
    app.add_api_route(MODEL_CARD, read_model_card, methods=["GET"], tags=["model", "info"])
