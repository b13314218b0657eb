"""How /docs describes the v2 routes: path parameters, error answers, and the inference request body."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from service.oip.schemas import InferenceRequest, ProtocolError, self_contained_schema
from service.openapi import error_responses

MODEL_NAME = Annotated[
    str,
    Path(
        description="routed-vae-encoder, routed-vae-decoder or routed-vae-classifier",
        examples=["routed-vae-decoder"],
    ),
]
MODEL_VERSION = Annotated[
    str, Path(description="the model card's version (GET /v2/models/{name} lists it)", examples=["1.0.0"])
]
ERRORS = error_responses(
    ProtocolError,
    {
        400: "a malformed request: JSON, shapes, datatypes, element counts, values out of range",
        404: "unknown model or version",
        413: "body, inflated body or image too large",
        415: "unsupported Content-Encoding",
        503: "not ready, or overloaded (with Retry-After)",
    },
)
EXAMPLE_REQUEST = {
    "id": "example-1",
    "inputs": [
        {"name": "latent", "shape": [1, 10], "datatype": "FP32", "data": [0, 0, 0, 1.2, 0, 0, 0, 0, 0.3, 0]},
    ],
    "outputs": [{"name": "pixels"}],
}
HEADERS = [
    {
        "name": "Inference-Header-Content-Length",
        "in": "header",
        "required": False,
        "description": "length of the JSON object when binary tensor data follows it in the body",
        "schema": {"type": "integer", "minimum": 1},
    },
    {
        "name": "Content-Encoding",
        "in": "header",
        "required": False,
        "description": "the body's compression; its inflated size is held to the body limit",
        "schema": {"type": "string", "enum": ["identity", "gzip", "deflate"]},
    },
]
REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": self_contained_schema(InferenceRequest), "example": EXAMPLE_REQUEST},
        "application/octet-stream": {
            "schema": {
                "type": "string",
                "format": "binary",
                "description": "the JSON object, then each binary input's bytes in input order "
                "(Inference-Header-Content-Length gives the JSON's length)",
            }
        },
    },
}
BINARY_RESPONSE = {
    "description": "JSON, or with binary outputs the JSON object then their bytes "
    "(Inference-Header-Content-Length gives the JSON's length); gzip or deflate as Accept-Encoding asks",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}
INFER_OPENAPI: dict[str, Any] = {
    "responses": {200: BINARY_RESPONSE, **ERRORS},
    "openapi_extra": {"parameters": HEADERS, "requestBody": REQUEST_BODY},
}
