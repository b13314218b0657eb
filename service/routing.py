"""A FastAPI route without FastAPI's per-request machinery, for the hot image endpoints.

FastAPI documents a route from its signature and ``openapi_extra``, then on every request resolves
dependencies, validates parameters and wraps the call in two exit stacks and a body-size wrapper:
about 0.1 ms on this CPU, as much as a micro-batched encode of the same image. ``PlainRoute`` keeps
the documentation and replaces the per-request part with a direct call: the endpoint takes the
``Request`` and returns a ``Response``; errors it raises reach the app's exception handlers as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import ApiError, api_error_response

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


def plain_asgi(endpoint: Endpoint) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


class PlainRoute(APIRoute):
    """Documented like any FastAPI route; served by calling ``endpoint(request)`` directly.

    Add it to the app's own router (``app.router.add_api_route``): FastAPI dispatches a route that
    came in through ``include_router`` via its per-request wrapper again, which keeps half the cost.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.app = plain_asgi(endpoint)

    def get_route_handler(self) -> Endpoint:
        endpoint: Endpoint = self.endpoint  # also when included: no dependency resolution
        return endpoint


class DirectRoutes:
    """ASGI middleware: a POST to one of ``endpoints`` calls its handler directly; the rest goes on.

    The innermost middleware, so the request has its id, log line, metrics, overload check and size limit
    like any other. Starlette's exception middleware, FastAPI's exit stack and the router's walk through
    every route are skipped: together about as much time as the handler's own work for one image. The
    same endpoints are registered as ``PlainRoute``s too, for the docs and for anything this lets through
    (a ``root_path``). An ``ApiError`` is answered here; anything else propagates to the server-error
    handler, as from a route.
    """

    def __init__(self, app: ASGIApp, endpoints: dict[str, Endpoint]) -> None:
        self.app, self.endpoints = app, endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.endpoints.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await endpoint(Request(scope, receive, send))
        except ApiError as error:
            response = api_error_response(error)
        await response(scope, receive, send)
