"""The three models v2 clients call by name, their tensors, and how each runs on the service's Inference.

| model | inputs | outputs |
| routed-vae-encoder | pixels FP32 [-1, 28, 28] | latent FP32 [-1, 10] |
| routed-vae-decoder | latent FP32 [-1, 10] | pixels FP32 [-1, 28, 28] |
| routed-vae-classifier | pixels FP32 [-1, 28, 28] or image BYTES [-1] | digit INT64, confidence FP32, latent |

The names are the contract (clients hard-code them). Pixels are MNIST form in [0, 1]; UINT8 pixels
(0-255) are scaled. Image files are read like /classify reads them, preprocessed as ``preprocess`` says.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import numpy as np
from starlette.concurrency import run_in_threadpool

from service.images import PREPROCESS_MODES, ImageFile, ImageLimits, decode_base64, open_image_file
from service.inference import Inference, classify_latents
from service.limits import LATENT_SIZE, MAX_LATENT
from service.oip.codec import InferRequest, OutputTensor, Tensor
from service.oip.errors import OipError
from service.requests import INLINE_DECODE_PIXELS, each_image, files_to_mnist
from service.schemas import MAX_BATCH

PLATFORM = "pytorch_torchscript"


@dataclass(frozen=True)
class TensorSpec:
    name: str
    datatype: str
    shape: tuple[int, ...]  # -1: the batch


@dataclass(frozen=True)
class RunOptions:
    preprocess: str  # for image files: auto or none
    image_limits: ImageLimits


Outputs = dict[str, np.ndarray]
Runner = Callable[[Inference, Mapping[str, Tensor], RunOptions], Awaitable[Outputs]]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    run: Runner


PIXELS = TensorSpec("pixels", "FP32", (-1, 28, 28))
LATENT = TensorSpec("latent", "FP32", (-1, LATENT_SIZE))
IMAGE = TensorSpec("image", "BYTES", (-1,))
DIGIT = TensorSpec("digit", "INT64", (-1,))
CONFIDENCE = TensorSpec("confidence", "FP32", (-1,))


def run_options(parameters: Mapping[str, object], image_limits: ImageLimits) -> RunOptions:
    preprocess = parameters.get("preprocess", "auto")
    if preprocess not in PREPROCESS_MODES:
        raise OipError(f'The request parameter "preprocess" must be "auto" or "none", not {preprocess!r}.')
    return RunOptions(str(preprocess), image_limits)


def one_input(model: str, inputs: Mapping[str, Tensor], accepted: tuple[str, ...]) -> Tensor:
    """The request's one input, which must be one of ``accepted``."""
    unknown = [name for name in inputs if name not in accepted]
    if unknown:
        raise OipError(f"Model '{model}' has no input '{unknown[0]}'; it takes {' or '.join(accepted)}.")
    if len(inputs) != 1:
        raise OipError(f"Model '{model}' takes one input: {' or '.join(accepted)}.")
    return next(iter(inputs.values()))


def checked_rows(tensor: Tensor, spec: TensorSpec, datatypes: tuple[str, ...]) -> np.ndarray:
    """The tensor's data after checking its datatype, its shape against ``spec`` and its row count."""
    if tensor.datatype not in datatypes:
        raise OipError(f"Input '{tensor.name}' is {tensor.datatype}; {' or '.join(datatypes)} is expected.")
    shape = tensor.data.shape
    if len(shape) != len(spec.shape) or any(want not in (-1, got) for want, got in zip(spec.shape, shape, strict=True)):
        raise OipError(f"Input '{tensor.name}' has shape {list(shape)}; {list(spec.shape)} is expected.")
    if not 1 <= shape[0] <= MAX_BATCH:
        raise OipError(f"Input '{tensor.name}' has {shape[0]} rows; 1 to {MAX_BATCH} are accepted.")
    return tensor.data


def within(tensor: Tensor, data: np.ndarray, high: float) -> np.ndarray:
    """``data`` if every value is finite and in [0, high] (NaN fails both comparisons)."""
    if not bool(np.all((data >= 0) & (data <= high))):
        raise OipError(f"Input '{tensor.name}' must hold finite values from 0 to {high:g}.")
    return data


def pixels_of(tensor: Tensor) -> np.ndarray:
    """(N, 28, 28) float32 MNIST-form pixels from FP32 in [0, 1] or UINT8 in [0, 255]."""
    data = checked_rows(tensor, PIXELS, ("FP32", "UINT8"))
    if tensor.datatype == "UINT8":
        return data.astype(np.float32) / 255
    return within(tensor, data, 1.0)


async def images_of(tensor: Tensor, options: RunOptions) -> np.ndarray:
    """(N, 28, 28) MNIST-form pixels from image files: raw bytes in binary, base64 strings in JSON."""
    elements = list(checked_rows(tensor, IMAGE, ("BYTES",)))
    limits = options.image_limits

    def open_file(element: bytes) -> ImageFile:
        data = element if tensor.binary else decode_base64(element.decode(), limits.max_bytes)
        return open_image_file(data, limits)

    files = each_image(elements, open_file)
    if sum(file.pixels for file in files) <= INLINE_DECODE_PIXELS:
        return files_to_mnist(files, options.preprocess)
    return await run_in_threadpool(files_to_mnist, files, options.preprocess)


async def run_encoder(inference: Inference, inputs: Mapping[str, Tensor], _: RunOptions) -> Outputs:
    pixels = pixels_of(one_input(ENCODER_NAME, inputs, (PIXELS.name,)))
    return {LATENT.name: await inference.encode(pixels)}


async def run_decoder(inference: Inference, inputs: Mapping[str, Tensor], _: RunOptions) -> Outputs:
    tensor = one_input(DECODER_NAME, inputs, (LATENT.name,))
    latents = within(tensor, checked_rows(tensor, LATENT, ("FP32",)), MAX_LATENT)
    return {PIXELS.name: await inference.decode(latents)}


async def run_classifier(inference: Inference, inputs: Mapping[str, Tensor], options: RunOptions) -> Outputs:
    tensor = one_input(CLASSIFIER_NAME, inputs, (PIXELS.name, IMAGE.name))
    pixels = await images_of(tensor, options) if tensor.name == IMAGE.name else pixels_of(tensor)
    latents = await inference.encode(pixels)
    classifications = classify_latents(latents)
    return {
        DIGIT.name: np.array([item.digit for item in classifications], dtype=np.int64),
        CONFIDENCE.name: np.array([item.confidence for item in classifications], dtype=np.float32),
        LATENT.name: latents,
    }


ENCODER_NAME, DECODER_NAME, CLASSIFIER_NAME = "routed-vae-encoder", "routed-vae-decoder", "routed-vae-classifier"
MODELS = {
    spec.name: spec
    for spec in (
        ModelSpec(ENCODER_NAME, (PIXELS,), (LATENT,), run_encoder),
        ModelSpec(DECODER_NAME, (LATENT,), (PIXELS,), run_decoder),
        ModelSpec(CLASSIFIER_NAME, (PIXELS, IMAGE), (DIGIT, CONFIDENCE, LATENT), run_classifier),
    )
}


def selected_outputs(spec: ModelSpec, results: Outputs, request: InferRequest) -> list[OutputTensor]:
    """The outputs the request asks for (all when it names none), in its order, binary as it asks."""
    if request.outputs is None:
        return [OutputTensor(output.name, results[output.name], request.binary_output) for output in spec.outputs]
    known = ", ".join(output.name for output in spec.outputs)
    for wanted in request.outputs:
        if wanted.name not in results:
            raise OipError(f"Model '{spec.name}' has no output '{wanted.name}'; its outputs: {known}.")
    return [OutputTensor(wanted.name, results[wanted.name], wanted.binary) for wanted in request.outputs]
