"""One serving process: check and load the model, build the app, serve it with uvicorn until stopped."""

from __future__ import annotations

import gc
import socket
import sys

from service.config import ConfigurationError, Settings
from service.drain import run_with_drain
from service.main import create_app
from service.metrics_server import serve_metrics_port
from service.model import ModelLoadError, ModelRunner

YOUNG_THRESHOLD = 10_000  # net new container objects between collections of the youngest generation
CANNOT_START = 2  # exit status when the model or the settings are unusable (a supervisor of workers stops on it)


def uvicorn_options(settings: Settings) -> dict[str, object]:
    """How uvicorn serves the app: its fast stack (httptools, uvloop: "auto" picks them, and they are
    dependencies), no WebSocket support (nothing here uses it, and "auto" would import a library for it),
    our own logging."""
    return {
        "host": settings.host,
        "port": settings.port,
        "http": "auto",
        "loop": "auto",
        "ws": "none",
        "log_config": None,
        "access_log": False,
        "timeout_keep_alive": settings.keep_alive_seconds,
        "timeout_graceful_shutdown": settings.graceful_shutdown_seconds,
    }


def settle_collector() -> None:
    """Python's cyclic garbage collector set up for serving. What exists now (torch, the model, FastAPI's routes
    and schemas) lives until exit: ``gc.freeze`` moves it out of the collector's reach; otherwise every full
    collection walks all of it, about 0.2 s on this CPU, and under load those pauses made the slowest 1 % of
    requests (bench/serve.py, BENCHMARKS.md). Reference counting frees almost all a request allocates, so the
    youngest generation is collected only past YOUNG_THRESHOLD net new objects instead of Python's 700: 64
    requests in flight hold several thousand, and at 700 collections ran several times per micro-batch, each
    finding nothing (40 µs of a one-PNG request at c=64, in-process, 2026-12-02)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def serve(settings: Settings, sockets: list[socket.socket] | None = None) -> int:
    """Serve on ``settings``' address, or on ``sockets`` already bound (a worker's: its supervisor serves the
    metrics port, if any, for all workers); the exit status."""
    try:
        runner = ModelRunner.load(settings.model_path)  # fail fast, before the port opens
        app = create_app(settings, runner)
        if sockets is None:
            serve_metrics_port(settings, app.state.metrics.registry)
    except (ModelLoadError, ConfigurationError) as error:
        print(f"error: cannot start: {error}", file=sys.stderr)
        return CANNOT_START
    settle_collector()
    run_with_drain(app, app.state, settings.drain_seconds, sockets, **uvicorn_options(settings))
    return 0
