"""ROUTED_VAE_METRICS_PORT: Prometheus metrics on a port of their own, without a key, for in-cluster scraping.

prometheus_client's own threaded HTTP server, in this process beside uvicorn: it only renders the registry,
so it needs no event loop. The main port then has no /metrics route (service/main.py).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, start_http_server

from service.config import ConfigurationError, Settings


def serve_metrics_port(settings: Settings, registry: CollectorRegistry) -> None:
    """Starts the metrics server on settings.metrics_port (a daemon thread), or does nothing when it is 0."""
    if not settings.metrics_port:
        return
    if settings.metrics_port == settings.port:
        raise ConfigurationError("ROUTED_VAE_METRICS_PORT must differ from ROUTED_VAE_PORT")
    try:
        start_http_server(settings.metrics_port, addr=settings.host, registry=registry)
    except OSError as error:
        raise ConfigurationError(f"cannot serve metrics on port {settings.metrics_port}: {error}") from error
