"""Prometheus metrics, on a registry per app so that tests can build many apps."""

from __future__ import annotations

import os
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # where prometheus-client's workers keep their values
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
MetricT = TypeVar("MetricT", Counter, Histogram)


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
            "routed_vae_in_flight_requests",
            "inference requests being served",
            registry=self.registry,
            multiprocess_mode="livesum",  # with several workers: the sum over the live ones
        )
        self.rejected = self.counter("routed_vae_overload_rejections", "requests answered 503 because of overload")
        self.rate_limited = self.counter(
            "routed_vae_rate_limited", "requests answered 429 because their client was over its rate limit"
        )
        # prometheus-client's multiprocess mode has no Info: every worker loads the same model, so each shows
        # its own, from a registry of its own as well.
        self.model_info = Info("routed_vae_model", "the loaded model", registry=self.registry)
        self.own_registry = CollectorRegistry()
        self.own_registry.register(self.model_info)
        self.children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def labelled(self, metric: MetricT, *values: str) -> MetricT:
        """``metric.labels(*values)``, kept: prometheus-client checks the values and takes a lock on every call
        (2-3 µs, five times per request); a dictionary lookup is 0.6. Label values are bounded (endpoint
        templates, methods, statuses, operations), so the dictionary is too."""
        key = (id(metric), values)
        child = self.children.get(key)
        if child is None:
            child = self.children[key] = metric.labels(*values)
        return child

    def counter(self, name: str, documentation: str, *labels: str) -> Counter:
        """A counter on this app's registry."""
        return Counter(name, documentation, labels, registry=self.registry)

    def histogram(self, name: str, documentation: str, label: str, buckets: tuple[float, ...]) -> Histogram:
        """A histogram with one label on this app's registry."""
        return Histogram(name, documentation, [label], buckets=buckets, registry=self.registry)

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format. With several workers (prometheus-client's multiprocess mode,
        PROMETHEUS_MULTIPROC_DIR set by the supervisor), every worker's values merged: counters and histograms
        summed, the in-flight gauge summed over the live workers."""
        if MULTIPROCESS_DIR not in os.environ:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)
        return generate_latest(merged) + generate_latest(self.own_registry)

    def set_model(self, card: dict[str, Any]) -> None:
        self.model_info.info(model_labels(card))


def model_labels(card: dict[str, Any]) -> dict[str, str]:
    """The model info metric's labels, from the model's card."""
    metrics = card.get("test_metrics", {})
    return {
        "name": str(card.get("name", "")),
        "version": str(card.get("version", "")),
        "sha256": str(card.get("sha256", "")),
        "test_accuracy": f"{metrics.get('argmax_accuracy', 0):.4f}",
    }


def merged_registry(card: dict[str, Any] | None) -> CollectorRegistry:
    """Every worker's metrics merged (prometheus-client's multiprocess mode), and the model info from its card
    (when readable), for a metrics port served by the supervisor of several workers."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    if card is not None:
        Info("routed_vae_model", "the loaded model", registry=registry).info(model_labels(card))
    return registry
