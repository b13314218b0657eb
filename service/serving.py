"""One serving process: check and load the model, build the app, serve it with uvicorn until stopped."""

from __future__ import annotations

import gc
import socket
import sys

from service.config import CANNOT_START, ConfigurationError, Settings
from service.drain import run_with_drain
from service.http_protocol import OneWritePerResponse
from service.main import create_app
from service.metrics_server import serve_metrics_port
from service.model import ModelLoadError, ModelRunner


def uvicorn_options(settings: Settings) -> dict[str, object]:
    """How uvicorn serves the app: its fast stack (httptools, uvloop: "auto" picks them, and they are
    dependencies), no WebSocket support (nothing here uses it, and "auto" would import a library for it),
    our own logging. Each response leaves in one write (service/http_protocol.py)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "http": OneWritePerResponse,
        "loop": "auto",
        "ws": "none",
        "log_config": None,
        "access_log": False,
        "timeout_keep_alive": settings.keep_alive_seconds,
        "timeout_graceful_shutdown": settings.graceful_shutdown_seconds,
    }


def serve(settings: Settings, sockets: list[socket.socket] | None = None) -> int:
    """Serve on ``settings``' address, or on ``sockets`` already bound (a worker's: its supervisor serves the
    metrics port, if any, for all workers); the exit status."""
    try:
        runner = ModelRunner.load(
            settings.model_path, settings.decoder_weights, settings.encoder_weights
        )  # fail fast, before the port opens
        app = create_app(settings, runner)
        if sockets is None:
            serve_metrics_port(settings, app.state.metrics.registry)
    except (ModelLoadError, ConfigurationError) as error:
        print(f"error: cannot start: {error}", file=sys.stderr)
        return CANNOT_START
    # What exists now (torch, the model, FastAPI's routes and schemas) lives until exit: move it out of the
    # collector's reach. Otherwise every full collection walks all of it, about 0.2 s on this CPU, and under
    # load those pauses made the slowest 1 % of requests (bench/serve.py, BENCHMARKS.md).
    gc.collect()
    gc.freeze()
    run_with_drain(app, app.state, settings.drain_seconds, sockets, **uvicorn_options(settings))
    return 0
