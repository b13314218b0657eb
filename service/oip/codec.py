"""Inference request bodies -> tensors, and output tensors -> response bodies. No HTTP framework here.

A body is a JSON object, optionally followed by binary tensor data (Triton's extension): then the
``Inference-Header-Content-Length`` header gives the JSON's length, and each binary input says its size in
``parameters.binary_data_size``, in input order. Outputs go back as JSON or, when asked, as binary data
after the JSON object in the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pydantic_core
from pydantic import ValidationError

from service.oip.datatypes import array_from_binary, array_from_json, binary_of, datatype_of
from service.oip.errors import OipError
from service.oip.schemas import InferenceRequest, ParameterValue, RequestInput, RequestOutput

UNSUPPORTED_INPUT_PARAMETERS = ("shared_memory_region", "shared_memory_byte_size", "shared_memory_offset")
UNSUPPORTED_OUTPUT_PARAMETERS = ("classification", *UNSUPPORTED_INPUT_PARAMETERS)


@dataclass(frozen=True)
class Tensor:
    name: str
    datatype: str
    data: np.ndarray  # numeric, or an object array of bytes for BYTES
    binary: bool  # sent as binary data (rather than JSON)


class RequestedOutput(NamedTuple):
    """An output the request names, and whether it wants it as binary data."""

    name: str
    binary: bool


@dataclass(frozen=True)
class InferRequest:
    """A parsed inference request: tensors by input name, the outputs asked for, and how."""

    id: str | None
    parameters: Mapping[str, ParameterValue]
    inputs: Mapping[str, Tensor]
    outputs: tuple[RequestedOutput, ...] | None  # None: every output, as ``binary_output`` says
    binary_output: bool


def parse_infer_request(body: bytes, header_length: str | None) -> InferRequest:
    """An inference request from its (decompressed) body and Inference-Header-Content-Length header."""
    header, binary = split_body(body, header_length)
    request = validate_request(load_json(header))
    parameters = request.parameters or {}
    binary_output = parameters.get("binary_data_output", False)
    if not isinstance(binary_output, bool):
        raise OipError('The request parameter "binary_data_output" must be true or false.')
    return InferRequest(
        id=request.id,
        parameters=parameters,
        inputs=read_inputs(request.inputs, binary),
        outputs=None if request.outputs is None else read_outputs(request.outputs, binary_output),
        binary_output=binary_output,
    )


def split_body(body: bytes, header_length: str | None) -> tuple[bytes, memoryview]:
    """The JSON part and the binary part of a body."""
    if not body:
        raise OipError("The request body is empty; send an inference request object.")
    if header_length is None:
        return body, memoryview(b"")
    text = header_length.strip()
    length = int(text) if text.isascii() and text.isdigit() and len(text) <= 20 else -1
    if not 0 < length <= len(body):
        raise OipError(
            f"Inference-Header-Content-Length is {header_length[:40]!r}; it must be a whole number from 1 to "
            f"the body's length ({len(body)} bytes)."
        )
    return body[:length], memoryview(body)[length:]


def refuse_constant(name: str) -> Any:
    raise OipError(f"The request JSON holds {name}, which JSON does not allow.")


def load_json(data: bytes) -> Any:
    """Strict JSON (no NaN or Infinity), UTF-8 only; malformed or too deeply nested is 400."""
    try:
        return json.loads(data.decode("utf-8"), parse_constant=refuse_constant)
    except RecursionError as error:
        raise OipError("The request JSON is nested too deeply.") from error
    except UnicodeDecodeError as error:
        raise OipError("The request JSON is not valid UTF-8.") from error
    except ValueError as error:  # JSONDecodeError, and integers longer than Python's digit limit
        raise OipError(f"The request JSON is malformed: {error}.") from error


def validate_request(document: Any) -> InferenceRequest:
    try:
        return InferenceRequest.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}" for item in error.errors()[:3]
        )
        raise OipError(f"The inference request does not match the protocol: {problems}.") from error


def binary_size(tensor: RequestInput) -> int | None:
    """The input's ``binary_data_size``, or None when its data is JSON."""
    parameters = tensor.parameters or {}
    unsupported = [name for name in UNSUPPORTED_INPUT_PARAMETERS if name in parameters]
    if unsupported:
        raise OipError(f"Input '{tensor.name}': {unsupported[0]} is not supported; send the data in the request.")
    size = parameters.get("binary_data_size")
    if size is None:
        if tensor.data is None:
            raise OipError(f"Input '{tensor.name}' has neither data nor binary_data_size.")
        return None
    if type(size) is not int or size < 0:
        raise OipError(f"Input '{tensor.name}': binary_data_size must be a whole number of bytes, not {size!r}.")
    if tensor.data is not None:
        raise OipError(f"Input '{tensor.name}' has both data and binary_data_size; send one.")
    return size


def read_inputs(inputs: list[RequestInput], binary: memoryview) -> dict[str, Tensor]:
    """The input tensors by name; binary ones take their bytes from ``binary`` in order, all of it."""
    tensors: dict[str, Tensor] = {}
    offset = 0
    for tensor in inputs:
        if tensor.name in tensors:
            raise OipError(f"Input '{tensor.name}' is given twice.")
        shape, size = tuple(tensor.shape), binary_size(tensor)
        if size is None:
            assert tensor.data is not None
            array = array_from_json(tensor.name, tensor.datatype, shape, tensor.data)
        else:
            if size > len(binary) - offset:
                raise OipError(
                    f"Input '{tensor.name}': binary_data_size {size} runs past the body's end "
                    f"({len(binary) - offset} bytes of binary data left)."
                )
            array = array_from_binary(tensor.name, tensor.datatype, shape, bytearray(binary[offset : offset + size]))
            offset += size
        tensors[tensor.name] = Tensor(tensor.name, tensor.datatype, array, binary=size is not None)
    if offset != len(binary):
        raise OipError(f"{len(binary) - offset} bytes after the JSON belong to no input's binary_data_size.")
    return tensors


def read_outputs(outputs: list[RequestOutput], binary_output: bool) -> tuple[RequestedOutput, ...]:
    """The requested outputs, each binary as its ``binary_data`` (or the request's default) says."""
    requested: dict[str, RequestedOutput] = {}
    for output in outputs:
        parameters = output.parameters or {}
        unsupported = [name for name in UNSUPPORTED_OUTPUT_PARAMETERS if name in parameters]
        if unsupported:
            raise OipError(f"Output '{output.name}': {unsupported[0]} is not supported.")
        binary = parameters.get("binary_data", binary_output)
        if not isinstance(binary, bool):
            raise OipError(f"Output '{output.name}': binary_data must be true or false.")
        if output.name in requested:
            raise OipError(f"Output '{output.name}' is requested twice.")
        requested[output.name] = RequestedOutput(output.name, binary)
    return tuple(requested.values())


@dataclass(frozen=True)
class OutputTensor:
    name: str
    data: np.ndarray
    binary: bool


@dataclass(frozen=True)
class EncodedResponse:
    body: bytes
    header_length: int | None  # the JSON's length when binary data follows it, else None


def encode_infer_response(
    model_name: str, model_version: str, request_id: str | None, outputs: list[OutputTensor]
) -> EncodedResponse:
    """The response body: a JSON object, then the binary outputs' data in output order."""
    described, blobs = [], []
    for output in outputs:
        tensor: dict[str, Any] = {
            "name": output.name,
            "datatype": datatype_of(output.data),
            "shape": list(output.data.shape),
        }
        if output.binary:
            blobs.append(binary_of(output.data))
            tensor["parameters"] = {"binary_data_size": len(blobs[-1])}
        else:
            tensor["data"] = output.data.ravel().tolist()
        described.append(tensor)
    document: dict[str, Any] = {"model_name": model_name, "model_version": model_version}
    if request_id is not None:
        document["id"] = request_id
    document["outputs"] = described
    header = pydantic_core.to_json(document)
    if not blobs:
        return EncodedResponse(header, None)
    return EncodedResponse(b"".join([header, *blobs]), len(header))
