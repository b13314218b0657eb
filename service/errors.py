"""The one error shape, ``{"error": {"code", "message", "details"?}}``; the one place an error code gets its status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mnist_form.errors import InputError
from service.endpoints import speaks_oip

logger = logging.getLogger("service.errors")

STATUS_OF_CODE = {
    "invalid_json": 400,
    "empty_body": 400,
    "invalid_multipart": 400,
    "unauthorized": 401,
    "not_found": 404,
    "method_not_allowed": 405,
    "not_acceptable": 406,
    "request_timeout": 408,
    "payload_too_large": 413,
    "too_many_images": 413,
    "image_too_large": 413,
    "unsupported_media_type": 415,
    "unsupported_image": 415,
    "validation_error": 422,
    "unexpected_field": 422,
    "no_images": 422,
    "invalid_base64": 422,
    "corrupt_image": 422,
    "blank_image": 422,
    "wrong_image_size": 422,
    "rate_limited": 429,
    "not_ready": 503,
    "overloaded": 503,
    "internal_error": 500,
}
# Codes for the framework's own HTTPExceptions (unknown route, wrong method, unparsable JSON body, ...).
CODE_OF_STATUS = {
    400: "invalid_json",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    503: "service_unavailable",
}
NOT_READY_MESSAGE = "The model is not loaded yet; retry shortly."
SCHEMA_MISMATCH = "The request does not match the schema; see details."


class NotReady(Exception):
    """The model is not loaded yet: 503 with Retry-After."""


def status_of(code: str) -> int:
    """The HTTP status for an error code; a code missing from the table is a bug, answered as 500."""
    return STATUS_OF_CODE.get(code, 500)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_response(code: str, message: str, details: Any = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status_of(code), headers=headers)


def protocol_error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The Open Inference Protocol's error shape, {"error": "<message>"}, which v2 clients parse."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def error_response_at(path: str, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """``error_response`` for a request to ``path``: in the protocol's shape on its v2 paths."""
    if speaks_oip(path):
        return protocol_error_response(status_of(code), message, headers)
    return error_response(code, message, headers=headers)


def not_ready_response() -> JSONResponse:
    return error_response("not_ready", NOT_READY_MESSAGE, headers={"Retry-After": "1"})


def validation_details(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic errors without the offending input echoed back (it may be huge or non-finite)."""
    return [
        {"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg", ""))} for error in errors[:20]
    ]


def schema_mismatch(errors: list[Any]) -> InputError:
    """The 422 for a request that does not match its schema, with pydantic-style details."""
    return InputError("validation_error", SCHEMA_MISMATCH, validation_details(errors))


async def handle_input_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, InputError)
    return error_response(error.code, error.message, error.details)


async def handle_not_ready(_: Request, __: Exception) -> JSONResponse:
    return not_ready_response()


async def handle_validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = list(error.errors())
    if any(item.get("type") == "json_invalid" for item in errors):
        return error_response("invalid_json", "The request body is not valid JSON.")
    mismatch = schema_mismatch(errors)
    return error_response(mismatch.code, mismatch.message, mismatch.details)


def http_error_message(request: Request, error: StarletteHTTPException) -> str:
    if error.status_code == 404:
        return f"No route {request.url.path}. See /docs for the endpoints."
    if error.status_code == 405:
        return f"{request.method} is not allowed on {request.url.path}. See /docs."
    if error.status_code == 400:  # FastAPI raises a bare 400 only when a JSON body cannot be parsed.
        return "The request body is not valid JSON (malformed, not UTF-8, too deeply nested or a too-long integer)."
    return str(error.detail)


async def handle_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if speaks_oip(request.url.path):
        message = http_error_message(request, error)
        return protocol_error_response(error.status_code, message, getattr(error, "headers", None))
    body = error_body(CODE_OF_STATUS.get(error.status_code, "http_error"), http_error_message(request, error))
    return JSONResponse(body, status_code=error.status_code, headers=getattr(error, "headers", None))


async def handle_unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    message = "Internal server error. This is a bug; it has been logged."
    return error_response_at(request.url.path, "internal_error", message)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(InputError, handle_input_error)
    app.add_exception_handler(NotReady, handle_not_ready)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(Exception, handle_unexpected_error)
