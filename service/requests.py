"""Turns an image request's body (multipart or JSON) into MNIST-form pixel arrays, in one pass.

body -> parts (or JSON items) -> image files with checked headers -> decoded MNIST-form arrays. Small
batches are decoded on the event loop, larger ones in a worker thread; the headers read to decide that
are the ones decoding continues from. For the model, 28 x 28 uploads stop earlier: plain grayscale PNGs at
their inflated rows, which the micro-batch decodes with other requests' in one pass, other files at decoding;
with ``auto``, the micro-batch preprocesses them too (``RequestImages``, service/inference.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from mnist_form.batch import STACKABLE_PIXELS, preprocess_auto_many
from mnist_form.errors import InputError
from mnist_form.preprocess import MNIST_SIDE, preprocess_auto
from service.errors import schema_mismatch
from service.images import ImageFile, ImageLimits, decode_base64, luminance, open_image_file, to_mnist_form
from service.multipart import parse_multipart
from service.png import decode_plain_grays, rows_luminance, scanlines
from service.schemas import MAX_BATCH, ImagesRequest

JSON_TYPES = ("application/json",)
MULTIPART_TYPE = "multipart/form-data"
# Images with at most this many pixels in all (sixteen 28 x 28 digits) are decoded on the event loop:
# well under a millisecond of work, where a hand-off to a worker thread costs more than the decoding.
INLINE_DECODE_PIXELS = 16 * 28 * 28
ModelT = TypeVar("ModelT", bound=BaseModel)
Item = TypeVar("Item")
Result = TypeVar("Result")


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def parse_json(body: bytes) -> Any:
    """JSON from bytes; malformed, non-UTF-8, too deep or too-long-integer bodies are 400."""
    if not body:
        raise InputError("empty_body", "The request body is empty; send a JSON object.")
    try:
        return json.loads(body)
    except RecursionError as error:
        raise InputError("invalid_json", "The JSON is nested too deeply.") from error
    except UnicodeDecodeError as error:
        raise InputError("invalid_json", "The request body is not valid UTF-8.") from error
    except ValueError as error:  # JSONDecodeError, and ints longer than Python's digit limit
        raise InputError("invalid_json", f"The request body is not valid JSON: {error}.") from error


def validate_model(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise schema_mismatch(list(error.errors())) from error


def naming_image(index: int, error: InputError) -> InputError:
    return InputError(error.code, f"Image {index}: {error.message}", error.details)


def each_image(items: list[Item], work: Callable[[Item], Result]) -> list[Result]:
    """``work`` applied to every item, an error naming the image it came from."""
    results = []
    for index, item in enumerate(items):
        try:
            results.append(work(item))
        except InputError as error:
            raise naming_image(index, error) from error
    return results


def auto_one(index: int, gray: np.ndarray) -> np.ndarray:
    """``preprocess_auto`` of the request's image ``index``, an error naming it."""
    try:
        return preprocess_auto(gray)
    except InputError as error:
        raise naming_image(index, error) from error


def decoded(index: int, file: ImageFile, upright: bool = True) -> np.ndarray:
    """Luminance of the request's image ``index`` (``upright``: its EXIF orientation applied), an error naming it."""
    try:
        return luminance(file, upright)
    except InputError as error:
        raise naming_image(index, error) from error


def auto_files_to_mnist(files: list[ImageFile]) -> np.ndarray:
    """``auto`` for a request's files: small pictures (MNIST-sized digits) decoded, then preprocessed all
    together (mnist_form/batch.py); larger ones decoded and preprocessed one at a time, so that a request
    never holds more than one large decoded picture."""
    results = np.empty((len(files), MNIST_SIDE, MNIST_SIDE), dtype=np.float32)
    small = [index for index, file in enumerate(files) if file.pixels <= STACKABLE_PIXELS]
    for index in sorted(set(range(len(files))) - set(small)):
        results[index] = auto_one(index, decoded(index, files[index]))
    if small:
        same_size = len({(files[index].width, files[index].height) for index in small}) == 1
        grays = (
            list(luminances([files[index] for index in small]))
            if same_size
            else [decoded(index, files[index]) for index in small]
        )
        results[small] = preprocess_auto_many(grays, lambda position, gray: auto_one(small[position], gray))
    return results


async def read_multipart_files(request: Request) -> list[bytes]:
    """Bytes of every part named ``file`` (with a filename); other parts are an error."""
    parts = parse_multipart(await request.body(), request.headers.get("content-type", ""), MAX_BATCH)
    for part in parts:
        if part.name != "file" or part.filename is None:
            raise InputError("unexpected_field", f"Only file parts named 'file' are accepted, got '{part.name}'.")
    if not parts:
        raise InputError("no_images", "Send at least one part named 'file' holding an image.")
    return [part.data for part in parts]


def files_to_mnist(files: list[ImageFile], preprocess: str) -> np.ndarray:
    """(N, 28, 28) MNIST-form pixels from opened image files, as ``preprocess`` (auto or none) asks."""
    if preprocess == "auto":
        return auto_files_to_mnist(files)
    if all(file.width == file.height == MNIST_SIDE for file in files):  # none: a 28 x 28 image is taken as it is
        return luminances(files, upright=False)
    return np.stack(each_image(files, lambda file: to_mnist_form(file, preprocess)))


# How far a request took its images (RequestImages.stage); the micro-batch does the rest for every waiting
# request's images together (service/inference.py).
MNIST_FORM = "mnist_form"  # pixels the model takes
PICTURES = "pictures"  # luminance of 28 x 28 pictures still to go through ``auto``
SIZED_PICTURES = "sized_pictures"  # luminance of other pictures (any sizes, an object array) still to go through it
PNG_ROWS = "png_rows"  # 28 x 28 plain grayscale PNGs' inflated rows (service/png.py), still to be decoded
# Pictures of other sizes with at most this many pixels each get ``auto`` in the micro-batch (about 0.1 ms of it
# for a 112 x 112 scan on this CPU, 0.4 for 256 x 256), when a request's pictures have at most SIZED_AUTO_REQUEST
# pixels in all: they wait for their batch decoded, 4 bytes a pixel. Other requests get it in the request.
SIZED_AUTO_PIXELS = 256 * 256
SIZED_AUTO_REQUEST_PIXELS = 1024 * 1024


@dataclass(frozen=True)
class RequestImages:
    """A request's images, at ``stage``: MNIST-form pixels; the luminance of 28 x 28 uploads, or of other pictures up
    to SIZED_AUTO_PIXELS, still to go through ``auto``; or the rows of 28 x 28 plain grayscale PNGs still to be
    decoded (then, with ``auto``, preprocessed)."""

    arrays: np.ndarray
    stage: str = MNIST_FORM
    auto: bool = False


def png_rows(files: list[ImageFile]) -> np.ndarray | None:
    """(N, 28 x 29) uint8: each file's inflated rows, when all are 28 x 28 plain grayscale PNGs (the usual digit
    upload), for the micro-batch to decode them with other requests' in one pass; None otherwise."""
    if any(file.pillow is not None or file.width != MNIST_SIDE or file.height != MNIST_SIDE for file in files):
        return None
    rows = [scanlines(file.data, MNIST_SIDE, MNIST_SIDE) for file in files]
    if any(row is None for row in rows):
        return None
    return np.frombuffer(b"".join(row for row in rows if row is not None), np.uint8).reshape(len(files), -1)


def deferred_images(files: list[ImageFile], preprocess: str) -> RequestImages | None:
    """What is left to the micro-batch: for 28 x 28 uploads, decoding plain grayscale PNGs, and ``auto``; for other
    pictures up to SIZED_AUTO_PIXELS, ``auto`` (the micro-batch runs it for every waiting request's pictures back
    to back, cheaper than each request running its own among the others' work: BENCHMARKS.md)."""
    if all(file.width == file.height == MNIST_SIDE for file in files):
        rows = png_rows(files)
        if rows is not None:
            return RequestImages(rows, PNG_ROWS, auto=preprocess == "auto")
        return RequestImages(luminances(files), PICTURES, auto=True) if preprocess == "auto" else None
    if preprocess == "auto" and sized_for_the_batch(files):
        pictures = np.empty(len(files), dtype=object)  # of 2-D luminance arrays, whatever their sizes
        for index, file in enumerate(files):
            pictures[index] = decoded(index, file)  # one by one: a list of equal shapes would be broadcast
        return RequestImages(pictures, SIZED_PICTURES, auto=True)
    return None


def sized_for_the_batch(files: list[ImageFile]) -> bool:
    return all(file.pixels <= SIZED_AUTO_PIXELS for file in files) and (
        sum(file.pixels for file in files) <= SIZED_AUTO_REQUEST_PIXELS
    )


def luminances(files: list[ImageFile], upright: bool = True) -> np.ndarray:
    """(N, H, W) luminance of equal-size image files, errors naming the image. Plain grayscale PNGs (the usual
    digit upload) are decoded together, in one pass (service/png.py); anything else one by one."""
    if len(files) > 1 and all(file.pillow is None for file in files):
        pixels = decode_plain_grays([file.data for file in files], files[0].width, files[0].height)
        if pixels is not None:
            return pixels.astype(np.float32) / 255
    return np.stack([decoded(index, file, upright) for index, file in enumerate(files)])


async def images_from_multipart(request: Request, limits: ImageLimits, preprocess: str, defer: bool) -> RequestImages:
    files = each_image(await read_multipart_files(request), lambda data: open_image_file(data, limits))
    work = partial(deferred_or_decoded, preprocess=preprocess, defer=defer)
    on_loop = sum(file.pixels for file in files) <= INLINE_DECODE_PIXELS
    return work(files) if on_loop else await run_in_threadpool(work, files)


def deferred_or_decoded(files: list[ImageFile], preprocess: str, defer: bool) -> RequestImages:
    deferred = deferred_images(files, preprocess) if defer else None
    return deferred if deferred is not None else RequestImages(files_to_mnist(files, preprocess))


def raise_first_refusal(images: RequestImages, refused: np.ndarray) -> None:
    """The error of the first picture that ``auto`` refused or failed on in the micro-batch (a blank one, say), as
    preprocessing it alone raises it, naming it."""
    if not refused.any():  # the usual case, in one call
        return
    for index in np.flatnonzero(refused).tolist():
        picture = images.arrays[index]
        if images.stage == PNG_ROWS:  # still its PNG rows: decoded here, the one picture
            picture = rows_luminance(picture[None], MNIST_SIDE, MNIST_SIDE)[0]
        auto_one(index, picture)
    raise RuntimeError("auto gave no picture in the micro-batch but gives one alone")  # a bug: 500


def json_item_to_mnist(item: str | list[list[float]], limits: ImageLimits, preprocess: str) -> np.ndarray:
    """A base64 file is decoded and preprocessed; a pixel array is already MNIST form and taken as is."""
    if isinstance(item, str):
        return to_mnist_form(open_image_file(decode_base64(item, limits.max_bytes), limits), preprocess)
    return np.asarray(item, dtype=np.float32)


def images_from_json(request_model: ImagesRequest, limits: ImageLimits, preprocess: str) -> np.ndarray:
    items = request_model.images
    if preprocess == "auto" and all(isinstance(item, str) for item in items):  # files only: preprocessed together
        texts = [item for item in items if isinstance(item, str)]
        files = each_image(texts, lambda text: open_image_file(decode_base64(text, limits.max_bytes), limits))
        return files_to_mnist(files, preprocess)
    return np.stack(each_image(items, lambda item: json_item_to_mnist(item, limits, preprocess)))


async def read_images(request: Request, limits: ImageLimits, preprocess: str, defer: bool = False) -> RequestImages:
    """The images of a multipart or JSON request; ``defer``: the decoding and ``auto`` of 28 x 28 uploads may be
    left to the micro-batch (see RequestImages)."""
    kind = media_type(request)
    if kind == MULTIPART_TYPE:
        return await images_from_multipart(request, limits, preprocess, defer)
    if kind in JSON_TYPES:
        request_model = validate_model(ImagesRequest, parse_json(await request.body()))
        return RequestImages(await run_in_threadpool(images_from_json, request_model, limits, preprocess))
    raise InputError(
        "unsupported_media_type",
        f"Content-Type '{kind or 'none'}' is not accepted; send multipart/form-data or application/json.",
    )
