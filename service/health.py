"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from service.errors import error_response, not_ready_response
from service.schemas import ErrorResponse

router = APIRouter(tags=["operations"])
metrics_router = APIRouter(tags=["operations"])  # left out when ROUTED_VAE_METRICS_PORT serves metrics


@router.get("/healthz")
async def read_liveness() -> dict[str, str]:
    """Liveness: 200 while the process runs."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"model": ErrorResponse, "description": "not ready"}})
async def read_readiness(request: Request) -> JSONResponse:
    """Readiness: 200 once the model is loaded and warmed, 503 before that and while shutting down."""
    if getattr(request.app.state, "ready", False):
        return JSONResponse({"status": "ready"})
    if getattr(request.app.state, "draining", False):
        return error_response("not_ready", "The server is shutting down.", headers={"Retry-After": "1"})
    return not_ready_response()


@metrics_router.get("/metrics", response_class=Response)
async def read_metrics(request: Request) -> Response:
    """Prometheus metrics in text format."""
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
