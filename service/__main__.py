"""`python -m service`: serve the model with uvicorn, in one process or (ROUTED_VAE_WORKERS) several."""

from __future__ import annotations

import argparse
import sys

from service.config import Settings
from service.logs import configure_logging


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
    # Imported here, not above: a supervisor of several workers never imports torch and the app (about 240 MB).
    if settings.workers > 1:
        from service.workers import serve_workers

        return serve_workers(settings)
    from service.serving import serve

    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
