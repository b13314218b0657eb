"""Inference routes: they translate HTTP to Inference calls and back, nothing more."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from service.errors import ApiError
from service.images import ImageLimits, pixels_to_png
from service.inference import Inference
from service.requests import JSON_TYPES, MULTIPART_TYPE, media_type, read_images
from service.routing import Endpoint, PlainRoute
from service.schemas import (
    ClassifyResponse,
    DecodeRequest,
    EncodeResponse,
    ErrorResponse,
    ImagesRequest,
    ImagesResponse,
    Prediction,
    SampleRequest,
    SampleResponse,
)

router = APIRouter(tags=["model"])

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "malformed request (invalid JSON or multipart)",
        413: "body, image or batch too large",
        415: "unsupported Content-Type or image format",
        422: "a value out of range or of the wrong shape",
        503: "not ready, or overloaded (with Retry-After)",
    }.items()
}
IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            MULTIPART_TYPE: {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                    "required": ["file"],
                },
                "encoding": {"file": {"contentType": "image/png, image/jpeg, image/gif, image/bmp, image/webp"}},
            },
            "application/json": {
                "schema": ImagesRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            },
        },
    }
}
PREPROCESS_MODES = ("auto", "none")
PREPROCESS_PARAMETER = {
    "name": "preprocess",
    "in": "query",
    "required": False,
    "description": "auto: any picture of one digit -> MNIST form; none: 28x28 taken as is",
    "schema": {"type": "string", "enum": list(PREPROCESS_MODES), "default": "auto"},
}
IMAGE_ROUTE: dict[str, Any] = {
    "responses": ERRORS,
    "openapi_extra": {**IMAGE_BODY, "parameters": [PREPROCESS_PARAMETER]},
}


def inference_of(request: Request) -> Inference:
    inference: Inference | None = getattr(request.app.state, "inference", None)
    if inference is None:
        raise ApiError(503, "not_ready", "The model is not loaded yet; retry shortly.", headers={"Retry-After": "1"})
    return inference


# Async on purpose: FastAPI runs plain `def` dependencies in its thread pool, a hand-off that costs more
# than a one-image request's own work.
async def get_inference(request: Request) -> Inference:
    return inference_of(request)


def limits_of(request: Request) -> ImageLimits:
    limits: ImageLimits = request.app.state.image_limits
    return limits


def preprocess_of(request: Request) -> str:
    mode = request.query_params.get("preprocess", "auto")
    if mode not in PREPROCESS_MODES:
        raise ApiError(
            422,
            "validation_error",
            "The request does not match the schema; see details.",
            [{"loc": ["query", "preprocess"], "msg": "Input should be 'auto' or 'none'"}],
        )
    return mode


async def images_of(request: Request) -> np.ndarray:
    """The request's images in MNIST form, as its ``preprocess`` parameter asks."""
    return await read_images(request, limits_of(request), preprocess_of(request))


async def require_json(request: Request) -> None:
    kind = media_type(request)
    if kind and kind not in JSON_TYPES:
        raise ApiError(415, "unsupported_media_type", f"Content-Type '{kind}' is not accepted; send application/json.")


def json_response(body: BaseModel) -> Response:
    """The model serialised once. Returning a Response skips FastAPI's second validation of a model we
    just built; ``response_model`` on each route still documents the shape."""
    return Response(body.model_dump_json(), media_type="application/json")


def png_base64(pixels: np.ndarray) -> list[str]:
    return [base64.b64encode(pixels_to_png(image)).decode("ascii") for image in pixels]


async def encode_pngs(pixels: np.ndarray) -> list[str]:
    """Base64 PNGs, encoded off the event loop (up to 256 per request)."""
    return await run_in_threadpool(png_base64, pixels)


def count_images(request: Request, endpoint: str, count: int) -> None:
    metrics = request.app.state.metrics
    metrics.images.labels(endpoint).inc(count)
    metrics.request_batch.labels(endpoint).observe(count)


InferenceDep = Annotated[Inference, Depends(get_inference)]


async def classify_images(request: Request) -> Response:
    """Classify digit images by the argmax of their latent."""
    inference = inference_of(request)
    pixels = await images_of(request)
    count_images(request, "/classify", len(pixels))
    results = await inference.classify(pixels)
    return json_response(ClassifyResponse(predictions=[Prediction(**vars(result)) for result in results]))


async def encode_images(request: Request) -> Response:
    """Encode digit images to their 10-dimensional latents."""
    inference = inference_of(request)
    pixels = await images_of(request)
    count_images(request, "/encode", len(pixels))
    return json_response(EncodeResponse(latents=(await inference.encode(pixels)).tolist()))


async def preprocess_images(request: Request) -> Response:
    """The 28x28 MNIST-form images the model would see for these inputs, as base64 PNGs."""
    pixels = await images_of(request)
    return json_response(ImagesResponse(images=await encode_pngs(pixels)))


IMAGE_ROUTES: tuple[tuple[str, Endpoint, type[BaseModel]], ...] = (
    ("/classify", classify_images, ClassifyResponse),
    ("/encode", encode_images, EncodeResponse),
    ("/preprocess", preprocess_images, ImagesResponse),
)


def image_endpoints() -> dict[str, Endpoint]:
    """Path -> handler of the image endpoints, for ``DirectRoutes``."""
    return {path: endpoint for path, endpoint, _ in IMAGE_ROUTES}


def add_image_routes(app_router: APIRouter) -> None:
    """The image endpoints, on the app's own router as PlainRoutes: they run once per request under
    load, so they skip FastAPI's dependency injection (see service/routing.py). ``DirectRoutes`` serves
    them; these routes document them (and serve them should a request get past it)."""
    for path, endpoint, response_model in IMAGE_ROUTES:
        app_router.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            response_model=response_model,
            tags=["model"],
            route_class_override=PlainRoute,
            **IMAGE_ROUTE,
        )


@router.post(
    "/decode",
    response_model=ImagesResponse,
    dependencies=[Depends(require_json)],
    responses={
        **ERRORS,
        200: {"content": {"image/png": {}}, "description": "JSON, or one PNG with Accept: image/png"},
    },
)
async def decode_latents(
    request: Request,
    body: DecodeRequest,
    inference: InferenceDep,
    scale: Annotated[int, Query(ge=1, le=20, description="nearest-neighbour upscale of a PNG answer")] = 1,
) -> Response:
    """Decode latents to 28x28 images: JSON of base64 PNGs, or one PNG with Accept: image/png."""
    count_images(request, "/decode", len(body.latents))
    pixels = await inference.decode(np.array(body.latents, dtype=np.float32))
    if len(pixels) == 1 and "image/png" in request.headers.get("accept", ""):
        return Response(pixels_to_png(pixels[0], scale), media_type="image/png")
    return json_response(ImagesResponse(images=await encode_pngs(pixels)))


@router.post("/sample", response_model=SampleResponse, dependencies=[Depends(require_json)], responses=ERRORS)
async def sample_digits(
    request: Request, inference: InferenceDep, body: Annotated[SampleRequest | None, Body()] = None
) -> Response:
    """Draw plausible, varied digits from the per-digit latent statistics; a seed makes it repeatable."""
    body = body or SampleRequest()
    count_images(request, "/sample", body.n)
    digits, latents, pixels = await inference.sample(body.n, body.digit, body.seed)
    return json_response(SampleResponse(digits=digits, latents=latents.tolist(), images=await encode_pngs(pixels)))


@router.get("/v1/model", tags=["info"])
async def read_model_card(inference: InferenceDep) -> dict[str, Any]:
    """The model card: identity, sha256, training configuration, test metrics, latent meanings."""
    return inference.runner.card
