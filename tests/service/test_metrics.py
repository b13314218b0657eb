"""service/metrics.py: labelled children are kept, and what is counted through them is what is exposed."""

from __future__ import annotations

from service.metrics import Metrics


def test_a_kept_child_counts_into_the_exposed_series_and_other_labels_stay_apart() -> None:
    metrics = Metrics()
    for _ in range(3):
        metrics.labelled(metrics.requests, "/classify", "POST", "200").inc()
    metrics.labelled(metrics.requests, "/classify", "POST", "422").inc()
    metrics.labelled(metrics.latency, "/classify").observe(0.004)
    metrics.labelled(metrics.latency, "/classify").observe(0.02)
    text = metrics.exposition().decode()
    assert 'routed_vae_requests_total{endpoint="/classify",method="POST",status="200"} 3.0' in text
    assert 'routed_vae_requests_total{endpoint="/classify",method="POST",status="422"} 1.0' in text
    assert 'routed_vae_request_duration_seconds_count{endpoint="/classify"} 2.0' in text
    assert 'routed_vae_request_duration_seconds_bucket{endpoint="/classify",le="0.005"} 1.0' in text


def test_the_same_labels_give_the_same_child_as_prometheus_client() -> None:
    metrics = Metrics()
    child = metrics.labelled(metrics.images, "/encode")
    assert metrics.labelled(metrics.images, "/encode") is child is metrics.images.labels("/encode")
    assert metrics.labelled(metrics.request_batch, "/encode") is not child  # another metric, same label value
