"""The protocol's JSON objects as pydantic models: the request is validated with them, /docs shows them all."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Datatype = Literal[
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"
]  # fmt: skip
ParameterValue = str | int | float | bool
Parameters = Annotated[
    dict[str, ParameterValue],
    Field(max_length=64, description="key/value parameters; values are strings, numbers or booleans"),
]
Dimension = Annotated[int, Field(ge=0, le=2**63 - 1)]
MAX_TENSORS = 16


class StrictModel(BaseModel):
    # Strict: "5" is not a number and true is not 1. Unknown fields are ignored, as the protocol's own
    # examples send some (Triton's binary example carries "model_name").
    model_config = ConfigDict(strict=True, allow_inf_nan=False)


class RequestInput(StrictModel):
    name: str = Field(min_length=1, max_length=256, description="the input tensor's name")
    shape: list[Dimension] = Field(max_length=8, description="the whole batch's shape, rows first")
    datatype: Datatype = Field(description="element type")
    parameters: Parameters | None = Field(
        None, description='"binary_data_size": bytes of this tensor in the binary part of the body'
    )
    data: list[Any] | None = Field(
        None, description="row-major elements, flat or nested; BYTES elements are strings (base64 for images)"
    )


class RequestOutput(StrictModel):
    name: str = Field(min_length=1, max_length=256, description="an output tensor's name")
    parameters: Parameters | None = Field(None, description='"binary_data": true for this output as binary data')


class InferenceRequest(StrictModel):
    id: str | None = Field(None, max_length=256, description="echoed in the response")
    parameters: Parameters | None = Field(
        None,
        description='"binary_data_output": true for all outputs as binary data; "preprocess": "auto" (default) '
        'or "none" for image inputs',
    )
    inputs: list[RequestInput] = Field(min_length=1, max_length=MAX_TENSORS, description="the input tensors")
    outputs: list[RequestOutput] | None = Field(
        None, max_length=MAX_TENSORS, description="the outputs wanted; absent = all of them"
    )


class ResponseOutput(BaseModel):
    name: str = Field(description="the output tensor's name")
    shape: list[int] = Field(description="its shape, rows first")
    datatype: Datatype = Field(description="element type")
    parameters: dict[str, int] | None = Field(None, description='"binary_data_size" when sent as binary data')
    data: list[float | int] | None = Field(None, description="row-major elements, when sent as JSON")


class InferenceResponse(BaseModel):
    model_name: str = Field(description="the model that answered")
    model_version: str = Field(description="its version")
    id: str | None = Field(None, description="the request's id, when it had one")
    outputs: list[ResponseOutput] = Field(description="the requested outputs, in the order requested")


class TensorMetadata(BaseModel):
    name: str
    datatype: Datatype
    shape: list[int] = Field(description="-1 for a variable dimension (the batch)")


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class ServerLive(BaseModel):
    live: bool


class ServerReady(BaseModel):
    ready: bool


class ModelReady(BaseModel):
    name: str
    ready: bool


class ProtocolError(BaseModel):
    error: str = Field(description="what was wrong")


def self_contained_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema with its nested models written in place, for an OpenAPI requestBody."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
