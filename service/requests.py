"""Turns an /encode or /classify request body (multipart or JSON) into MNIST-form pixel arrays."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import numpy as np
from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from service.errors import ApiError, validation_details
from service.images import ImageError, ImageLimits, decode_base64, header_pixels, image_to_mnist
from service.multipart import MultipartError, parse_multipart
from service.schemas import MAX_BATCH, ImagesRequest

JSON_TYPES = ("application/json",)
# Images with at most this many pixels in all (sixteen 28 x 28 digits) are decoded on the event loop:
# well under a millisecond of work, where a hand-off to a worker thread costs more than the decoding.
INLINE_DECODE_PIXELS = 16 * 28 * 28
MULTIPART_TYPE = "multipart/form-data"
ModelT = TypeVar("ModelT", bound=BaseModel)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def parse_json(body: bytes) -> Any:
    """JSON from bytes; malformed, non-UTF-8, too deep or too-long-integer bodies are 400."""
    if not body:
        raise ApiError(400, "empty_body", "The request body is empty; send a JSON object.")
    try:
        return json.loads(body)
    except RecursionError as error:
        raise ApiError(400, "invalid_json", "The JSON is nested too deeply.") from error
    except UnicodeDecodeError as error:
        raise ApiError(400, "invalid_json", "The request body is not valid UTF-8.") from error
    except ValueError as error:  # JSONDecodeError, and ints longer than Python's digit limit
        raise ApiError(400, "invalid_json", f"The request body is not valid JSON: {error}.") from error


def validate_model(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ApiError(
            422,
            "validation_error",
            "The request does not match the schema; see details.",
            validation_details(list(error.errors())),
        ) from error


async def read_multipart_files(request: Request) -> list[bytes]:
    """Bytes of every part named ``file`` (with a filename); other parts are an error."""
    try:
        parts = parse_multipart(await request.body(), request.headers.get("content-type", ""), MAX_BATCH)
    except MultipartError as error:
        raise ApiError(error.status, error.code, error.message) from error
    for part in parts:
        if part.name != "file" or part.filename is None:
            raise ApiError(422, "unexpected_field", f"Only file parts named 'file' are accepted, got '{part.name}'.")
    return [part.data for part in parts]


def images_from_bytes(files: list[bytes], limits: ImageLimits, preprocess: str) -> np.ndarray:
    """(N, 28, 28) pixels from image files, naming the image that failed."""
    pixels = []
    for index, data in enumerate(files):
        try:
            pixels.append(image_to_mnist(data, limits, preprocess))
        except ImageError as error:
            raise ApiError(error.status, error.code, f"Image {index}: {error.message}") from error
    return np.stack(pixels)


def cheap_to_decode(files: list[bytes]) -> bool:
    """True when every header is readable and all images together are small (checked before decoding)."""
    total = 0
    for data in files:
        pixels = header_pixels(data)
        if pixels is None:
            return False
        total += pixels
        if total > INLINE_DECODE_PIXELS:  # a large batch: stop reading headers
            return False
    return True


def images_from_json(request_model: ImagesRequest, limits: ImageLimits, preprocess: str) -> np.ndarray:
    """Base64 files are decoded and preprocessed; pixel arrays are already MNIST form and taken as is."""
    pixels = []
    for index, item in enumerate(request_model.images):
        try:
            if isinstance(item, str):
                pixels.append(image_to_mnist(decode_base64(item, limits.max_bytes), limits, preprocess))
            else:
                pixels.append(np.asarray(item, dtype=np.float32))
        except ImageError as error:
            raise ApiError(error.status, error.code, f"Image {index}: {error.message}") from error
    return np.stack(pixels)


async def read_images(request: Request, limits: ImageLimits, preprocess: str) -> np.ndarray:
    """MNIST-form pixels (N, 28, 28) from a multipart or JSON request."""
    kind = media_type(request)
    if kind == MULTIPART_TYPE:
        files = await read_multipart_files(request)
        if not files:
            raise ApiError(422, "no_images", "Send at least one part named 'file' holding an image.")
        if cheap_to_decode(files):
            return images_from_bytes(files, limits, preprocess)
        return await run_in_threadpool(images_from_bytes, files, limits, preprocess)
    if kind in JSON_TYPES:
        request_model = validate_model(ImagesRequest, parse_json(await request.body()))
        return await run_in_threadpool(images_from_json, request_model, limits, preprocess)
    raise ApiError(
        415,
        "unsupported_media_type",
        f"Content-Type '{kind or 'none'}' is not accepted; send multipart/form-data or application/json.",
    )
