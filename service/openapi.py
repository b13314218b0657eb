"""/openapi.json (and so /docs): FastAPI's schema of its routes, plus the image endpoints, which are plain
Starlette routes (service/image_routes.py) that FastAPI does not see. Uses FastAPI's documented way to
extend the schema: ``get_openapi`` once, then additions, cached on ``app.openapi_schema``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from service.images import ALLOWED_FORMATS, PREPROCESS_MODES
from service.requests import MULTIPART_TYPE
from service.schemas import ErrorResponse, ImagesRequest

REF_TEMPLATE = "#/components/schemas/{model}"


def error_responses(model: type[BaseModel], descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses=`` for error statuses that all answer with ``model``."""
    return {status: {"model": model, "description": description} for status, description in descriptions.items()}


ERROR_RESPONSES = error_responses(
    ErrorResponse,
    {
        400: "malformed request (invalid JSON or multipart)",
        413: "body, image or batch too large",
        415: "unsupported Content-Type or image format",
        422: "a value out of range or of the wrong shape",
        503: "not ready, or overloaded (with Retry-After)",
    },
)
PREPROCESS_PARAMETER = {
    "name": "preprocess",
    "in": "query",
    "required": False,
    "description": "auto: any picture of one digit -> MNIST form; none: 28x28 taken as is",
    "schema": {"type": "string", "enum": list(PREPROCESS_MODES), "default": "auto"},
}


def reference(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def json_content(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": reference(model)}}


def image_request_body() -> dict[str, Any]:
    """Image files as multipart parts named ``file``, or JSON ``{"images": [...]}``."""
    file_types = ", ".join(f"image/{kind.lower()}" for kind in ALLOWED_FORMATS)
    multipart = {
        "schema": {
            "type": "object",
            "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"}}},
            "required": ["file"],
        },
        "encoding": {"file": {"contentType": file_types}},
    }
    return {"required": True, "content": {MULTIPART_TYPE: multipart, **json_content(ImagesRequest)}}


def image_operation(endpoint: Any, response_model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI operation of one image endpoint, from its docstring and response model."""
    errors = {
        str(status): {"description": item["description"], "content": json_content(ErrorResponse)}
        for status, item in ERROR_RESPONSES.items()
    }
    return {
        "tags": ["model"],
        "summary": endpoint.__name__.replace("_", " ").capitalize(),
        "description": (endpoint.__doc__ or "").strip(),
        "operationId": f"{endpoint.__name__}_post",
        "parameters": [PREPROCESS_PARAMETER],
        "requestBody": image_request_body(),
        "responses": {"200": {"description": "Successful Response", "content": json_content(response_model)}, **errors},
    }


def add_schemas(schema: dict[str, Any], models: list[type[BaseModel]]) -> None:
    _, definitions = models_json_schema([(model, "validation") for model in models], ref_template=REF_TEMPLATE)
    schema.setdefault("components", {}).setdefault("schemas", {}).update(definitions.get("$defs", {}))


def describe_image_routes(
    schema: dict[str, Any], endpoints: dict[str, Any], response_models: dict[str, type[BaseModel]]
) -> None:
    """Adds the image endpoints (path -> handler, path -> response model) to an OpenAPI schema."""
    for path, endpoint in endpoints.items():
        schema["paths"][path] = {"post": image_operation(endpoint, response_models[path])}
    add_schemas(schema, [ImagesRequest, ErrorResponse, *response_models.values()])


def install_openapi(app: FastAPI, endpoints: dict[str, Any], response_models: dict[str, type[BaseModel]]) -> None:
    """Makes ``app.openapi()`` include the image endpoints."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            describe_image_routes(schema, endpoints, response_models)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
