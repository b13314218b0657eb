"""Assembles the app: lifespan (model, batcher), middleware, routers, error handlers, demo page."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import torch
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from service.api import add_model_routes
from service.batching import MicroBatcher
from service.config import Settings, get_settings
from service.endpoints import DEMO_PAGE, STATIC
from service.errors import install_error_handlers
from service.health import add_health_routes
from service.image_routes import IMAGE_ENDPOINTS, RESPONSE_MODELS, add_image_routes
from service.images import ImageLimits
from service.inference import (
    ENCODE_AUTO,
    ENCODE_PNG_ROWS,
    ENCODE_PNG_ROWS_AUTO,
    ENCODE_SIZED_AUTO,
    Inference,
    encoding_png_rows,
    encoding_sized_with_auto,
    encoding_with_auto,
    on_arrays,
)
from service.limits import MAX_LATENT
from service.metrics import Metrics
from service.middleware import BodyLimitMiddleware, OverloadMiddleware, RequestContextMiddleware
from service.model import ModelRunner
from service.oip.routes import add_oip_routes
from service.openapi import install_openapi
from service.sampling import LatentSampler
from service.security import install_security

STATIC_DIR = Path(__file__).resolve().parent / "static"
logger = logging.getLogger("service.main")


def build_inference(runner: ModelRunner, settings: Settings, metrics: Metrics) -> Inference:
    batcher = MicroBatcher(
        {
            "encode": on_arrays(runner.encode),
            "decode": on_arrays(runner.decode),
            ENCODE_AUTO: encoding_with_auto(runner.encode),
            ENCODE_SIZED_AUTO: encoding_sized_with_auto(runner.encode),
            ENCODE_PNG_ROWS: encoding_png_rows(runner.encode, auto=False),
            ENCODE_PNG_ROWS_AUTO: encoding_png_rows(runner.encode, auto=True),
        },
        max_rows=settings.micro_batch_size,
        max_wait=settings.micro_batch_wait_ms / 1000,
        on_batch=lambda operation, rows: metrics.labelled(metrics.model_batch, operation).observe(rows),
        inline_rows=settings.inline_batch_rows,
        threaded=frozenset({ENCODE_SIZED_AUTO}),  # up to 0.4 ms of auto a picture: never on the event loop
    )
    return Inference(runner, batcher, LatentSampler(runner.card, MAX_LATENT))


def make_lifespan(settings: Settings, runner: ModelRunner | None):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        loaded = (
            runner
            if runner is not None
            else ModelRunner.load(settings.model_path, settings.decoder_weights, settings.encoder_weights)
        )
        inference = build_inference(loaded, settings, app.state.metrics)
        inference.batcher.start()
        app.state.metrics.set_model(loaded.card)
        app.state.inference, app.state.ready = inference, True
        logger.info("model %s ready (sha256 %s)", loaded.card.get("name"), loaded.card.get("sha256"))
        yield
        app.state.ready = False
        await inference.batcher.stop()

    return lifespan


def create_app(settings: Settings | None = None, runner: ModelRunner | None = None) -> FastAPI:
    """The service; ``runner`` lets the caller load (and check) the model before serving."""
    settings = settings or get_settings()
    app = FastAPI(
        title="routed-vae",
        version="1.0.0",
        description="An MNIST VAE whose latent dimension k means 'how much of digit k' (gradient routing). "
        'Every error is {"error": {"code", "message", "details"?}}.',
        lifespan=make_lifespan(settings, runner),
        # FastAPI's native OpenTelemetry looks up the global providers on every request (8 µs here) only to find
        # them unconfigured; this service reports through /metrics and its JSON logs instead.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        redoc_url=None,  # one docs page, /docs, under its own Content-Security-Policy (service/security_headers.py)
        swagger_ui_parameters={"validatorUrl": None},  # no badge that sends the schema's URL to swagger.io
    )
    app.state.metrics = Metrics()
    app.state.ready = False
    app.state.image_limits = ImageLimits(settings.max_image_bytes, settings.max_image_pixels)
    install_error_handlers(app)
    add_image_routes(app)  # first: the router tries routes in order, and these carry most requests
    add_model_routes(app)
    # Without a metrics port; with one, /metrics is served on that port alone (service/metrics_server.py).
    add_health_routes(app, with_metrics=not settings.metrics_port)
    add_oip_routes(app, max_body_bytes=settings.max_body_bytes)
    app.mount(STATIC, StaticFiles(directory=STATIC_DIR), name="static")

    @app.get(DEMO_PAGE, include_in_schema=False)
    async def read_demo_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    install_openapi(app, IMAGE_ENDPOINTS, RESPONSE_MODELS)
    # Added last = outermost: request id and logging see every response, 413 and 503 included.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout_seconds)
    app.add_middleware(
        OverloadMiddleware,
        metrics=app.state.metrics,
        max_in_flight=settings.max_concurrent_requests,
        retry_after=settings.retry_after_seconds,
    )
    install_security(app, settings)  # headers, CORS, API keys, rate limit: answered before any body is read
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app
