"""Prometheus metrics, on a registry per app so that tests can build many apps."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = self.counter(
            "routed_vae_requests", "HTTP requests by endpoint and status", "endpoint", "method", "status"
        )
        self.latency = self.histogram(
            "routed_vae_request_duration_seconds", "request latency by endpoint", "endpoint", LATENCY_BUCKETS
        )
        self.images = self.counter("routed_vae_images", "images or latents processed by endpoint", "endpoint")
        self.request_batch = self.histogram(
            "routed_vae_request_batch_size", "images or latents per request", "endpoint", BATCH_BUCKETS
        )
        self.model_batch = self.histogram(
            "routed_vae_model_batch_size", "rows per model call after micro-batching", "operation", BATCH_BUCKETS
        )
        self.in_flight = Gauge(
            "routed_vae_in_flight_requests", "inference requests being served", registry=self.registry
        )
        self.rejected = self.counter("routed_vae_overload_rejections", "requests answered 503 because of overload")
        self.rate_limited = self.counter(
            "routed_vae_rate_limited", "requests answered 429 because their client was over its rate limit"
        )
        self.model_info = Info("routed_vae_model", "the loaded model", registry=self.registry)

    def counter(self, name: str, documentation: str, *labels: str) -> Counter:
        """A counter on this app's registry."""
        return Counter(name, documentation, labels, registry=self.registry)

    def histogram(self, name: str, documentation: str, label: str, buckets: tuple[float, ...]) -> Histogram:
        """A histogram with one label on this app's registry."""
        return Histogram(name, documentation, [label], buckets=buckets, registry=self.registry)

    def set_model(self, card: dict[str, Any]) -> None:
        metrics = card.get("test_metrics", {})
        self.model_info.info(
            {
                "name": str(card.get("name", "")),
                "version": str(card.get("version", "")),
                "sha256": str(card.get("sha256", "")),
                "test_accuracy": f"{metrics.get('argmax_accuracy', 0):.4f}",
            }
        )
