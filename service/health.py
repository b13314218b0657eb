"""Liveness, readiness and Prometheus metrics, put on the app itself (as service/api.py explains)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from service.endpoints import LIVENESS, METRICS, READINESS
from service.errors import error_response, not_ready_response
from service.schemas import ErrorResponse


async def read_liveness() -> dict[str, str]:
    """Liveness: 200 while the process runs."""
    return {"status": "ok"}


async def read_readiness(request: Request) -> JSONResponse:
    """Readiness: 200 once the model is loaded and warmed, 503 before that and while shutting down."""
    if getattr(request.app.state, "ready", False):
        return JSONResponse({"status": "ready"})
    if getattr(request.app.state, "draining", False):
        return error_response("not_ready", "The server is shutting down.", headers={"Retry-After": "1"})
    return not_ready_response()


async def read_metrics(request: Request) -> Response:
    """Prometheus metrics in text format."""
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def add_health_routes(app: FastAPI, with_metrics: bool) -> None:
    """/healthz, /readyz and, unless ROUTED_VAE_METRICS_PORT serves it on its own port, /metrics."""
    tags: list[str | Enum] = ["operations"]
    app.add_api_route(LIVENESS, read_liveness, methods=["GET"], tags=tags)
    not_ready: dict[int | str, dict[str, Any]] = {503: {"model": ErrorResponse, "description": "not ready"}}
    app.add_api_route(READINESS, read_readiness, methods=["GET"], responses=not_ready, tags=tags)
    if with_metrics:
        app.add_api_route(METRICS, read_metrics, methods=["GET"], response_class=Response, tags=tags)
