"""CORS for an allowlist of origins, by Starlette's CORSMiddleware; other origins get no CORS headers at all.

Credentials (cookies) are off: the API authenticates by key headers, which a page must send explicitly.
"""

from __future__ import annotations

import re

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from service.config import ConfigurationError

ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")  # what a browser sends: no path, no slash
ALLOWED_METHODS = ("GET", "POST")
ALLOWED_HEADERS = ("Authorization", "X-API-Key", "Content-Type")
EXPOSED_HEADERS = ("Retry-After", "X-Request-ID")


def parse_origins(text: str) -> tuple[str, ...]:
    """ROUTED_VAE_CORS_ORIGINS as a tuple; an entry a browser could never send is a configuration error."""
    origins = tuple(part.strip() for part in text.split(",") if part.strip())
    for origin in origins:
        if not ORIGIN.match(origin):
            raise ConfigurationError(
                f"ROUTED_VAE_CORS_ORIGINS: {origin!r} is not an origin; write scheme://host[:port], "
                "for example https://example.com (no path, no trailing slash)"
            )
    return origins


def origin_of(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"origin":
            origin: str = value.decode("latin-1")
            return origin
    return None


class CorsAllowlistMiddleware:
    """Requests from listed origins go through CORSMiddleware; the rest bypass it, so they get no CORS headers
    (CORSMiddleware would still answer an unlisted origin's preflight with its Allow-Methods and Allow-Headers)."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        self.app, self.origins = app, frozenset(origins)
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            allow_credentials=False,
            expose_headers=EXPOSED_HEADERS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and origin_of(scope) in self.origins:
            await self.cors(scope, receive, send)
            return
        await self.app(scope, receive, send)
