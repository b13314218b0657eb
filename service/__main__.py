"""`python -m service`: serve the model with uvicorn, in one process or (ROUTED_VAE_WORKERS) several."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from service.config import CANNOT_START, Settings
from service.logs import configure_logging


def settings_problems(error: ValidationError) -> str:
    """One line per bad setting, named as the environment variable that sets it."""
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"])
        lines.append(f"ROUTED_VAE_{field.upper()}={problem.get('input')!r}: {problem['msg']}")
    return "; ".join(lines)


def main(argv: list[str] | None = None) -> int:
    try:
        defaults = Settings()
    except ValidationError as error:
        print(f"error: cannot start: {settings_problems(error)}", file=sys.stderr)
        return CANNOT_START
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
