"""Assembles the security layers from the settings; each is added only when configured, except the headers.

Order, outermost first (Starlette runs the last added first): security headers on every response, CORS
(so that preflights and 401/429 answers carry CORS headers for listed origins), API keys, then the rate
limit, keyed by the accepted key. All of them answer before the body is read or an inference slot is taken.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from service.api_keys import key_ring
from service.auth import ApiKeyMiddleware
from service.config import Settings
from service.cors import CorsAllowlistMiddleware, parse_origins
from service.endpoints import is_open
from service.rate_limit import RateLimitMiddleware
from service.security_headers import SecurityHeadersMiddleware

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <API key>"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


def install_security(app: FastAPI, settings: Settings) -> None:
    """Adds the security middleware; raises ConfigurationError for unusable key files or origins."""
    keys = key_ring(settings)
    origins = parse_origins(settings.cors_origins)
    if settings.rate_limit_rps > 0:
        app.add_middleware(
            RateLimitMiddleware,
            metrics=app.state.metrics,
            rate=settings.rate_limit_rps,
            burst=settings.rate_limit_burst,
        )
    if keys:
        app.add_middleware(ApiKeyMiddleware, keys=keys)
        document_keys(app)
    if origins:
        app.add_middleware(CorsAllowlistMiddleware, origins=origins)
    app.add_middleware(SecurityHeadersMiddleware)


def document_keys(app: FastAPI) -> None:
    """/docs shows an Authorize button, and each protected operation says it needs a key."""
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build_schema()
        if "securitySchemes" not in schema.get("components", {}):
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            for path, operations in schema["paths"].items():
                if not is_open(path):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}, {"apiKey": []}]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
