"""The Open Inference Protocol's REST routes (/v2/...): they translate HTTP to the codec and models and back.

Every error here is ``{"error": "<message>"}``, the shape v2 clients parse: 404 for an unknown model or
version, 400 for a bad request, 413 past the size limits, 415 for an unknown Content-Encoding, 503 while
the model loads or the server is at its request limit (that one from the middleware).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from mnist_form.errors import InputError
from service import endpoints
from service.app_state import count_images, limits_of
from service.errors import NOT_READY_MESSAGE, protocol_error_response, status_of
from service.inference import Inference
from service.oip.codec import EncodedResponse, InferRequest, encode_infer_response, parse_infer_request
from service.oip.compression import accepted_encoding, compress, inflate
from service.oip.errors import OipError
from service.oip.models import MODELS, PLATFORM, ModelSpec, TensorSpec, run_options, selected_outputs
from service.oip.openapi import ERRORS, INFER_OPENAPI, MODEL_NAME, MODEL_VERSION
from service.oip.schemas import (
    InferenceResponse,
    ModelMetadata,
    ModelReady,
    ServerLive,
    ServerMetadata,
    ServerReady,
    TensorMetadata,
)
from service.responses import json_response

TAGS: list[str | Enum] = ["open inference protocol (v2)"]
EXTENSIONS = ["binary_tensor_data"]
# Bodies past this many bytes are parsed, and responses past it encoded, in a worker thread: inflating or
# reading megabytes of JSON would hold up every other request on the event loop.
INLINE_BYTES = 64 * 1024


def not_ready(request: Request) -> OipError:
    """The 503 while the model loads, or while the server drains before shutting down."""
    draining = getattr(request.app.state, "draining", False)
    return OipError("The server is shutting down." if draining else NOT_READY_MESSAGE, 503)


def loaded_inference(request: Request) -> Inference:
    inference: Inference | None = getattr(request.app.state, "inference", None)
    if inference is None:
        raise not_ready(request)
    return inference


def served_model(request: Request, name: str, version: str | None) -> tuple[ModelSpec, Inference, str]:
    """The named model, the engine and the model's version; 404 for an unknown name or version."""
    spec = MODELS.get(name)
    if spec is None:
        raise OipError(f"Unknown model '{name[:100]}'. Models: {', '.join(MODELS)}.", 404)
    inference = loaded_inference(request)
    model_version = str(inference.runner.card.get("version", "1"))
    if version is not None and version != model_version:
        raise OipError(f"Model '{name}' has no version '{version[:100]}'; it has version {model_version}.", 404)
    return spec, inference, model_version


def tensor_metadata(specs: tuple[TensorSpec, ...]) -> list[TensorMetadata]:
    return [TensorMetadata(name=spec.name, datatype=spec.datatype, shape=list(spec.shape)) for spec in specs]


async def metadata_response(request: Request, name: str, version: str | None) -> Response:
    spec, _, model_version = served_model(request, name, version)
    metadata = ModelMetadata(
        name=spec.name,
        versions=[model_version],
        platform=PLATFORM,
        inputs=tensor_metadata(spec.inputs),
        outputs=tensor_metadata(spec.outputs),
    )
    return json_response(metadata)


async def ready_response(request: Request, name: str, version: str | None) -> Response:
    spec, _, _ = served_model(request, name, version)
    if not getattr(request.app.state, "ready", False):
        raise not_ready(request)
    return json_response(ModelReady(name=spec.name, ready=True))


async def in_thread_if_large(size: int, work: Any) -> Any:
    return work() if size <= INLINE_BYTES else await run_in_threadpool(work)


def read_body(body: bytes, content_encoding: str | None, header_length: str | None, limit: int) -> InferRequest:
    return parse_infer_request(inflate(body, content_encoding, limit), header_length)


def encoded(response: EncodedResponse, encoding: str | None) -> Response:
    """The HTTP response: binary data flagged by Inference-Header-Content-Length, compressed as accepted."""
    headers = {"Vary": "Accept-Encoding"}
    if response.header_length is not None:
        headers["Inference-Header-Content-Length"] = str(response.header_length)
    body = response.body
    if encoding is not None:
        body, headers["Content-Encoding"] = compress(body, encoding), encoding
    media_type = "application/json" if response.header_length is None else "application/octet-stream"
    return Response(body, media_type=media_type, headers=headers)


async def infer_response(request: Request, name: str, version: str | None) -> Response:
    spec, inference, model_version = served_model(request, name, version)
    body, headers = await request.body(), request.headers
    content_encoding, header_length = headers.get("content-encoding"), headers.get("inference-header-content-length")
    limit: int = request.app.state.max_body_bytes
    infer_request: InferRequest = await in_thread_if_large(
        len(body), partial(read_body, body, content_encoding, header_length, limit)
    )
    options = run_options(infer_request.parameters, limits_of(request))
    try:
        results = await spec.run(inference, infer_request.inputs, options)
    except InputError as error:  # an image that cannot be read: 413 if the service says so, else 400
        raise OipError(error.message, 413 if status_of(error.code) == 413 else 400) from error
    outputs = selected_outputs(spec, results, infer_request)
    count_images(request, endpoints.OIP_INFER.replace("{name}", spec.name), len(next(iter(results.values()))))
    encoding = accepted_encoding(headers.get("accept-encoding"))

    def respond() -> Response:
        return encoded(encode_infer_response(spec.name, model_version, infer_request.id, outputs), encoding)

    response: Response = await in_thread_if_large(sum(output.data.nbytes for output in outputs), respond)
    return response


async def read_server_metadata(request: Request) -> Response:
    """Server metadata: name, version and the protocol extensions supported."""
    return json_response(ServerMetadata(name="routed-vae", version=request.app.version, extensions=EXTENSIONS))


async def read_server_live() -> Response:
    """Server liveness: 200 while the process runs."""
    return json_response(ServerLive(live=True))


async def read_server_ready(request: Request) -> Response:
    """Server readiness: 200 once the models are loaded, 503 before that and while shutting down."""
    if not getattr(request.app.state, "ready", False):
        raise not_ready(request)
    return json_response(ServerReady(ready=True))


ModelAnswer = Callable[[Request, str, str | None], Awaitable[Response]]


def add_model_routes(
    app: FastAPI, method: str, paths: tuple[str, str], answer: ModelAnswer, summary: str, **options: Any
) -> None:
    """The same answer on a model's path and on its ``/versions/{version}`` path (the card's version; any
    other is 404)."""

    async def latest(request: Request, name: MODEL_NAME) -> Response:
        return await answer(request, name, None)

    async def versioned(request: Request, name: MODEL_NAME, version: MODEL_VERSION) -> Response:
        return await answer(request, name, version)

    answers: tuple[Callable[..., Awaitable[Response]], ...] = (latest, versioned)
    for path, endpoint in zip(paths, answers, strict=True):
        route_name = f"{answer.__name__.removesuffix('_response')}_{endpoint.__name__}"
        app.add_api_route(path, endpoint, methods=[method], summary=summary, name=route_name, tags=TAGS, **options)


LOOKUP_ERRORS = {404: ERRORS[404], 503: ERRORS[503]}
METADATA = "A model's metadata: its version, platform, and input and output tensors (-1: any batch size)"
READY = "Model readiness: 200 once it can serve, 503 before that"
INFER = "Run a model on JSON or binary tensors (Triton's binary tensor data extension); gzip or deflate welcome"
MODEL_ROUTES = (
    ("GET", (endpoints.OIP_MODEL, endpoints.OIP_VERSION), metadata_response, METADATA, ModelMetadata),
    ("GET", (endpoints.OIP_MODEL_READY, endpoints.OIP_VERSION_READY), ready_response, READY, ModelReady),
    ("POST", (endpoints.OIP_INFER, endpoints.OIP_VERSION_INFER), infer_response, INFER, InferenceResponse),
)


def add_server_routes(app: FastAPI) -> None:
    """The server's metadata, liveness and readiness."""
    app.add_api_route(endpoints.OIP_SERVER, read_server_metadata, response_model=ServerMetadata, tags=TAGS)
    app.add_api_route(endpoints.OIP_LIVE, read_server_live, response_model=ServerLive, tags=TAGS)
    not_ready_error: dict[int | str, dict[str, Any]] = {503: ERRORS[503]}
    app.add_api_route(
        endpoints.OIP_READY, read_server_ready, response_model=ServerReady, responses=not_ready_error, tags=TAGS
    )


async def handle_oip_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, OipError)
    headers = {"Retry-After": "1"} if error.status == 503 else None
    return protocol_error_response(error.status, error.message, headers)


def add_oip_routes(app: FastAPI, max_body_bytes: int) -> None:
    """The v2 routes, their error handler, and the inflated-body limit (the same as the body limit). They go on
    the app itself rather than through an included router, as service/api.py explains."""
    app.state.max_body_bytes = max_body_bytes
    add_server_routes(app)
    for method, paths, answer, summary, response_model in MODEL_ROUTES:
        openapi = INFER_OPENAPI if method == "POST" else {"responses": LOOKUP_ERRORS}
        add_model_routes(app, method, paths, answer, summary, response_model=response_model, **openapi)
    app.add_exception_handler(OipError, handle_oip_error)
