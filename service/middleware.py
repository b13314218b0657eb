"""ASGI middleware: request id + access log + metrics, overload shedding, and the body size limit."""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.endpoints import FIXED_PATHS, STATIC, oip_infer_template, runs_inference
from service.errors import error_response_at
from service.logs import AccessLog
from service.metrics import Metrics

SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def endpoint_label(scope: Scope) -> str:
    """The path template of the route that answered, else the path if it is one of the service's own (refused
    before routing), ``/static`` for static files, else "other": labels stay bounded whatever clients send."""
    template: str | None = getattr(scope.get("route"), "path", None)
    if template is not None:
        return template
    path: str = scope["path"]
    if path in FIXED_PATHS:
        return path
    template = oip_infer_template(path)
    if template is not None:
        return template
    return STATIC if path.startswith(STATIC + "/") else "other"


class RequestIds:
    """Fresh request ids: 32 hex digits, a random half drawn once per process and a counter. As unique as a
    random UUID's hex in practice, without a system call for random bytes on every request."""

    def __init__(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.counter = itertools.count()

    def __call__(self, scope: Scope) -> str:
        """The client's X-Request-ID if it is safe to log and echo, else a fresh id."""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                text: str = value.decode("latin-1")
                if SAFE_REQUEST_ID.match(text):
                    return text
        return f"{self.prefix}{next(self.counter):016x}"


class RequestContextMiddleware:
    """Gives every request an id (X-Request-ID), logs it as JSON and records its metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics
        self.request_id = RequestIds()
        self.access_log = AccessLog()
        self.in_flight = 0  # requests of any kind between their start and their log line

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        began, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        self.in_flight += 1
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.in_flight -= 1
            self.record(scope, request_id, status, time.perf_counter() - began)

    def record(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        endpoint = endpoint_label(scope)
        self.metrics.labelled(self.metrics.requests, endpoint, scope["method"], str(status)).inc()
        self.metrics.labelled(self.metrics.latency, endpoint).observe(seconds)
        client = scope.get("client")
        extra = {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client": client[0] if client else None,
        }
        if "key_id" in scope["state"]:  # set by service/auth.py: a short hash naming the key, never the key
            extra["key_id"] = scope["state"]["key_id"]
        self.access_log(extra, at_once=self.in_flight == 0)  # under load, written with others as the loop's pass ends


class OverloadMiddleware:
    """Answers 503 with Retry-After once too many inference requests are in flight."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_in_flight: int, retry_after: int) -> None:
        self.app, self.metrics = app, metrics
        self.max_in_flight, self.retry_after = max_in_flight, retry_after
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not runs_inference(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            self.metrics.rejected.inc()
            response = error_response_at(
                scope["path"],
                "overloaded",
                f"The server is at its limit of {self.max_in_flight} concurrent requests; retry shortly.",
                headers={"Retry-After": str(self.retry_after)},
            )
            await response(scope, receive, send)
            return
        self.in_flight += 1
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.metrics.in_flight.dec()


class BodyLimitMiddleware:
    """Reads at most ``max_bytes`` of body (413 beyond, before buffering more), within a time limit (408)."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app, self.max_bytes, self.timeout = app, max_bytes, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = self.declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self.too_large(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.timeout):  # no extra task per request, unlike wait_for
                body = await self.read_body(receive)
        except TimeoutError:
            message = "The request body took too long to arrive."
            await error_response_at(scope["path"], "request_timeout", message)(scope, receive, send)
            return
        if body is None:
            await self.too_large(scope, receive, send)
            return
        await self.app(scope, self.replay(body, receive), send)

    @staticmethod
    def declared_length(scope: Scope) -> int | None:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return None
        return None

    async def read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it grows past the limit."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    def replay(body: bytes, receive: Receive) -> Receive:
        """Hands the buffered body to the app once, then passes on the client's own messages."""
        sent = False

        async def replay_receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay_receive

    async def too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"The request body may be at most {self.max_bytes} bytes."
        response = error_response_at(scope["path"], "payload_too_large", message)
        await response(scope, receive, send)
