"""Security headers on every response: a strict Content-Security-Policy, nosniff, no referrer.

The demo page (service/static/) loads only its own files and runs no inline code, so one strict policy covers
it and every other response. The API docs (/docs, FastAPI's Swagger UI page) load Swagger UI from a CDN and
start it with an inline script, so they get a policy of their own: that CDN, and exactly the inline scripts
the page holds, allowed by their sha256 (computed from the page as served, so it follows FastAPI's markup).
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.endpoints import DOCS

STRICT_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SWAGGER_CDN = "https://cdn.jsdelivr.net"  # FastAPI's default home of Swagger UI's JavaScript and CSS
SWAGGER_FAVICON_HOST = "https://fastapi.tiangolo.com"
# Swagger UI sets inline styles as it renders, so styles (not scripts) may be inline on the docs pages.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' {scripts}; style-src 'self' {cdn} 'unsafe-inline'; "
    "img-src 'self' data: {favicon}; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
COMMON_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
STRICT_HEADERS = (*COMMON_HEADERS, (b"content-security-policy", STRICT_POLICY.encode()))
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def is_docs_page(path: str) -> bool:
    return path == DOCS or path.startswith(DOCS + "/")


def docs_policy(page: bytes) -> str:
    """The docs pages' policy, allowing each inline script of ``page`` by its sha256."""
    digests = [hashlib.sha256(script).digest() for script in INLINE_SCRIPT.findall(page)]
    hashes = [f"'sha256-{base64.b64encode(digest).decode()}'" for digest in digests]
    scripts = " ".join([SWAGGER_CDN, *hashes])
    return DOCS_POLICY.format(scripts=scripts, cdn=SWAGGER_CDN, favicon=SWAGGER_FAVICON_HOST)


def with_headers(message: Message, headers: tuple[tuple[bytes, bytes], ...]) -> Message:
    # A new list: a response object's own header list is never grown in place.
    return {**message, "headers": [*message.get("headers", ()), *headers]}


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response; the docs pages are buffered to hash their scripts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if is_docs_page(scope["path"]):
            await self.app(scope, receive, self.docs_sender(send))
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = with_headers(message, STRICT_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def docs_sender(send: Send) -> Send:
        """Holds back the response start until the (small) page is complete, then sends it with its policy."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_docs(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = b"".join(chunks)
            policy = (b"content-security-policy", docs_policy(page).encode())
            await send(with_headers(start, (*COMMON_HEADERS, policy)))
            await send({"type": "http.response.body", "body": page})

        return send_docs
