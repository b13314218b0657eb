"""`python -m service`: check and load the model, then serve it with uvicorn."""

from __future__ import annotations

import argparse
import gc
import sys

from service.config import ConfigurationError, Settings
from service.drain import run_with_drain
from service.logs import configure_logging
from service.main import create_app
from service.metrics_server import serve_metrics_port
from service.model import ModelLoadError, ModelRunner


def main(argv: list[str] | None = None) -> int:
    defaults = Settings()
    parser = argparse.ArgumentParser(
        prog="python -m service", description="Serve the routed VAE. Other settings: ROUTED_VAE_* variables."
    )
    parser.add_argument("--host", default=defaults.host, help=f"address to bind (default: {defaults.host})")
    parser.add_argument("--port", type=int, default=defaults.port, help=f"TCP port (default: {defaults.port})")
    args = parser.parse_args(argv)
    settings = defaults.model_copy(update={"host": args.host, "port": args.port})
    configure_logging(settings.log_level)
    try:
        runner = ModelRunner.load(settings.model_path)  # fail fast, before the port opens
        app = create_app(settings, runner)
        serve_metrics_port(settings, app.state.metrics.registry)
    except (ModelLoadError, ConfigurationError) as error:
        print(f"error: cannot start: {error}", file=sys.stderr)
        return 2
    # What exists now (torch, the model, FastAPI's routes and schemas) lives until exit: move it out of the
    # collector's reach. Otherwise every full collection walks all of it, about 0.2 s on this CPU, and under
    # load those pauses made the slowest 1 % of requests (bench/serve.py, BENCHMARKS.md).
    gc.collect()
    gc.freeze()
    run_with_drain(app, app.state, settings.drain_seconds, **uvicorn_options(settings))
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
